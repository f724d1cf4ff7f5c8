"""The vocabulary projection fused with the training loss, an opt-in piece (`precision_callbacks` takes it for bf16 on
a CPU, where it measured faster; in fp32 it did not: docs/performance.md). Training batches stop the model before the
projection (`forward(..., project=False)`) and `FusedProjectionCrossEntropy` projects and scores the step outputs
chunk by chunk, with no (bs, tl, vocab) fp32 logits in memory; validation builds logits, which its metrics read."""
import torch

from .losses import StepOutputLoss, smoothed_nll

__all__ = ['FusedProjectionCrossEntropy', 'fused_loss', 'FusedProjectionLoss']


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
            nll[s:s + chunk] = smoothed_nll(logp, safe[s:s + chunk], eps)
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


def fused_loss(loss_func, out, hidden, targ, dtype=None):
    """`loss_func` (a `Seq2SeqLoss`: padding, label smoothing) of the logits `out(hidden)`, computed fused with that
    projection, its products in `dtype` (None: the weight's); other lengths or reductions build the logits."""
    if hidden.shape[1] != targ.shape[1] or loss_func.func.reduction != 'mean': return loss_func(out(hidden), targ)
    return FusedProjectionCrossEntropy.apply(hidden.flatten(0, 1), out.weight, out.bias, targ.flatten(),
                                             loss_func.pad_idx, loss_func.eps_for(hidden), dtype)


class FusedProjectionLoss(StepOutputLoss):
    """Trains with `fused_loss`, the projection's products in `dtype` (None: the weight's): the learner's loss, restored
    for validation and however the fit ends, gives padding and smoothing."""
    def __init__(self, dtype=torch.bfloat16): super().__init__(); self.dtype = dtype
    def loss(self, hidden, targ):
        return fused_loss(self.learners_loss, self.projection, hidden, targ, self.dtype)
