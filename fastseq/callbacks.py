"""Training callbacks: `TeacherForcing` with a linearly decaying forcing probability, `AttentionCapture`,
`StopOnNonFiniteLoss`, `TimeBudget` for schedules that end on time, `EpochPrinter` for logs without a terminal, and
the benchmark's `ThroughputMeter`."""
import time

import torch
from fastai.callback.core import Callback, CancelFitException, CancelTrainException
from fastai.torch_core import get_model
from fastcore.basics import noop

from .errors import NonFiniteLossError

__all__ = ['TeacherForcing', 'AttentionCapture', 'StopOnNonFiniteLoss', 'TimeBudget', 'EpochPrinter',
           'ThroughputMeter', 'sync_device', 'forcing_probability']


def forcing_probability(pct_train, start=1., end=0., pct=1., warmup=0.):
    "`start` until `warmup`, then linear to `end` at `pct` of training, flat after; clamped to [0, 1]."
    frac = min(max(pct_train - warmup, 0.) / (pct - warmup), 1.)
    return min(max(start + (end - start) * frac, 0.), 1.)


class TeacherForcing(Callback):
    "Feeds the reference token with a probability that decays linearly per batch; off in validation."
    order, run_valid = 5, False  # before the model runs, after TrainEvalCallback has set pct_train
    def __init__(self, start=1., end=0., pct=1., warmup=0.):
        if not (0 <= start <= 1 and 0 <= end <= 1 and 0 <= warmup < pct <= 1):
            raise ValueError(f"TeacherForcing: start and end must lie in [0, 1] and 0 <= warmup < pct <= 1, got "
                             f"start={start}, end={end}, pct={pct}, warmup={warmup}")
        self.start, self.end, self.pct, self.warmup = start, end, pct, warmup

    def before_batch(self):
        lr_find = hasattr(self.learn, 'lr_finder')  # lr_find holds the start value
        p = self.start if lr_find else forcing_probability(self.pct_train, self.start, self.end, self.pct, self.warmup)
        get_model(self.learn.model).pr_force = p

    def before_validate(self): get_model(self.learn.model).pr_force = 0.  # the model ignores it in eval mode too

    def after_fit(self): get_model(self.learn.model).pr_force = 0.


class AttentionCapture(Callback):
    """Keeps the attention weights (bs, tgt_len, src_len) of validation batches: `weights` holds the last batch's,
    `batches` every batch's when `every_batch`. Training batches never keep attention, so training runs as fast."""
    order, run_train = 6, False
    def __init__(self, every_batch=False): self.every_batch, self.weights, self.batches = every_batch, None, []

    def before_validate(self):
        get_model(self.learn.model).keep_attention, self.batches = True, []

    def after_pred(self):
        attn = get_model(self.learn.model).attention
        if attn is None: return
        self.weights = attn.detach().cpu()
        if self.every_batch: self.batches.append(self.weights)

    def after_validate(self):
        model = get_model(self.learn.model)
        model.keep_attention, model.attention = False, None

    def after_fit(self): self.after_validate()


class StopOnNonFiniteLoss(Callback):
    """Stops training with a `NonFiniteLossError` that names the epoch and batch where the loss stopped being finite
    (fastai's `TerminateOnNaNCallback` cancels silently and reads the loss back every batch); not during `lr_find`,
    which is meant to diverge. Each loss is tested on the device and the result read on the host every `every` batches
    and at the end of each epoch (default: every batch on a CPU, where reading is free, so a NaN never reaches the
    weights; every 20 on a GPU, where a read would stall the queue)."""
    order, run_valid = 10, False
    def __init__(self, every=None): self.every = every

    def before_fit(self):
        self.period = self.every or (20 if torch.device(self.dls.device).type == 'cuda' else 1)
        self.bad = None

    def after_loss(self):
        if hasattr(self.learn, 'lr_finder'): return
        loss = self.learn.loss_grad.detach()
        bad = ~torch.isfinite(loss)                                        # stays on the device
        if self.bad is None: self.bad, self.since = bad, self.iter
        else: self.bad = self.bad | bad
        self.last_loss = loss
        if (self.iter + 1) % self.period == 0: self._check()

    def after_train(self): self._check()

    def _check(self):
        "One host read of the flag accumulated since the last check."
        if self.bad is not None and bool(self.bad):
            where = (f"became {self.last_loss.item()} at epoch {self.epoch}, batch {self.iter}"
                     if self.since == self.iter else
                     f"stopped being finite at epoch {self.epoch}, in batches {self.since}-{self.iter}")
            raise NonFiniteLossError(f"the training loss {where}: lower the learning rate (for instance to a tenth), "
                                     f"or keep gradient clipping on (seq2seq_learner's clip=5.0)")
        self.bad = None


class TimeBudget(Callback):
    """Drives every schedule by wall-clock time: `pct_train` is the share of `minutes` spent since the fit began, so
    one-cycle's learning rate and `TeacherForcing` complete their course on time. The time of the last validation pass
    is held back for the final one: training stops that much before the end, the epoch's validation runs, and the fit
    ends within the budget; an epoch that would train for less than one validation pass is not begun. Fit for more
    epochs than can fit in the budget."""
    order, run_valid = 90, False  # after the recorder, printer and checkpoint have seen each epoch
    def __init__(self, minutes):
        if not minutes > 0: raise ValueError(f"the time budget must be a positive number of minutes, got {minutes}")
        self.seconds = minutes * 60

    def before_fit(self): self.start, self.valid_secs = time.perf_counter(), 0.

    def _pct(self): return min((time.perf_counter() - self.start + self.valid_secs) / self.seconds, 1.)
    def before_train(self): self.learn.pct_train = self._pct()  # fastai resets it to epoch/n_epoch here

    def after_batch(self):
        self.learn.pct_train = self._pct()
        if self.learn.pct_train >= 1: raise CancelTrainException()

    def after_cancel_train(self): self.recorder.cancel_train = False  # the cut epoch's training loss is still logged
    def before_validate(self): self.valid_start = time.perf_counter()
    def after_validate(self): self.valid_secs = time.perf_counter() - self.valid_start

    def after_epoch(self):
        "Ends the fit once another epoch would train for less time than it spends validating, at a near-zero rate."
        if self._pct() + self.valid_secs / self.seconds >= 1: raise CancelFitException()


class EpochPrinter(Callback):
    "A header and one aligned line per epoch, in place of the raw lists fastai prints without progress bars."
    order = 60  # after Recorder (50) has written the epoch's log
    def __init__(self, file=None): self.file = file

    def before_fit(self):
        self.old_logger, self.learn.logger = self.learn.logger, noop
        if hasattr(self.learn, 'lr_finder'): return
        print('  '.join(f"{n:>10}" for n in self.recorder.metric_names), file=self.file, flush=True)

    def after_fit(self): self.learn.logger = self.old_logger

    def before_epoch(self): self.trained = False
    def after_train(self): self.trained = True

    def after_epoch(self):
        if hasattr(self.learn, 'lr_finder') or not self.trained: return  # an epoch skipped on resume: no line
        print('  '.join(_fmt(v) for v in self.recorder.log), file=self.file, flush=True)


def _fmt(v):
    if isinstance(v, int): return f"{v:>10d}"
    if isinstance(v, float): return f"{v:>10.4f}"
    return f"{str(v):>10}"


def sync_device(device):
    "Wait for the device's queued work, so that a clock reading covers it (a no-op on CPU)."
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()


class ThroughputMeter(Callback):
    """Counts real (non-pad) tokens of training batches after `warmup` batches and stops the fit `seconds` of training
    later; validation passes between epochs are not timed. One device sync at the start and one at the end."""
    order, run_valid = 100, False
    def __init__(self, seconds, warmup=10, pad_idx=1):
        self.seconds, self.warmup, self.pad_idx = seconds, warmup, pad_idx

    def before_fit(self): self.n, self.src, self.tgt, self.t0, self.paused, self.elapsed = 0, 0, 0, None, 0., 0.
    def _elapsed(self): return time.perf_counter() - self.t0 - self.paused

    def after_batch(self):
        self.n += 1
        if self.n == self.warmup:
            sync_device(self.dls.device); self.t0 = time.perf_counter()
        elif self.n > self.warmup:
            self.src = self.src + (self.xb[0] != self.pad_idx).sum()   # device tensors: no host sync per batch
            self.tgt = self.tgt + (self.yb[0] != self.pad_idx).sum()
            if self._elapsed() >= self.seconds: raise CancelFitException()

    def before_validate(self): self.valid_start = time.perf_counter()
    def after_validate(self):
        if self.t0 is not None: self.paused += time.perf_counter() - self.valid_start

    def after_fit(self):
        sync_device(self.dls.device)
        if self.t0 is not None: self.elapsed = self._elapsed()
        self.src, self.tgt = int(self.src), int(self.tgt)
