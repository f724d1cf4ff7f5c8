import pytest
import torch
import torch.nn.functional as F

from fastseq.fused import FusedProjectionCrossEntropy, FusedProjectionLoss, fused_loss
from fastseq.losses import MaskedCrossEntropy, Seq2SeqLoss


@pytest.mark.parametrize('eps', [0., 0.1])
@pytest.mark.parametrize('bias', [True, False])
def test_the_loss_fused_with_the_projection_is_the_loss_of_its_logits(eps, bias):
    """FusedProjectionCrossEntropy over chunks (three of 5 rows and a partial one): the value and the gradients of
    hidden, weight and bias of MaskedCrossEntropy on `F.linear`'s logits; pads add nothing; gradcheck passes."""
    torch.manual_seed(0)
    hidden = torch.randn(17, 6, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(11, 6, dtype=torch.float64, requires_grad=True)
    b = torch.randn(11, dtype=torch.float64, requires_grad=True) if bias else None
    targ = torch.randint(2, 11, (17,)); targ[[3, 9, 16]] = 1
    params = [p for p in (hidden, weight, b) if p is not None]
    fused = FusedProjectionCrossEntropy.apply(hidden, weight, b, targ, 1, eps, None, 5)
    fused_grads = torch.autograd.grad(3 * fused, params)
    plain = MaskedCrossEntropy.apply(F.linear(hidden, weight, b), targ, 1, eps)
    plain_grads = torch.autograd.grad(3 * plain, params)
    torch.testing.assert_close(fused, plain)
    for ours, ref in zip(fused_grads, plain_grads): torch.testing.assert_close(ours, ref)
    assert not fused_grads[0][[3, 9, 16]].any()
    assert torch.autograd.gradcheck(
        lambda h, w, *bb: FusedProjectionCrossEntropy.apply(h, w, bb[0] if bb else None, targ, 1, eps, None, 5),
        tuple(params))


def test_the_fused_loss_runs_its_products_in_bf16_when_asked_and_skips_gradients_nobody_needs():
    """dtype=bf16: the fp32 value to bf16's precision, not bit for bit; a weight that needs no gradient and a call under
    no_grad compute none and give the same value."""
    torch.manual_seed(0)
    hidden, weight = torch.randn(40, 32, requires_grad=True), torch.randn(50, 32) * 0.3
    targ = torch.randint(2, 50, (40,))
    fp32 = FusedProjectionCrossEntropy.apply(hidden, weight, None, targ, 1, 0., None, 16)
    bf16 = FusedProjectionCrossEntropy.apply(hidden, weight, None, targ, 1, 0., torch.bfloat16, 16)
    assert bf16.dtype == torch.float32 and 0 < abs(bf16.item() - fp32.item()) < 0.05
    (g,) = torch.autograd.grad(bf16, [hidden])
    torch.testing.assert_close(g, torch.autograd.grad(fp32, [hidden])[0], atol=2e-3, rtol=0.05)
    with torch.no_grad():
        torch.testing.assert_close(FusedProjectionCrossEntropy.apply(hidden, weight, None, targ, 1, 0., None, 16), fp32)


def test_fused_loss_is_that_of_the_logits_under_the_learners_loss():
    "`fused_loss` of step outputs: `Seq2SeqLoss` of their logits (padding, smoothing); under no_grad, plain CE."
    from torch import nn
    torch.manual_seed(0)
    out, hidden = nn.Linear(8, 13), torch.randn(3, 4, 8, requires_grad=True)
    targ = torch.tensor([[2, 4, 1, 1], [3, 6, 5, 1], [7, 8, 9, 10]])
    loss_func = Seq2SeqLoss(1, smoothing=0.1)
    torch.testing.assert_close(fused_loss(loss_func, out, hidden, targ), loss_func(out(hidden), targ))
    with torch.no_grad():
        torch.testing.assert_close(fused_loss(loss_func, out, hidden, targ),
                                   F.cross_entropy(out(hidden).flatten(0, 1), targ.flatten(), ignore_index=1))
    short = torch.tensor([[2, 4, 1], [3, 6, 5], [7, 8, 9]])      # other lengths: the logits path aligns them
    torch.testing.assert_close(fused_loss(loss_func, out, hidden, short), loss_func(out(hidden), short))


@pytest.mark.parametrize('tie', [True, False])
def test_the_loss_fused_with_the_projection_trains_as_the_logits_do(tie):
    """A training forward with `project=False` gives the step outputs; with the same random draws (dropout, the forcing
    plan) `fused_loss` of them gives the loss and every gradient of the logits path."""
    import random
    from fastseq.model import Seq2SeqRNN
    torch.manual_seed(0)
    m = Seq2SeqRNN.from_sizes(30, 20, emb_sz_src=16, emb_sz_tgt=12, n_hid_enc=10, n_hid_dec=12, att_sz=8, bidir=True,
                              tie=tie)
    src, tgt = torch.randint(4, 30, (4, 7)), torch.randint(4, 20, (4, 5))
    src[1, 3:] = 1; src[3, 1:] = 1
    tgt[2, 3:] = 1
    m.train(); m.pr_force = 0.5
    loss_func = Seq2SeqLoss(1, smoothing=0.1)

    def loss_and_grads(fused):
        torch.manual_seed(1); random.seed(1); m.zero_grad()
        pred = m(src, tgt, project=not fused)
        assert pred.shape == (4, 5, m.config.n_hid_dec if fused else 20)
        loss = fused_loss(loss_func, m.decoder.out, pred, tgt) if fused else loss_func(pred, tgt)
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in m.named_parameters()}

    (plain, plain_grads), (fused, fused_grads) = loss_and_grads(False), loss_and_grads(True)
    torch.testing.assert_close(fused, plain)
    assert plain_grads.keys() == fused_grads.keys()
    for name in plain_grads: torch.testing.assert_close(fused_grads[name], plain_grads[name], msg=name)


def test_the_fused_callback_trains_on_step_outputs_and_restores_the_loss_however_the_fit_ends(small_dls, tiny_arch,
                                                                                              tmp_path):
    """`FusedProjectionLoss`: training batches reach the loss as step outputs (bs, tl, n_hid), validation batches as
    logits; the learner's own loss is back after the fit, also when a callback stops it with an exception."""
    from fastai.callback.core import Callback
    from fastseq.learner import seq2seq_learner

    class Spy(Callback):
        order = 20
        def before_fit(self): self.seen = set()
        def after_loss(self): self.seen.add((self.training, self.pred.shape[-1]))

    class Boom(Callback):
        def after_loss(self):
            if self.training and self.iter == 1: raise RuntimeError('boom')

    learn = seq2seq_learner(small_dls, path=tmp_path, metrics=[], **tiny_arch)
    loss_func, spy = learn.loss_func, Spy()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=[FusedProjectionLoss(None), spy])
    assert spy.seen == {(True, learn.model.config.n_hid_dec), (False, learn.model.config.tgt_vocab)}
    assert learn.loss_func is loss_func
    with pytest.raises(RuntimeError, match='boom'), learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-3, cbs=[FusedProjectionLoss(None), Boom()])
    assert learn.loss_func is loss_func
