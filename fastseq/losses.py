"""The training loss: cross-entropy over target tokens with padding ignored and label smoothing, with a cheaper
backward (`MaskedCrossEntropy`). `fastseq.fused` fuses it with the vocabulary projection."""
import torch
import torch.nn.functional as F
from fastai.callback.core import Callback
from fastai.losses import CrossEntropyLossFlat
from fastai.torch_core import get_model

__all__ = ['align_lengths', 'smoothed_nll', 'MaskedCrossEntropy', 'Seq2SeqLoss', 'StepOutputLoss']


def align_lengths(pred, targ, pad_idx):
    "Pad pred (bs, pl, V) with zero logits or targ (bs, tl) with pad so both have the same length."
    pl, tl = pred.shape[1], targ.shape[1]
    if pl < tl: pred = F.pad(pred, (0, 0, 0, tl - pl))
    if tl < pl: targ = F.pad(targ, (0, pl - tl), value=pad_idx)
    return pred, targ


def smoothed_nll(logp, targ, eps):
    "Per-row loss of log-probabilities (N, V) at targets (N,), label smoothing `eps` as in PyTorch."
    nll = -logp.gather(1, targ[:, None]).squeeze(1)
    return (1 - eps) * nll - eps * logp.mean(1) if eps else nll


class MaskedCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy over the rows of logits (N, V) whose target is not `pad_idx`, with label smoothing `eps`
    (PyTorch's definition: (1 − eps) of the target's loss plus eps of the mean loss over the vocabulary). Its backward
    turns the saved log-probabilities into softmax − smoothed one-hot in one buffer, in place, where autograd's
    log_softmax + nll would build a zero-filled (N, V) gradient and run log_softmax's own backward."""
    @staticmethod
    def forward(ctx, logits, targ, pad_idx, eps=0.):
        mask = targ != pad_idx
        safe, n = targ.masked_fill(~mask, 0), mask.sum().clamp(min=1)
        logp = torch.log_softmax(logits, 1)                                        # (N, V)
        ctx.save_for_backward(logp, safe, mask, n)
        ctx.eps = eps
        return (smoothed_nll(logp, safe, eps) * mask).sum() / n

    @staticmethod
    def backward(ctx, grad):
        logp, safe, mask, n = ctx.saved_tensors
        eps = ctx.eps
        scale = (grad / n) * mask                                                  # (N,)
        g = logp.exp()
        if eps: g.sub_(eps / logp.shape[1])
        g.mul_(scale[:, None])
        return g.scatter_add_(1, safe[:, None], -(1 - eps) * scale[:, None]), None, None, None


class Seq2SeqLoss(CrossEntropyLossFlat):
    """fastai's `CrossEntropyLossFlat` over target tokens with padding ignored (mean over real tokens), computed in
    fp32, after aligning the lengths of pred (bs, pl, V) and targ (bs, tl); the mean runs through
    `MaskedCrossEntropy` (the same value, a cheaper backward). `smoothing` (label smoothing) applies only where a
    gradient is taken: validation, under `no_grad`, reports the plain cross-entropy, comparable across recipes."""
    def __init__(self, pad_idx=1, reduction='mean', smoothing=0.):
        if not 0 <= smoothing < 1: raise ValueError(f"label smoothing must be in [0, 1), got {smoothing!r}")
        super().__init__(ignore_index=pad_idx, reduction=reduction)
        self.pad_idx, self.smoothing = pad_idx, smoothing

    def __call__(self, pred, targ):
        pred, targ = align_lengths(pred, targ, self.pad_idx)
        if self.func.reduction != 'mean': return super().__call__(pred.float(), targ)
        return MaskedCrossEntropy.apply(pred.float().flatten(0, 1), targ.flatten(), self.pad_idx, self.eps_for(pred))

    def eps_for(self, pred):
        "The label smoothing of a loss on `pred`: `smoothing` where a gradient will be taken, else 0 (plain CE)."
        return self.smoothing if torch.is_grad_enabled() and pred.requires_grad else 0.


class StepOutputLoss(Callback):
    """The base of a training loss that projects itself: for the training phase it swaps the learner's loss for its
    own `loss(hidden, targ)` (as fastai's `MixUp` swaps its own) and asks the model for step outputs instead of logits
    (`project=False` as the batch's fifth input, so the call still passes through `DistributedDataParallel`); the
    learner's loss (`learners_loss` meanwhile) is back for validation and however the fit ends."""
    run_valid = False
    def __init__(self): self.swapped = None
    def before_train(self):
        self.swapped, self.learners_loss, self.learn.loss_func = self.learn, self.learn.loss_func, self.loss
    def before_batch(self):
        src, tgt, src_lens = self.xb
        self.learn.xb = (src, tgt, src_lens, None, False)      # forward(src, tgt, src_lens, pr_force, project)
    def loss(self, hidden, targ): raise NotImplementedError
    @property
    def projection(self): return get_model(self.learn.model).decoder.out     # the vocabulary projection it computes
    def after_train(self): self.close_context()
    def after_fit(self): self.close_context()
    def close_context(self):
        "Give the learner its loss back (kept as `swapped`: after a fit fastai detaches the callback from it)."
        if self.swapped is not None: self.swapped.loss_func, self.swapped = self.learners_loss, None
