import math

import numpy as np
import pytest
import torch

from fastseq.losses import Seq2SeqLoss
from fastseq.pairs import PairDataset
from fastseq.lexical import frequent_targets
from fastseq.shortlist import ShortlistLoss, shortlist_loss


def _step_outputs(seed=0, bs=3, tl=4, n_hid=6, vocab=11):
    "Step outputs, a projection and targets with padding (pad 1) whose words are 3, 5 and 7 alone."
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(bs, tl, n_hid, generator=g, requires_grad=True)
    out = torch.nn.Linear(n_hid, vocab)
    with torch.no_grad(): out.weight.copy_(torch.randn(vocab, n_hid, generator=g))
    targ = torch.tensor([[3, 5, 7, 2], [5, 3, 2, 1], [7, 2, 1, 1]])
    return hidden, out, targ


@pytest.mark.parametrize('eps', [0., 0.1])
@pytest.mark.parametrize('frequent, n_sampled', [(torch.arange(11), 0), (torch.tensor([0, 4]), 4)])
def test_a_shortlist_that_reaches_every_word_is_the_full_loss(eps, frequent, n_sampled):
    """Value and gradients, label smoothing included: the shortlist changes nothing when it holds every word, by its
    frequent words or by drawing all the others (then with no correction)."""
    hidden, out, targ = _step_outputs()
    loss_func = Seq2SeqLoss(pad_idx=1, smoothing=eps)
    full = loss_func(out(hidden), targ)
    full_grads = torch.autograd.grad(full, [hidden, out.weight, out.bias])
    short = shortlist_loss(loss_func, out, hidden, targ, frequent, n_sampled)
    short_grads = torch.autograd.grad(short, [hidden, out.weight, out.bias])
    torch.testing.assert_close(short, full)
    for a, b in zip(short_grads, full_grads): torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('n_sampled', [0, 2])
def test_the_shortlist_softmax_spans_the_frequent_the_batchs_and_the_drawn_words_alone(n_sampled):
    """With frequent words {0, 4}, the batch's {1 (pad), 2, 3, 5, 7} and `n_sampled` of the other four drawn: the
    cross-entropy over those rows, the drawn ones' logits raised by log(4 / n_sampled); the rows left out get no
    gradient."""
    hidden, out, targ = _step_outputs()
    torch.manual_seed(3)
    loss = shortlist_loss(Seq2SeqLoss(pad_idx=1), out, hidden, targ, torch.tensor([0, 4]), n_sampled)
    torch.manual_seed(3)
    kept, others = torch.tensor([0, 1, 2, 3, 4, 5, 7]), torch.tensor([6, 8, 9, 10])
    drawn = others[torch.randperm(4)[:n_sampled]]
    logits = out(hidden)[..., torch.cat([kept, drawn])]
    if n_sampled: logits[..., len(kept):] += math.log(4 / n_sampled)
    logp = torch.log_softmax(logits, -1).flatten(0, 1)
    real = targ.flatten() != 1
    want = -logp[real].gather(1, torch.searchsorted(kept, targ.flatten()[real])[:, None]).mean()
    torch.testing.assert_close(loss, want)
    loss.backward()
    left_out = torch.tensor([i for i in others.tolist() if i not in drawn.tolist()])
    assert len(left_out) == 4 - n_sampled
    assert (out.weight.grad[left_out] == 0).all() and (out.bias.grad[left_out] == 0).all()
    assert (out.bias.grad[torch.cat([kept[kept != 1], drawn])] != 0).all()


def test_frequent_targets_are_the_most_counted_target_ids():
    ds = PairDataset.from_lists([[4], [4], [4]], [[6, 6, 3, 2], [6, 5, 2], [5, 9, 2]])
    assert frequent_targets(ds, 10, 3).tolist() == [2, 5, 6]
    assert frequent_targets(ds.limited()[0], 10, 1).tolist() == [2]


def test_training_in_fp32_on_a_cpu_learns_through_the_shortlist(small_dls, tiny_arch, tmp_path):
    """`precision_callbacks('fp32', 'cpu', n)` trains with `ShortlistLoss`: training batches reach the loss as step
    outputs, validation as logits over the whole vocabulary; the validation loss falls, and the learner's loss is back
    after the fit."""
    from fastai.callback.core import Callback
    from fastseq.learner import seq2seq_learner
    from fastseq.precision import precision_callbacks

    class Spy(Callback):
        order = 20
        def before_fit(self): self.seen = set()
        def after_loss(self): self.seen.add((self.training, self.pred.shape[-1]))

    cbs = precision_callbacks('fp32', 'cpu', 40)
    assert [type(cb) for cb in cbs] == [ShortlistLoss] and precision_callbacks('fp32', 'cpu', 0) == []
    torch.manual_seed(0)
    learn = seq2seq_learner(small_dls, path=tmp_path, metrics=[], **tiny_arch)
    loss_func, spy = learn.loss_func, Spy()
    before = learn.validate()[0]
    with learn.no_bar(), learn.no_logging(): learn.fit(2, 1e-2, cbs=[*cbs, spy])
    assert spy.seen == {(True, learn.model.config.n_hid_dec), (False, learn.model.config.tgt_vocab)}
    assert learn.loss_func is loss_func
    assert np.isfinite(learn.recorder.values[-1][1]) and learn.recorder.values[-1][1] < 0.85 * before


def test_a_negative_shortlist_is_refused_before_any_data_is_read():
    from fastseq.errors import OptionError
    from fastseq.training import train
    with pytest.raises(OptionError, match='shortlist must be a number of words'):
        train('no-such-file.tsv', shortlist=-5)


def test_the_training_line_names_a_shortlist_only_where_it_leaves_words_out():
    from fastseq.training import _shortlist_note
    assert '2,000 frequent target words of 9,385' in _shortlist_note([ShortlistLoss(2000)], 9385)
    assert _shortlist_note([ShortlistLoss(2000)], 375) == '' and _shortlist_note([], 9385) == ''
