"""Data-parallel training for real: two processes on CPU over gloo, launched by torchrun or `accelerate launch`."""
import os
import subprocess
import sys
import textwrap

import pytest
import torch

WORKER = textwrap.dedent('''
    import sys, torch
    from fastai.torch_core import rank_distrib, set_seed
    from fastseq.callbacks import TeacherForcing
    from fastseq.data import Seq2SeqDataLoaders
    from fastseq.datasets import phrasebook
    from fastseq.distributed import distributed
    from fastseq.learner import seq2seq_learner
    set_seed(0)
    dls = Seq2SeqDataLoaders.from_df(phrasebook(400, seed=1), bs=32, seed=0, device='cpu', verbose=False)
    learn = seq2seq_learner(dls, emb_sz_src=32, emb_sz_tgt=32, n_hid_enc=16, n_hid_dec=32, att_sz=16, bidir=True)
    before = {k: v.clone() for k, v in learn.model.state_dict().items()}
    with learn.no_bar(), learn.no_logging(), distributed(learn): learn.fit(1, 3e-3, cbs=TeacherForcing(1., 0.5))
    state = learn.model.state_dict()
    assert type(learn.model).__name__ == 'Seq2SeqRNN' and not any(k.startswith('module.') for k in state)
    assert any(not torch.equal(before[k], v) for k, v in state.items())          # it trained
    train_batches, log = learn.train_iter, list(learn.recorder.log)        # before validate() resets them
    alone = learn.validate()                    # one process, the whole validation set, the final weights
    torch.save({'state': state, 'alone': list(alone), 'train_batches': train_batches, 'n_train': len(dls.train_ds),
                'log': log},
               f"{sys.argv[1]}/rank{rank_distrib()}.pt")
''')


LAUNCHERS = {  # two processes each; accelerate's --multi_gpu is torchrun underneath and runs on CPUs too
    'torchrun': ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2'],
    'accelerate': ['-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1',
                   '--mixed_precision', 'no', '--dynamo_backend', 'no', '--main_process_port', '29517']}


def torchrun(*args, cwd=None, launcher='torchrun'):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([sys.executable, *LAUNCHERS[launcher], *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


def test_two_processes_end_with_identical_weights_each_seeing_half_the_batches(tmp_path):
    "Under `accelerate launch`, which runs torchrun underneath (the next test runs torchrun itself)."
    (tmp_path / 'worker.py').write_text(WORKER)
    r = torchrun(str(tmp_path / 'worker.py'), str(tmp_path), launcher='accelerate')
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = (torch.load(tmp_path / f'rank{i}.pt', weights_only=False) for i in (0, 1))
    assert all(torch.equal(a['state'][k], b['state'][k]) for k in a['state'])
    half = -(-a['n_train'] // 2)                                # each process trains on its half of the epoch
    assert a['train_batches'] == b['train_batches'] == half // 32 > 4       # batches of 32, the last one dropped
    assert a['log'][1:-1] == b['log'][1:-1]        # every process reports the same epoch line (but its time)
    loss, acc, ppl = a['alone'][:3]                             # ... and it covers the whole validation set
    assert a['log'][3] == pytest.approx(acc, abs=1e-9) and a['log'][4] == pytest.approx(ppl, rel=1e-4)
    assert a['log'][2] == pytest.approx(loss, rel=1e-3)


def test_cli_train_under_torchrun_writes_once_and_reports_once(tmp_path, small_df):
    "From a stream cache that process 0 builds while process 1 waits; one export, one report."
    for lang in ('fr', 'en'): (tmp_path / f'c.{lang}').write_text('\n'.join(small_df[lang]) + '\n', encoding='utf-8')
    out = tmp_path / 'm.pkl'
    r = torchrun('-m', 'fastseq.cli', 'train', '--data', str(tmp_path / 'c.fr'), '--data-tgt', str(tmp_path / 'c.en'),
                 '--stream-cache', str(tmp_path / 'cache'), '--workers', '0', '--epochs', '2', '--bs', '32',
                 '--emb-sz-src', '32', '--emb-sz-tgt', '32', '--n-hid-enc', '16', '--lr', '3e-3',
                 '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert sum(line.startswith('exported to') for line in lines) == 1 and out.is_file()
    assert sum(line.startswith('fastseq cache:') for line in lines) == 1
    assert (tmp_path / 'cache' / 'cache.json').is_file()
    assert sum(line.split()[:1] == ['epoch'] for line in lines) == 1 and sum(line.startswith('trained for') for
                                                                             line in lines) == 1


def test_a_launched_process_refuses_lr_auto(tmp_path, monkeypatch):
    "Checked before any data is read: each process would choose its own learning rate."
    from conftest import call
    monkeypatch.setenv('WORLD_SIZE', '2')
    r = call('train', '--n-pairs', '400', '--lr', 'auto', '--out', tmp_path / 'm.pkl')
    assert r.returncode == 2 and '--lr must be a number' in r.stderr
