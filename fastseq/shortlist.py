"""The training softmax over a shortlist of the target vocabulary: the most frequent target words of the training data,
every word of the batch's targets (Jean et al. 2015's batch vocabulary; Marian's frequent-word shortlist) and others
drawn at random (a sampled softmax), so an fp32 step projects onto a fraction of the vocabulary's rows
(docs/performance.md). Validation and metrics keep the whole vocabulary; decoding has its own shortlist
(`fastseq.lexical`)."""
import math

import torch
import torch.nn.functional as F

from .lexical import frequent_targets
from .losses import MaskedCrossEntropy, StepOutputLoss

__all__ = ['shortlist_loss', 'ShortlistLoss', 'shortlist_callback']

SAMPLED = 1000   # rows drawn per batch from the words outside the shortlist


def shortlist_loss(loss_func, out, hidden, targ, frequent, n_sampled=0):
    """`loss_func` (a `Seq2SeqLoss`: padding, label smoothing) of the step outputs `hidden` (bs, tl, n_hid) projected by
    `out` onto the rows of `frequent`, of the words in `targ` and of `n_sampled` others drawn uniformly (torch's
    generator), whose logits gain log(others / n_sampled) for the words they stand for (a sampled softmax's
    correction): without them the rare words' logits are never pushed down and decoding picks them too often."""
    if hidden.shape[1] != targ.shape[1] or loss_func.func.reduction != 'mean': return loss_func(out(hidden), targ)
    pad = targ.new_tensor([loss_func.pad_idx])
    kept = torch.unique(torch.cat([frequent.to(targ.device), targ.flatten(), pad]))        # sorted
    others = _others(out.weight.shape[0], kept)
    sampled = others[torch.randperm(len(others), device=others.device)[:n_sampled]] if n_sampled else others[:0]
    rows = torch.cat([kept, sampled])
    bias = None if out.bias is None else out.bias[rows]
    logits = F.linear(hidden.flatten(0, 1), out.weight[rows], bias).float()
    if 0 < len(sampled) < len(others): logits[:, len(kept):] += math.log(len(others) / len(sampled))
    sl_targ, sl_pad = torch.searchsorted(kept, targ.flatten()), int(torch.searchsorted(kept, pad))
    return MaskedCrossEntropy.apply(logits, sl_targ, sl_pad, loss_func.eps_for(hidden))


def _others(vocab_sz, kept):
    "The ids of a vocabulary of `vocab_sz` not in `kept`."
    outside = torch.ones(vocab_sz, dtype=torch.bool, device=kept.device)
    outside[kept] = False
    return outside.nonzero().squeeze(1)


class ShortlistLoss(StepOutputLoss):
    """Trains with `shortlist_loss` over the `n_frequent` most frequent target words of the training data, each batch's
    and `n_sampled` others; validation keeps the learner's loss over the whole vocabulary."""
    def __init__(self, n_frequent=2000, n_sampled=SAMPLED):
        super().__init__()
        self.n_frequent, self.n_sampled, self.frequent = n_frequent, n_sampled, None
    def before_fit(self):
        self.frequent = frequent_targets(self.dls.train_ds, self.projection.weight.shape[0], self.n_frequent)
    def loss(self, hidden, targ):
        return shortlist_loss(self.learners_loss, self.projection, hidden, targ, self.frequent, self.n_sampled)


def shortlist_callback(cbs):
    "The `ShortlistLoss` among callbacks `cbs`, or None."
    return next((cb for cb in cbs if isinstance(cb, ShortlistLoss)), None)
