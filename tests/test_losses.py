import math

import pytest
import torch
import torch.nn.functional as F

from fastseq.losses import FusedProjectionCrossEntropy, MaskedCrossEntropy, Seq2SeqLoss, align_lengths


def test_loss_ignores_padding():
    pred = torch.randn(2, 3, 5)
    targ = torch.tensor([[2, 4, 1], [3, 1, 1]])
    expected = F.cross_entropy(torch.stack([pred[0, 0], pred[0, 1], pred[1, 0]]), torch.tensor([2, 4, 3]))
    assert torch.allclose(Seq2SeqLoss(1)(pred, targ), expected)
    pred2 = pred.clone(); pred2[0, 2] = 100.; pred2[1, 1:] = -100.   # what is predicted at pad positions is free
    assert torch.allclose(Seq2SeqLoss(1)(pred2, targ), expected)


def test_the_loss_gradient_is_cross_entropys():
    "MaskedCrossEntropy's hand-written backward: the same gradient as autograd through F.cross_entropy, pads zero."
    pred = torch.randn(3, 4, 7, dtype=torch.float64, requires_grad=True)
    targ = torch.tensor([[2, 4, 1, 1], [3, 6, 5, 1], [1, 1, 1, 1]])
    Seq2SeqLoss(1)(pred, targ).backward(torch.tensor(2.))
    ours, pred.grad = pred.grad, None
    (2 * F.cross_entropy(pred.flatten(0, 1), targ.flatten(), ignore_index=1)).backward()
    assert torch.allclose(ours, pred.grad, atol=1e-6) and not ours[2].any()
    flat = pred.detach().flatten(0, 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda p: MaskedCrossEntropy.apply(p, targ.flatten(), 1), (flat,))


def test_label_smoothing_trains_on_pytorchs_smoothed_loss_and_validates_on_plain_cross_entropy():
    "With smoothing 0.1: value and gradient are F.cross_entropy(label_smoothing=0.1)'s; under no_grad, plain CE."
    pred = torch.randn(3, 4, 7, requires_grad=True)
    targ = torch.tensor([[2, 4, 1, 1], [3, 6, 5, 1], [1, 1, 1, 1]])
    loss_func = Seq2SeqLoss(1, smoothing=0.1)
    ours = loss_func(pred, targ)
    ours.backward()
    ours_grad, pred.grad = pred.grad, None
    ref = F.cross_entropy(pred.flatten(0, 1), targ.flatten(), ignore_index=1, label_smoothing=0.1)
    ref.backward()
    assert torch.allclose(ours, ref) and torch.allclose(ours_grad, pred.grad, atol=1e-6) and not ours_grad[2].any()
    assert not torch.allclose(ref, F.cross_entropy(pred.flatten(0, 1), targ.flatten(), ignore_index=1))
    with torch.no_grad(): valid = loss_func(pred, targ)
    assert torch.allclose(valid, F.cross_entropy(pred.detach().flatten(0, 1), targ.flatten(), ignore_index=1))
    flat = pred.detach().double().flatten(0, 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda p: MaskedCrossEntropy.apply(p, targ.flatten(), 1, 0.2), (flat,))
    with pytest.raises(ValueError, match='label smoothing must be in'): Seq2SeqLoss(1, smoothing=1.5)


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


def test_seq2seq_loss_of_decoder_outputs_is_that_of_their_logits():
    "Seq2SeqLoss on `DecoderOutputs` scores the projection of the hidden outputs; under no_grad, plain CE."
    from torch import nn
    from fastseq.model import DecoderOutputs
    torch.manual_seed(0)
    out, hidden = nn.Linear(8, 13), torch.randn(3, 4, 8, requires_grad=True)
    targ = torch.tensor([[2, 4, 1, 1], [3, 6, 5, 1], [7, 8, 9, 10]])
    loss_func = Seq2SeqLoss(1, smoothing=0.1)
    torch.testing.assert_close(loss_func(DecoderOutputs(hidden, out), targ), loss_func(out(hidden), targ))
    with torch.no_grad():
        torch.testing.assert_close(loss_func(DecoderOutputs(hidden, out), targ),
                                   F.cross_entropy(out(hidden).flatten(0, 1), targ.flatten(), ignore_index=1))
    short = torch.tensor([[2, 4, 1], [3, 6, 5], [7, 8, 9]])      # other lengths: the logits path aligns them
    torch.testing.assert_close(loss_func(DecoderOutputs(hidden, out), short), loss_func(out(hidden), short))


def test_length_mismatch_both_ways():
    pred, targ = torch.randn(2, 2, 5), torch.tensor([[2, 4, 3], [3, 1, 1]])
    p, t = align_lengths(pred, targ, 1)
    assert p.shape == (2, 3, 5) and (p[:, 2] == 0).all()
    loss = Seq2SeqLoss(1)(pred, targ)   # the missing step costs log(V) (uniform prediction)
    first = F.cross_entropy(pred[0], targ[0, :2], reduction='sum')
    manual = (first + math.log(5) + F.cross_entropy(pred[1, :1], targ[1, :1])) / 4
    assert torch.allclose(loss, manual)
    p, t = align_lengths(torch.randn(1, 4, 5), torch.tensor([[2, 3]]), 1)
    assert t.tolist() == [[2, 3, 1, 1]]
