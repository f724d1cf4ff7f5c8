"""The training loss: cross-entropy over target tokens with padding ignored and label smoothing, its cheaper backward
(`MaskedCrossEntropy`), and, for bf16 on a CPU, the vocabulary projection fused with it (`FusedProjectionCrossEntropy`:
no fp32 logits in memory)."""
import torch
import torch.nn.functional as F
from fastai.losses import CrossEntropyLossFlat

from .model import DecoderOutputs, projection_dtype

__all__ = ['align_lengths', 'MaskedCrossEntropy', 'FusedProjectionCrossEntropy', 'Seq2SeqLoss']


def align_lengths(pred, targ, pad_idx):
    "Pad pred (bs, pl, V) with zero logits or targ (bs, tl) with pad so both have the same length."
    pl, tl = pred.shape[1], targ.shape[1]
    if pl < tl: pred = F.pad(pred, (0, 0, 0, tl - pl))
    if tl < pl: targ = F.pad(targ, (0, pl - tl), value=pad_idx)
    return pred, targ


def _smoothed_nll(logp, targ, eps):
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
        return (_smoothed_nll(logp, safe, eps) * mask).sum() / n

    @staticmethod
    def backward(ctx, grad):
        logp, safe, mask, n = ctx.saved_tensors
        eps = ctx.eps
        scale = (grad / n) * mask                                                  # (N,)
        g = logp.exp()
        if eps: g.sub_(eps / logp.shape[1])
        g.mul_(scale[:, None])
        return g.scatter_add_(1, safe[:, None], -(1 - eps) * scale[:, None]), None, None, None


class FusedProjectionCrossEntropy(torch.autograd.Function):
    """`MaskedCrossEntropy` of `hidden @ weight.T + bias`, its gradients computed in forward (backward only scales
    them), without fp32 logits in memory: rows pass in chunks that stay in cache from the product through bias, fp32
    log-softmax and loss to the softmax, which alone is kept, in the products' `dtype` (bf16, or None: the weight's).
    The one-hot and smoothing's uniform part of the gradient are sparse and rank-one corrections in fp32, so the
    three gradient products each run once over all rows (docs/performance.md)."""
    @staticmethod
    def forward(ctx, hidden, weight, bias, targ, pad_idx, eps=0., dtype=None, chunk=256):
        mask = targ != pad_idx
        safe, (N, V) = targ.masked_fill(~mask, 0), (hidden.shape[0], weight.shape[0])
        acc = torch.promote_types(weight.dtype, torch.float32)                  # fp32, or fp64 for gradcheck
        h, w = (hidden, weight) if dtype is None else (hidden.to(dtype), weight.to(dtype))
        sc = mask.to(acc) / mask.sum().clamp(min=1)                             # each row's weight in the mean
        probs, nll = torch.empty(N, V, dtype=w.dtype, device=w.device), torch.empty(N, dtype=acc, device=w.device)
        for s in range(0, N, chunk):
            logits = torch.mm(h[s:s + chunk], w.t())
            logits = logits.to(acc) if bias is None else logits.add_(bias) if logits.dtype == acc else logits + bias
            logp = torch.log_softmax(logits, 1)
            nll[s:s + chunk] = _smoothed_nll(logp, safe[s:s + chunk], eps)
            torch.exp(logp, out=probs[s:s + chunk])
        ctx.needs = ctx.needs_input_grad[:3]
        ctx.save_for_backward(*_fused_grads(ctx.needs, hidden, weight, h, w, probs, safe, sc, eps))
        return (nll * sc).sum()                                                 # no matmul: autocast would make it bf16

    @staticmethod
    def backward(ctx, grad):
        saved = iter(ctx.saved_tensors)
        grads = [next(saved) * grad if need else None for need in ctx.needs]
        return (*grads, None, None, None, None, None)


def _fused_grads(needs, hidden, weight, h, w, probs, targ, sc, eps):
    """The gradients `needs` asks for (of hidden, weight, bias) of Σ sc · loss, where the logits' gradient is
    (probs − eps/V − (1 − eps) one-hot) · sc: one product with `probs` each, the rest corrections in fp32."""
    acc, u, keep = sc.dtype, eps / weight.shape[0], 1 - eps
    hs = hidden.to(acc) * sc[:, None]                                           # rows weighted: (N, n_hid)
    grads = []
    if needs[0]:
        gh = torch.mm(probs, w).to(acc) - u * weight.sum(0).to(acc) - keep * weight[targ].to(acc)
        grads.append((gh * sc[:, None]).to(hidden.dtype))
    if needs[1]:
        gw = torch.mm(probs.t(), hs.to(h.dtype)).to(acc) - u * hs.sum(0)
        grads.append(gw.index_add_(0, targ, hs, alpha=-keep).to(weight.dtype))
    if needs[2]:
        gb = torch.mv(probs.t(), sc.to(probs.dtype)).to(acc) - u * sc.sum()
        grads.append(gb.index_add_(0, targ, sc, alpha=-keep))
    return grads


class Seq2SeqLoss(CrossEntropyLossFlat):
    """fastai's `CrossEntropyLossFlat` over target tokens with padding ignored (mean over real tokens), computed in
    fp32, after aligning the lengths of pred (bs, pl, V) and targ (bs, tl); the mean runs through
    `MaskedCrossEntropy` (the same value, a cheaper backward). `smoothing` (label smoothing) applies only where a
    gradient is taken: validation, under `no_grad`, reports the plain cross-entropy, comparable across recipes. A
    training forward's `DecoderOutputs` (under `ProjectionInLoss`) are projected and scored in one fused pass."""
    def __init__(self, pad_idx=1, reduction='mean', smoothing=0.):
        if not 0 <= smoothing < 1: raise ValueError(f"label smoothing must be in [0, 1), got {smoothing!r}")
        super().__init__(ignore_index=pad_idx, reduction=reduction)
        self.pad_idx, self.smoothing = pad_idx, smoothing

    def __call__(self, pred, targ):
        if isinstance(pred, DecoderOutputs): return self._fused(pred, targ)
        pred, targ = align_lengths(pred, targ, self.pad_idx)
        if self.func.reduction != 'mean': return super().__call__(pred.float(), targ)
        eps = self.smoothing if torch.is_grad_enabled() and pred.requires_grad else 0.
        return MaskedCrossEntropy.apply(pred.float().flatten(0, 1), targ.flatten(), self.pad_idx, eps)

    def _fused(self, pred, targ):
        "The loss of `DecoderOutputs`, fused with the projection; other lengths or reductions build the logits."
        hidden, out = pred
        if hidden.shape[1] != targ.shape[1] or self.func.reduction != 'mean': return self(out(hidden), targ)
        eps = self.smoothing if torch.is_grad_enabled() and hidden.requires_grad else 0.
        return FusedProjectionCrossEntropy.apply(hidden.flatten(0, 1), out.weight, out.bias, targ.flatten(),
                                                 self.pad_idx, eps, projection_dtype.get())
