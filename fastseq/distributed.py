"""Data-parallel training on fastai's distributed support: fastai's `DistributedTrainer` (DistributedDataParallel
through Accelerate) and `DistributedDL` (each process its shard of every epoch's batches), launched by `torchrun` or
`accelerate launch`, on GPUs over nccl or on CPUs over gloo. Two adjustments to fastai: its `DistributedDL`
broadcasts the epoch's order as a CUDA tensor, which gloo cannot take; and metrics that sum over validation batches
are summed over all processes, so every process reports the whole validation set."""
from contextlib import contextmanager

import torch
import torch.distributed as dist
from fastai.callback.core import Callback
from fastai.callback.progress import ProgressCallback
from fastai.distributed import DistributedDL, DistributedTrainer  # needs Accelerate, which fastai's DDP runs on
from fastai.torch_core import num_distrib, rank_distrib

from .callbacks import EpochPrinter

__all__ = ['is_distributed', 'init_distributed', 'distributed', 'Seq2SeqDistributedDL', 'Seq2SeqDistributedTrainer',
           'SumMetricsOverRanks']


def is_distributed():
    "Whether this process was launched as one of several (torchrun / accelerate launch set WORLD_SIZE)."
    return num_distrib() > 1


def init_distributed():
    "Join the process group now (Accelerate's state, which fastai's trainer uses later), e.g. for a barrier before fit."
    from accelerate import PartialState
    PartialState(cpu=not torch.cuda.is_available())


def _backend_device():
    return 'cuda' if dist.get_backend() == 'nccl' else 'cpu'


class Seq2SeqDistributedDL(DistributedDL):
    """fastai's `DistributedDL`, broadcasting each epoch's (sortish) order on the backend's device; in validation each
    item goes to exactly one process (fastai pads the shards with repeats, which the summed metrics would count)."""
    def get_idxs(self):
        if self.dl.shuffle: return super().get_idxs()          # training: equal shards, so every process steps alike
        idxs = list(self.dl.get_idxs())                         # validation: a fixed order, the same in every process
        self.n = self.n_padded = len(idxs)
        return idxs[self.rank * self.n // self.world_size:(self.rank + 1) * self.n // self.world_size]

    def _broadcast(self, t, rank):
        t = torch.tensor(t, dtype=torch.long, device=_backend_device())
        dist.broadcast(t, rank)
        return t.cpu().tolist()


class Seq2SeqDistributedTrainer(DistributedTrainer):
    "fastai's `DistributedTrainer` with `Seq2SeqDistributedDL` and no SyncBatchNorm (a seq2seq RNN has no batch norm)."
    def __init__(self, **kwargs):
        kwargs.setdefault('cpu', not torch.cuda.is_available())  # without it Accelerate ignores CPU processes
        super().__init__(sync_bn=False, **kwargs)

    def _wrap_dl(self, dl):
        return dl if isinstance(dl, DistributedDL) else Seq2SeqDistributedDL(dl, device=self.learn.dls.device)


class SumMetricsOverRanks(Callback):
    "Before the Recorder reads them, sums metrics' per-process (total, count) over all processes."
    order = 45  # after the metrics accumulated, before Recorder (50) logs them
    def after_validate(self):
        for m in self.learn.metrics:
            if not (hasattr(m, 'total') and hasattr(m, 'count')): continue
            t = torch.tensor([float(m.total), float(m.count)], dtype=torch.float64, device=_backend_device())
            dist.all_reduce(t)
            m.total, m.count = float(t[0]), int(t[1])


@contextmanager
def distributed(learn):
    """Within the block `learn` trains data-parallel when this process is one of several; otherwise nothing changes.
    Only process 0 shows progress; callers write files only where `rank_distrib() == 0`."""
    if not is_distributed():
        yield learn
        return
    cbs = [Seq2SeqDistributedTrainer(), SumMetricsOverRanks()]
    learn.add_cbs(cbs)
    quiet = [cb for cb in learn.cbs if isinstance(cb, (ProgressCallback, EpochPrinter))] if rank_distrib() else []
    learn.remove_cbs(quiet)                                                # process 0 alone reports progress
    try: yield learn
    finally: learn.remove_cbs(cbs); learn.add_cbs(quiet)
