"""`fastseq bench` runs end to end and reports its figures under the documented names (never a timed assertion)."""
import json

from fastseq.bench import train_flops_per_token
from fastseq.cli import main
from fastseq.model import Seq2SeqConfig

FIELDS = ['train.tgt_tok_per_s', 'train.src_tok_per_s', 'train.peak_rss_mb', 'train.params', 'train.mfu',
          'decode.greedy_sent_per_s', 'decode.beam5_sent_per_s', 'data.pairs_per_s', 'device', 'threads']


def _get(d, dotted):
    for key in dotted.split('.'): d = d[key]
    return d


def test_bench_json_has_the_documented_fields(capsys):
    assert main(['bench', '--json', '--n-pairs', '1500', '--seconds', '6']) == 0
    result = json.loads(capsys.readouterr().out)
    for name in FIELDS: assert _get(result, name) is not None, name
    assert result['threads'] >= 1 and result['train']['batches'] > 10
    assert 0 < result['train']['mfu'] < 1.5
    assert result['decode']['sentences'] == 150      # the 10% validation split of 1,500 pairs
    assert result['train']['params'] > 1e6           # the lesson preset, not a toy model


def test_flops_per_token_follow_the_shapes():
    "The vocabulary projection dominates: doubling the target vocabulary adds 6·n_hid_dec·V FLOPs per token."
    small, big = Seq2SeqConfig(1000, 5000), Seq2SeqConfig(1000, 10000)
    assert train_flops_per_token(big) - train_flops_per_token(small) == 6 * 300 * 5000
    assert train_flops_per_token(Seq2SeqConfig(1000, 5000, bidir=True)) > train_flops_per_token(small)


def test_bf16_autocast_runs_forward_and_loss_in_bf16_and_the_step_in_fp32(small_dls, tiny_arch, tmp_path):
    "The Autocast callback: logits come out in bf16, the loss is computed in fp32, the weights stay fp32."
    import torch
    from fastai.callback.core import Callback
    from fastseq.callbacks import Autocast
    from fastseq.learner import seq2seq_learner

    class Dtypes(Callback):
        order = 20
        def before_fit(self): self.seen = []
        def after_loss(self): self.seen.append((self.pred.dtype, self.loss_grad.dtype))

    spy = Dtypes()
    learn = seq2seq_learner(small_dls, path=tmp_path, metrics=[], **tiny_arch)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=[Autocast(), spy])
    assert spy.seen and all(p == torch.bfloat16 and l == torch.float32 for p, l in spy.seen)
    assert all(p.dtype == torch.float32 for p in learn.model.parameters())
