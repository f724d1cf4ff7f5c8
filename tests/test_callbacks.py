import pytest
import torch
from fastai.callback.core import Callback

from fastseq.callbacks import TeacherForcing, forcing_probability
from fastseq.learner import seq2seq_learner


@pytest.mark.parametrize('pct_train,expected', [(0., 1.), (0.25, 0.75), (0.5, 0.5), (1., 0.), (1.5, 0.)])
def test_linear_decay_over_all_of_training(pct_train, expected):
    assert forcing_probability(pct_train, 1., 0., 1.) == pytest.approx(expected)


def test_decay_over_part_of_training_then_flat_and_clamped():
    assert forcing_probability(0.25, 1., 0.2, 0.5) == pytest.approx(0.6)
    assert forcing_probability(0.9, 1., 0.2, 0.5) == pytest.approx(0.2)
    assert forcing_probability(-1., 1., 0., 1.) == 1.


@pytest.mark.parametrize('pct_train,expected', [(0., 1.), (0.5, 1.), (0.75, 0.75), (1., 0.5), (2., 0.5)])
def test_warmup_holds_start_then_decays(pct_train, expected):
    assert forcing_probability(pct_train, 1., 0.5, 1., warmup=0.5) == pytest.approx(expected)


def test_bad_arguments():
    with pytest.raises(ValueError, match='start=1.5'): TeacherForcing(start=1.5)
    with pytest.raises(ValueError, match='warmup=0.6'): TeacherForcing(pct=0.5, warmup=0.6)


class Spy(TeacherForcing):
    "Records the forcing probability the model saw per training batch and per validation batch."
    order, run_valid = TeacherForcing.order + 1, True
    def before_fit(self): self.train_ps, self.valid_ps = [], []
    def before_batch(self): (self.train_ps if self.training else self.valid_ps).append(self.learn.model.pr_force)


def test_schedule_updates_every_batch_off_in_validation_and_held_during_lr_find(small_dls, tiny_arch, tmp_path):
    learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
    spy = Spy()
    with learn.no_bar(), learn.no_logging(): learn.fit(2, 1e-3, cbs=[TeacherForcing(1., 0.), spy])
    n = len(spy.train_ps)
    assert spy.train_ps[0] == 1. and spy.train_ps == sorted(spy.train_ps, reverse=True)
    assert len(set(spy.train_ps)) == n                       # a new value every batch
    assert spy.train_ps[-1] == pytest.approx(1 / n, abs=1e-6)
    assert spy.valid_ps and set(spy.valid_ps) == {0.}
    spy2 = Spy()
    learn.add_cbs([TeacherForcing(0.8, 0.), spy2])
    with learn.no_bar(): learn.lr_find(num_it=8, show_plot=False)
    assert set(spy2.train_ps) == {0.8}


class TrainSpy(Callback):
    "Records whether the model kept attention during training batches."
    def before_fit(self): self.kept = []
    def after_pred(self):
        if self.training: self.kept.append(self.learn.model.attention is not None or self.learn.model.keep_attention)


def test_attention_capture_keeps_validation_attention_only(small_dls, tiny_arch, tmp_path):
    from fastseq.callbacks import AttentionCapture
    learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
    cap, spy = AttentionCapture(every_batch=True), TrainSpy()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=[cap, spy])
    assert spy.kept and not any(spy.kept)                      # training batches never keep attention
    valid = list(small_dls.valid)
    assert len(cap.batches) == len(valid) and cap.weights is cap.batches[-1]
    src, tgt, _, _ = valid[-1]
    attn = cap.weights
    assert attn.shape == (src.shape[0], tgt.shape[1], src.shape[1])
    assert torch.allclose(attn.sum(-1), torch.ones(attn.shape[:2]), atol=1e-5)   # each step's weights sum to 1
    pad = (src == small_dls.processor.src_vocab.pad_idx)[:, None].expand_as(attn)
    assert pad.any() and (attn[pad] == 0).all()                                # padding gets exactly zero weight
    assert not learn.model.keep_attention and learn.model.attention is None


class FakeClock:
    "perf_counter that advances one second per reading: TimeBudget's decisions become deterministic."
    def __init__(self): self.now = 0.
    def __call__(self): self.now += 1.; return self.now


def test_time_budget_runs_the_whole_schedule_and_ends_on_time(small_dls, tiny_arch, tmp_path, monkeypatch):
    "With a 2-minute budget on a clock that ticks per reading, training stops well before 50 epochs, the one-cycle "
    "learning rate has come down to its end, each epoch logs a training loss, and the budget holds."
    import fastseq.callbacks as C
    clock = FakeClock()
    monkeypatch.setattr(C.time, 'perf_counter', clock)
    learn = seq2seq_learner(small_dls, path=tmp_path, metrics=[], **tiny_arch)
    budget = C.TimeBudget(2.)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(50, 1e-2, cbs=budget)
    assert 1 < len(learn.recorder.values) < 50
    assert all(len(v) == 2 for v in learn.recorder.values)           # train and valid loss, also for the cut epoch
    lrs = learn.recorder.lrs
    assert max(lrs) == pytest.approx(1e-2, rel=0.05) and lrs[-1] < 1e-2 / 100
    assert clock.now - budget.start <= 120 + 3   # the fake clock also ticks at the last batch's 3 readings after


def test_time_budget_begins_no_epoch_shorter_than_its_validation(monkeypatch):
    "A 10-minute budget whose validation takes 30 s: an epoch ending 50 s before the end would leave a next one 20 s "
    "of training at a near-zero rate and another validation, so the fit ends; 80 s before the end, it goes on."
    import fastseq.callbacks as C
    from fastai.callback.core import CancelFitException
    budget = C.TimeBudget(10.)
    budget.start, budget.valid_secs = 0., 30.
    monkeypatch.setattr(C.time, 'perf_counter', lambda: 550.)
    with pytest.raises(CancelFitException): budget.after_epoch()
    monkeypatch.setattr(C.time, 'perf_counter', lambda: 520.)
    budget.after_epoch()


def test_time_budget_must_be_positive():
    from fastseq.callbacks import TimeBudget
    with pytest.raises(ValueError, match='positive number of minutes, got 0'): TimeBudget(0)
