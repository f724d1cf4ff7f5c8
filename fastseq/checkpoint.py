"""Checkpoints that survive interruption: model, optimizer, position in the schedule and every random state, written
atomically after each epoch and, inside an epoch, every few minutes (with the epoch's batch order), so a resumed
one-cycle run continues exactly where the interrupted one stopped, to the batch."""
import time

import numpy as np
import torch
from fastai.callback.core import Callback
from fastai.optimizer import OptimWrapper
from fastai.torch_core import get_model, get_random_states, rank_distrib, set_random_states
from fastcore.foundation import L
from fastcore.xtras import Path

from .errors import ModelFileError
from .io import atomic_path, remove_stale_temporaries

__all__ = ['SaveCheckpoint', 'ResumeInsideEpoch', 'save_checkpoint', 'checkpoint_extra', 'load_checkpoint',
           'resume', 'optimizer_state_to_params']

CHECKPOINT_FORMAT, CHECKPOINT_VERSION = 'fastseq-checkpoint', 4  # 3: fused AdamW; 4: checkpoints inside an epoch


def _train_dl(learn):
    "The training DataLoader, unwrapped from fastai's `DistributedDL` in data-parallel training."
    dl = learn.dls.train
    return getattr(dl, 'dl', dl)


def _random_states(learn):
    "fastai's random states (Python, NumPy, torch and CUDA generators, cuDNN flags) and the training loader's."
    return {**get_random_states(), 'dl': _train_dl(learn).rng.getstate()}


def _set_random_states(learn, states):
    states = dict(states)
    _train_dl(learn).rng.setstate(states.pop('dl'))
    set_random_states(**states)


def optimizer_state_to_params(opt):
    """Move each parameter's optimizer state (Adam's averages) to that parameter's device: the checkpoint is read onto
    the CPU and fastai's `load_state_dict` keeps the tensors where they are, so a GPU resume would mix devices."""
    if isinstance(opt, OptimWrapper): return                  # a PyTorch optimizer's load_state_dict moves it itself
    for p, *_ in opt.all_params(with_grad=False):
        state = opt.state.get(p, {})
        for k, v in state.items():
            if isinstance(v, torch.Tensor): state[k] = v.to(p.device)


def save_checkpoint(learn, path, epoch, extra=None, batch=0):
    """Write model, optimizer and random states after `epoch` (0-based; -1: none yet) and `batch` batches of the next
    epoch to `path` atomically; inside an epoch also that epoch's batch order and the schedule's position."""
    state = {'format': CHECKPOINT_FORMAT, 'version': CHECKPOINT_VERSION, 'epoch': epoch, 'batch': batch,
             'n_epoch': learn.n_epoch, 'config': get_model(learn.model).config.to_dict(),
             'model': get_model(learn.model).state_dict(), 'opt': learn.opt.state_dict(),
             'random': _random_states(learn), 'extra': extra or {}}
    if batch: state.update(order=torch.as_tensor(np.asarray(_train_dl(learn).order)), pct_train=learn.pct_train,
                           train_iter=learn.train_iter)
    with atomic_path(path) as tmp: torch.save(state, tmp)
    return path


def checkpoint_extra(path):
    "What a checkpoint recorded beside its states; {} where there is none readable (resuming says what is wrong)."
    try: state = torch.load(path, map_location='cpu', weights_only=False)
    except Exception: return {}
    return state.get('extra', {}) if isinstance(state, dict) else {}


def load_checkpoint(learn, path):
    "Restore model, optimizer and random states from `path`; returns the checkpoint (its 'epoch' is the last done)."
    path = Path(path)
    if not path.is_file(): raise FileNotFoundError(f"no checkpoint to resume from: {path}")
    try: state = torch.load(path, map_location='cpu', weights_only=False)  # holds numpy RNG state; our own file
    except Exception as e:
        raise ModelFileError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get('format') != CHECKPOINT_FORMAT:
        raise ModelFileError(f"{path}: not a fastseq checkpoint")
    if state.get('version') != CHECKPOINT_VERSION:
        raise ModelFileError(f"{path}: checkpoint version {state.get('version')}, this fastseq reads version "
                             f"{CHECKPOINT_VERSION}")
    if state['config'] != get_model(learn.model).config.to_dict():
        raise ModelFileError(f"{path}: the checkpoint's model configuration differs from this run's "
                             f"(was it written with other model sizes or another corpus?)")
    get_model(learn.model).load_state_dict(state['model'])
    if learn.opt is None: learn.create_opt()
    learn.opt.load_state_dict(state['opt'])
    optimizer_state_to_params(learn.opt)
    _set_random_states(learn, state['random'])
    return state


def resume(learn, path, n_epoch, cbs=None, minutes=None):
    """Continue an interrupted `fit_one_cycle(n_epoch, lr)` from the checkpoint at `path` (at the batch where it was
    written), saving further checkpoints there (inside epochs every `minutes`, as `SaveCheckpoint`)."""
    state = load_checkpoint(learn, path)
    lr = state['extra'].get('lr')
    if lr is None: raise ModelFileError(f"{path}: the checkpoint does not record its learning rate (extra['lr'])")
    if state['n_epoch'] != n_epoch:
        raise ValueError(f"{path}: the checkpoint belongs to a {state['n_epoch']}-epoch schedule, not {n_epoch}")
    start = state['epoch'] + 1
    if start >= n_epoch: return state
    cbs = list(L(cbs)) + [SaveCheckpoint(path, state['extra'], minutes)]
    if state['batch']: cbs.append(ResumeInsideEpoch(state))
    learn.fit_one_cycle(n_epoch, lr, cbs=cbs, start_epoch=start)
    return state


class SaveCheckpoint(Callback):
    """Save a checkpoint atomically to `path` after each epoch that trained (not one skipped on resume) and, with
    `minutes`, inside an epoch once that many minutes have passed since the last one (0: after every batch)."""
    order = 65  # after Recorder has logged the epoch or batch
    def __init__(self, path, extra=None, minutes=None):
        self.ckpt_path, self.extra, self.minutes, self.trained = Path(path), extra, minutes, False
    def before_fit(self):
        self.last = time.monotonic()
        if self._writer(): remove_stale_temporaries(self.ckpt_path)   # a write that a SIGKILL cut short
    def before_epoch(self): self.trained = False
    def after_train(self): self.trained = True

    def after_batch(self):
        if self.minutes is None or not self.training or not self._writer(): return
        if time.monotonic() - self.last < 60 * self.minutes or not hasattr(_train_dl(self.learn), 'order'): return
        save_checkpoint(self.learn, self.ckpt_path, self.epoch - 1, self.extra, batch=self.iter + 1)
        self.last = time.monotonic()

    def after_epoch(self):
        if self.trained and self._writer():
            save_checkpoint(self.learn, self.ckpt_path, self.epoch, self.extra)
            self.last = time.monotonic()

    def _writer(self): return not hasattr(self.learn, 'lr_finder') and rank_distrib() == 0   # one writer in DDP


class ResumeInsideEpoch(Callback):
    """Continue the first epoch of a resumed fit after the batches its checkpoint `state` had done: the rest of that
    epoch's batch order, then, before the next batch, the schedule's position and every random state as they were."""
    order = -5  # after TrainEvalCallback, before TeacherForcing and the schedulers read the position
    def __init__(self, state): self.state, self.active, self.pending = state, False, False

    def before_train(self):
        if self.epoch != self.state['epoch'] + 1: return
        dl, order, done = _train_dl(self.learn), self.state['order'].tolist(), self.state['batch']
        rest = order[done * dl.bs:]
        dl.get_idxs, dl.order, self.active, self.pending = (lambda: rest), order, True, True

    def before_batch(self):
        if not self.active: return
        if self.pending:
            _set_random_states(self.learn, self.state['random'])
            self.learn.pct_train, self.learn.train_iter = self.state['pct_train'], self.state['train_iter']
            self.pending = False
        self.learn.iter += self.state['batch']               # the epoch's batch number, as if nothing was skipped

    def after_train(self):
        if self.active: del _train_dl(self.learn).get_idxs   # the loader's own order again from the next epoch
        self.active = False
