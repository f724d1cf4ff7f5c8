"""Weight averaging: the mean of snapshots taken while the one-cycle schedule anneals replaces the final weights, a
cheap ensemble of the last stretch of training (checkpoint averaging, as NMT toolkits do it)."""
import torch
from fastai.callback.core import Callback
from fastai.torch_core import get_model

__all__ = ['AverageWeights', 'snapshot_points']


def snapshot_points(n, last):
    "Training fractions at which `AverageWeights` takes its `n` snapshots: evenly over the last `last`, the final at 1."
    return [1 - last + last * (k + 1) / n for k in range(n)]


class AverageWeights(Callback):
    """At the end of training, set the weights to the mean of `n` snapshots taken evenly over the last `last` fraction
    of training (by `pct_train`, so it follows `TimeBudget`'s clock too); the final weights are the last snapshot.
    A running mean (`torch.optim.swa_utils.AveragedModel`): one extra copy of the model. Not during `lr_find`."""
    order, run_valid = 95, False   # after TimeBudget (90) has set pct_train for the batch
    def __init__(self, n=5, last=0.2):
        if not (isinstance(n, int) and n >= 1 and 0 < last <= 1):
            raise ValueError(f"AverageWeights: n must be a positive whole number and 0 < last <= 1, got n={n!r}, "
                             f"last={last!r}")
        self.n, self.last = n, last

    def before_fit(self):
        self.points, self.mean, self.count = snapshot_points(self.n, self.last), None, 0
        self.active = not hasattr(self.learn, 'lr_finder')

    def after_batch(self):
        if self.active and self.count < self.n - 1 and self.pct_train >= self.points[self.count]: self._snapshot()

    def _snapshot(self):
        "PyTorch's `AveragedModel` keeps the running mean (a copy of the model, tied weights once)."
        from torch.optim.swa_utils import AveragedModel
        if self.mean is None: self.mean = AveragedModel(get_model(self.learn.model))
        self.mean.update_parameters(get_model(self.learn.model))
        self.count += 1

    @torch.no_grad()
    def after_fit(self):
        if not self.active or (self.count == 0 and self.pct_train < self.points[0]): return  # never reached the window
        self._snapshot()                                                   # the final weights: the last snapshot
        for m, p in zip(self.mean.module.parameters(), get_model(self.learn.model).parameters()): p.copy_(m)
        self.averaged, self.mean = self.count, None
