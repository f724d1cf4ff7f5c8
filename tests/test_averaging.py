import pytest
import torch
from fastai.callback.core import Callback

from fastseq.averaging import AverageWeights, snapshot_points
from fastseq.learner import seq2seq_learner


class WeightsLog(Callback):
    "After every training batch (and AverageWeights), the training fraction and a copy of the parameters."
    order, run_valid = 96, False
    def before_fit(self): self.log = []
    def after_batch(self): self.log.append((self.pct_train, [p.detach().clone() for p in self.model.parameters()]))


def test_snapshot_points_spread_over_the_last_fraction_and_end_at_one():
    assert snapshot_points(4, 0.2) == pytest.approx([0.85, 0.9, 0.95, 1.0])
    assert snapshot_points(1, 0.5) == [1.0]


def test_the_final_weights_are_the_mean_of_the_snapshots(small_dls, tiny_arch, tmp_path):
    "Snapshots at the first batch past each point, the last at the end of training; the model ends at their mean."
    torch.manual_seed(0)
    learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
    log, avg = WeightsLog(), AverageWeights(n=3, last=0.5)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 1e-2, cbs=[avg, log])
    points = snapshot_points(3, 0.5)
    taken = [next(w for pct, w in log.log if pct >= pt) for pt in points[:-1]] + [log.log[-1][1]]
    assert len({id(w) for w in taken}) == 3 and avg.averaged == 3
    for i, p in enumerate(learn.model.parameters()):
        expected = sum(w[i] for w in taken) / 3
        assert torch.allclose(p, expected, atol=1e-6)
    assert not torch.allclose(next(learn.model.parameters()), log.log[-1][1][0])  # averaged, not the last weights
    assert learn.model.decoder.out.weight is learn.model.decoder.emb.weight      # the tie survives


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match='n must be a positive whole number and 0 < last <= 1, got n=0'):
        AverageWeights(0)
    with pytest.raises(ValueError, match='last=1.5'): AverageWeights(3, 1.5)
