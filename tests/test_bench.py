"""`fastseq bench` runs end to end and reports its figures under the documented names (never a timed assertion)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from fastseq.bench import train_flops_per_token
from fastseq.cli import main
from fastseq.model import Seq2SeqConfig

FIELDS = ['train.tgt_tok_per_s', 'train.src_tok_per_s', 'train.peak_rss_mb', 'train.params', 'train.mfu',
          'decode.greedy_sent_per_s', 'decode.beam5_sent_per_s', 'data.pairs_per_s', 'device', 'threads']


def _get(d, dotted):
    for key in dotted.split('.'): d = d[key]
    return d


def test_bench_json_has_the_documented_fields(capsys):
    assert main(['bench', '--json', '--n-pairs', '1000', '--seconds', '6']) == 0
    result = json.loads(capsys.readouterr().out)
    for name in FIELDS: assert _get(result, name) is not None, name
    assert result['threads'] >= 1 and result['train']['batches'] > 10
    assert 0 < result['train']['mfu'] < 1.5
    assert 70 < result['decode']['sentences'] < 130  # the 10% validation split of 1,000 pairs
    assert result['train']['params'] > 1e6           # the lesson preset, not a toy model


def test_flops_per_token_follow_the_shapes():
    "The vocabulary projection dominates: doubling the target vocabulary adds 6·n_hid_dec·V FLOPs per token."
    small, big = Seq2SeqConfig(1000, 5000), Seq2SeqConfig(1000, 10000)
    assert train_flops_per_token(big) - train_flops_per_token(small) == 6 * 300 * 5000
    assert train_flops_per_token(Seq2SeqConfig(1000, 5000, bidir=True)) > train_flops_per_token(small)


@pytest.mark.parametrize('scope', ['all', 'projection'])
def test_bf16_runs_products_in_bf16_and_the_grus_their_states_loss_and_step_in_fp32(small_dls, tiny_arch, tmp_path,
                                                                                    scope):
    """Autocast (GPUs): every product but the GRUs' in bf16; bf16 on a CPU: the vocabulary projection alone, fused with
    the loss in training (its hidden input fp32). Logits come out in bf16; GRU inputs, outputs and states, the loss
    and the weights in fp32; decoding after, fp32."""
    import torch
    from fastai.callback.core import Callback
    from fastseq.learner import seq2seq_learner
    from fastseq.precision import Autocast, precision_callbacks

    class Dtypes(Callback):
        order = 20
        def before_fit(self): self.seen = []
        def after_loss(self):
            fused = self.pred.shape[-1] != self.model.config.tgt_vocab    # step outputs: FusedProjectionLoss
            self.seen.append((self.training, fused, self.pred.dtype, self.loss_grad.dtype))

    spy, rnn_dtypes, mix_dtypes = Dtypes(), set(), set()
    learn = seq2seq_learner(small_dls, path=tmp_path, metrics=[], **tiny_arch)
    for rnn in (learn.model.encoder.rnn, learn.model.decoder.rnn):
        rnn.register_forward_hook(lambda m, args, out: rnn_dtypes.update(
            {t.dtype for t in (*args, *out) if isinstance(t, torch.Tensor)}))
    learn.model.decoder.mix.register_forward_hook(lambda m, args, out: mix_dtypes.add(out.dtype))
    callbacks = [Autocast()] if scope == 'all' else precision_callbacks('bf16', 'cpu')
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=[*callbacks, spy])
    assert {(t, f) for t, f, _, _ in spy.seen} == {(True, scope == 'projection'), (False, False)}
    assert all(p == (torch.float32 if f else torch.bfloat16) and l == torch.float32 for _, f, p, l in spy.seen)
    assert rnn_dtypes == {torch.float32}
    assert mix_dtypes == {torch.bfloat16 if scope == 'all' else torch.float32}
    assert all(p.dtype == torch.float32 for p in learn.model.parameters())
    assert learn.model.projection_dtype is None
    with torch.no_grad():
        src, tgt, src_lens, _ = small_dls.one_batch()
        assert learn.model(src, tgt, src_lens).dtype == torch.float32


def test_precision_choices(monkeypatch):
    """'auto' on a CPU is a lookup of the CPU's bf16 kind and vendor in a measured table, never a timing; bf16 on a CPU
    is the projection alone; fp16 is refused off a GPU."""
    from fastseq import precision
    from fastseq.errors import OptionError
    assert precision.cpu_precision('amx', 'GenuineIntel') == 'bf16'
    assert precision.cpu_precision('avx512_bf16', 'AuthenticAMD') == 'bf16'
    assert precision.cpu_precision('avx512_bf16', 'GenuineIntel') == 'fp32'     # measured slower in bf16
    assert precision.cpu_precision(None, 'AuthenticAMD') == 'fp32'              # emulated bf16
    assert precision.cpu_precision('amx', 'GenuineIntel', n_hid=32, vocab=500) == 'fp32'   # a tiny model: not worth it
    monkeypatch.setattr(precision, 'cpu_bf16_kind', lambda: 'avx512_bf16')
    monkeypatch.setattr(precision, 'cpu_vendor', lambda: 'AuthenticAMD')
    assert [precision.resolve_precision('auto', 'cpu') for _ in range(3)] == ['bf16'] * 3
    assert precision.resolve_precision('fp32', 'cpu') == 'fp32'
    assert precision.cpu_vendor() == precision.cpu_vendor()
    assert [type(cb) for cb in precision.precision_callbacks('bf16', 'cpu')] == [precision.ProjectionAutocast,
                                                                                precision.FusedProjectionLoss]
    with pytest.raises(OptionError, match="precision 'fp16' needs a CUDA GPU"):
        precision.precision_callbacks('fp16', 'cpu')
    with pytest.raises(OptionError, match="precision must be one of auto, fp32, bf16, fp16, got 'fp8'"):
        precision.resolve_precision('fp8', 'cpu')


def test_a_process_held_to_avx2_kernels_has_no_native_bf16(monkeypatch):
    "ATEN_CPU_CAPABILITY=avx2 on an AMX machine imitates an AVX2 CPU: 'auto' must not send it to emulated bf16."
    from fastseq import precision
    monkeypatch.setattr(torch.backends.cpu, 'get_cpu_capability', lambda: 'AVX2')
    precision.cpu_bf16_kind.cache_clear()
    try: assert precision.cpu_bf16_kind() is None
    finally: precision.cpu_bf16_kind.cache_clear()


def test_gpu_check_dry_run_writes_each_step_as_it_ends_and_survives_warnings(tmp_path):
    """bench/gpu_check.py on the CPU: every Python process prints a warning on stderr (a sitecustomize), the bench
    step's figures still come through, and a check killed during the next step keeps them in its JSON; a budget too
    small for a step records it as skipped."""
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'sitecustomize.py').write_text("import sys; sys.stderr.write('FutureWarning: something on stderr\\n')\n")
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(site), os.environ.get('PYTHONPATH', '')]),
           'OUT': str(tmp_path)}
    check = [sys.executable, 'bench/gpu_check.py', '--device', 'cpu', '--quick', '--out', str(tmp_path / 'models')]
    root, result = Path(__file__).parent.parent, tmp_path / 'gpu_check.json'
    proc = subprocess.Popen(check + ['--steps', 'bench,train'], cwd=root, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not result.exists() and proc.poll() is None and time.time() - t0 < 180: time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()                    # during the training step
    summary = json.loads(result.read_text())
    assert 'train' not in summary
    (row,) = summary['bench']
    assert row['rc'] == 0 and row['tgt_tok_per_s'] > 0 and row['precision'] in ('fp32', 'bf16'), row
    r = subprocess.run(check + ['--steps', 'train,sigkill_resume', '--budget', '0.5'], cwd=root, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and 'something on stderr' in r.stderr
    assert json.loads(result.read_text())['train'] == {'skipped': 'budget'}
    assert json.loads(r.stdout.splitlines()[-1])['sigkill_resume'] == {'skipped': 'budget'}
