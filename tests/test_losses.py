import math

import pytest
import torch
import torch.nn.functional as F

from fastseq.losses import MaskedCrossEntropy, Seq2SeqLoss, align_lengths


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
