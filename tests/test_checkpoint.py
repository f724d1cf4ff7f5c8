"""Interruption and resume: a real SIGKILL during training and during export, then --resume to the same weights."""
import signal
import subprocess
import sys
import time
import warnings
from types import SimpleNamespace

import pytest
import torch
from fastai.learner import load_learner
from fastai.torch_core import set_seed

from conftest import call
from fastseq.checkpoint import load_checkpoint
from fastseq.errors import ModelFileError, NonFiniteLossError
from fastseq.learner import seq2seq_learner

TRAIN = ['train', '--data', 'phrasebook', '--n-pairs', '300', '--epochs', '3', '--bs', '32', '--emb-sz-src', '32',
         '--emb-sz-tgt', '32', '--n-hid-enc', '24', '--lr', '1e-2', '--seed', '1', '--vecs-src', 'none', '--vecs-tgt',
         'none', '--eval-beam', '0']


def cli(*args): return [sys.executable, '-m', 'fastseq.cli', *args]


def weights(path):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return load_learner(path).model.state_dict()


def kill_when(proc, ready, timeout=120):
    "SIGKILL `proc` as soon as `ready()` holds; False if it finished first."
    start = time.time()
    while not ready():
        if proc.poll() is not None or time.time() - start > timeout: return False
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL); proc.wait()
    return True


@pytest.mark.slow
def test_sigkill_during_training_then_resume_gives_the_same_weights(tmp_path):
    "Killed after a checkpoint written inside an epoch (one after every batch here), resumed at the next batch."
    full, cut = tmp_path / 'full' / 'm.pkl', tmp_path / 'cut' / 'm.pkl'
    assert call(*TRAIN, '--out', full).returncode == 0                   # uninterrupted, in this process
    ckpt = cut.with_name('m.checkpoint.pth')
    proc = subprocess.Popen(cli(*TRAIN, '--out', str(cut), '--checkpoint-every', '0'), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    inside_an_epoch = lambda: ckpt.exists() and torch.load(ckpt, weights_only=False)['batch'] > 0
    assert kill_when(proc, inside_an_epoch), "training finished before its first checkpoint"
    assert not cut.exists() and not list(cut.parent.glob('.m.pkl.*'))   # killed before export: no half export
    r = subprocess.run(cli(*TRAIN, '--out', str(cut), '--resume'), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'resumed from' in r.stdout
    assert not list(cut.parent.glob('.*.tmp'))        # a checkpoint write the kill cut short leaves nothing behind
    a, b = weights(full), weights(cut)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)   # exactly, on CPU


def test_a_fit_interrupted_inside_an_epoch_resumes_to_the_same_weights(small_dls, tiny_arch, tmp_path):
    "The checkpoint after batch 5 of epoch 1 holds the batch order and states; resuming continues at batch 6 exactly."
    from fastai.callback.core import Callback
    from fastseq.callbacks import TeacherForcing
    from fastseq.checkpoint import SaveCheckpoint, resume

    class Interrupt(Callback):
        order = 70                                                     # after the checkpoint of the same batch
        def after_batch(self):
            if self.training and self.epoch == 1 and self.iter == 4: raise KeyboardInterrupt
    def learner():
        set_seed(3)
        return seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
    full, ckpt = learner(), tmp_path / 'c.pth'
    with full.no_bar(), full.no_logging(): full.fit_one_cycle(3, 1e-2, cbs=TeacherForcing(1., 0.))
    cut = learner()                                                    # seeded as `full` was, right before its fit
    with pytest.raises(KeyboardInterrupt), cut.no_bar(), cut.no_logging():
        cut.fit_one_cycle(3, 1e-2, cbs=[TeacherForcing(1., 0.), SaveCheckpoint(ckpt, {'lr': 1e-2}, 0), Interrupt()])
    state = torch.load(ckpt, weights_only=False)
    assert (state['epoch'], state['batch']) == (0, 5)
    again = learner()
    with again.no_bar(), again.no_logging(): resume(again, ckpt, 3, cbs=TeacherForcing(1., 0.))
    a, b = full.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert torch.load(ckpt, weights_only=False)['epoch'] == 2                # saved again at the end


EXPORT_LOOP = """
import sys
from fastseq.data import Seq2SeqDataLoaders
from fastseq.datasets import phrasebook
from fastseq.learner import seq2seq_learner
dls = Seq2SeqDataLoaders.from_df(phrasebook(200, 0), bs=16, valid_pct=0.2, seed=0, verbose=False)
learn = seq2seq_learner(dls, emb_sz_src=64, emb_sz_tgt=64, n_hid_enc=64, path=sys.argv[1])
print('ready', flush=True)
while True: learn.export('m.pkl')
"""


@pytest.mark.slow
def test_sigkill_during_export_leaves_the_previous_file_whole(tmp_path):
    proc = subprocess.Popen([sys.executable, '-c', EXPORT_LOOP, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'ready'
    target = tmp_path / 'm.pkl'
    assert kill_when(proc, target.exists)
    for delay in (0.2,):         # more exports, killed at another moment of a write
        proc = subprocess.Popen([sys.executable, '-c', EXPORT_LOOP, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        proc.stdout.readline(); time.sleep(delay); proc.send_signal(signal.SIGKILL); proc.wait()
        assert weights(target)                               # loads: a complete earlier or later export, never half


def test_resume_errors_name_the_problem(small_dls, tiny_arch, tmp_path):
    learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
    with pytest.raises(FileNotFoundError, match='no checkpoint to resume from'): load_checkpoint(learn, tmp_path / 'x')
    (tmp_path / 'junk.pth').write_bytes(b'not a checkpoint')
    with pytest.raises(ModelFileError, match='not a readable checkpoint'): load_checkpoint(learn, tmp_path / 'junk.pth')
    from fastseq.checkpoint import save_checkpoint
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)
    save_checkpoint(learn, tmp_path / 'c.pth', 0)
    state = torch.load(tmp_path / 'c.pth', weights_only=False)
    torch.save({**state, 'version': 99}, tmp_path / 'future.pth')
    with pytest.raises(ModelFileError, match='checkpoint version 99, this fastseq reads version'):
        load_checkpoint(learn, tmp_path / 'future.pth')
    other = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **{**tiny_arch, 'att_sz': 8})
    with pytest.raises(ModelFileError, match='model configuration differs'): load_checkpoint(other, tmp_path / 'c.pth')


def test_a_nan_loss_stops_training_naming_the_batch(small_dls, tiny_arch, tmp_path):
    learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
    with torch.no_grad(): learn.model.decoder.out.bias.fill_(float('nan'))
    with pytest.raises(NonFiniteLossError, match=r'became nan at epoch 0, batch 0: lower the learning rate'):
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)


def test_a_nan_flag_read_every_few_batches_names_the_batches(small_dls, tiny_arch, tmp_path):
    "As on a GPU: the flag accumulates on the device and is read every 5 batches; the first read reports it."
    from fastai.callback.core import Callback
    from fastseq.callbacks import StopOnNonFiniteLoss

    class PoisonAtBatch2(Callback):
        order = 5
        def before_batch(self):
            if self.iter == 2:
                with torch.no_grad(): self.model.decoder.out.bias.fill_(float('nan'))
    learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, cbs=[StopOnNonFiniteLoss(every=5)], **tiny_arch)
    learn.remove_cbs([cb for cb in learn.cbs if type(cb) is StopOnNonFiniteLoss and cb.every is None])
    with pytest.raises(NonFiniteLossError, match=r'stopped being finite at epoch 0, in batches 0-4'):
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=PoisonAtBatch2())


def test_optimizer_state_follows_its_parameters_device():
    "After a checkpoint is read onto the CPU, Adam's state moves to each parameter's device ('meta' stands in here)."
    from fastai.optimizer import Adam
    from fastseq.checkpoint import optimizer_state_to_params
    p = torch.nn.Parameter(torch.zeros(3, device='meta'))
    opt = Adam([p], 1e-3)
    opt.state[p] = {'grad_avg': torch.zeros(3), 'sqr_avg': torch.zeros(3), 'step': 4}
    optimizer_state_to_params(opt)
    assert opt.state[p]['grad_avg'].device.type == 'meta' and opt.state[p]['sqr_avg'].device.type == 'meta'
    assert opt.state[p]['step'] == 4


def test_resume_creates_the_default_optimizer_with_the_model_on_the_data_device(small_dls, tiny_arch, tmp_path):
    """On a GPU, fastai moves the model only when the fit begins; a resumed optimizer created before that would hold
    its state on the CPU. `load_checkpoint` moves the model to the data's device before the optimizer (fused AdamW)
    is made and its state loaded."""
    from fastseq.checkpoint import SaveCheckpoint
    learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=SaveCheckpoint(tmp_path / 'c.pth'))
    again, events = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch), []
    model_to, opt_func = again.model.to, again.opt_func
    again.model.to = lambda device: (events.append(('model.to', torch.device(device))), model_to(device))[1]
    again.opt_func = lambda *a, **k: (events.append('optimizer'), opt_func(*a, **k))[1]
    load_checkpoint(again, tmp_path / 'c.pth')
    assert events == [('model.to', torch.device(again.dls.device)), 'optimizer']
    assert type(again.opt.opt).__name__ == 'AdamW' and again.opt.opt.state


@pytest.mark.parametrize('failure', ['non-finite loss', 'error before the forward'])
def test_autocast_is_closed_however_the_fit_ends(small_dls, tiny_arch, tmp_path, failure):
    "A fit stopped by `StopOnNonFiniteLoss` or by any exception leaves no autocast context open on the thread."
    from fastai.callback.core import Callback
    from fastseq.precision import Autocast

    class Fail(Callback):
        order = 20                                                     # after Autocast has entered its context
        def before_batch(self):
            if failure == 'non-finite loss':
                with torch.no_grad(): self.model.decoder.out.bias.fill_(float('nan'))
            else: raise RuntimeError('boom')
    learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
    with pytest.raises((NonFiniteLossError, RuntimeError)):
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=[Autocast(), Fail()])
    assert not torch.is_autocast_enabled('cpu')


def test_two_seeded_cpu_runs_give_identical_losses(small_dls, tiny_arch, tmp_path):
    from fastseq.callbacks import TeacherForcing
    def run():
        set_seed(7)
        learn = seq2seq_learner(small_dls, metrics=[], path=tmp_path, **tiny_arch)
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 1e-2, cbs=TeacherForcing(1., 0.))
        return [float(x) for x in learn.recorder.losses], learn.recorder.values
    assert run() == run()


def test_resume_refuses_what_it_cannot_continue(tmp_path, capsys):
    from fastseq.cli import main
    out = str(tmp_path / 'm.pkl')
    assert main(['train', '--n-pairs', '200', '--resume', '--out', out]) == 2
    assert 'no checkpoint to resume from' in capsys.readouterr().err
    assert main(['train', '--n-pairs', '200', '--resume', '--freeze-epochs', '1', '--out', out]) == 2
    assert '--resume cannot continue a run with --freeze-epochs' in capsys.readouterr().err


def test_a_resumed_auto_run_keeps_the_precision_its_checkpoint_recorded(tmp_path, monkeypatch):
    "'auto' is chosen once per run: resuming takes the checkpoint's choice, whatever the table would say now."
    from fastseq import training
    from fastseq.training import TrainConfig
    monkeypatch.setattr(training, 'resolve_precision', lambda *a, **k: 'fp32')
    ckpt = tmp_path / 'm.checkpoint.pth'
    torch.save({'format': 'fastseq-checkpoint', 'extra': {'lr': 1e-3, 'precision': 'bf16'}}, ckpt)
    dls, model = SimpleNamespace(device='cpu'), SimpleNamespace(n_hid_dec=300, tgt_vocab=10)
    assert training._run_precision(TrainConfig(resume=True), dls, ckpt, model) == 'bf16'
    assert training._run_precision(TrainConfig(resume=False), dls, ckpt, model) == 'fp32'
    assert training._run_precision(TrainConfig(resume=True, precision='fp32'), dls, ckpt, model) == 'fp32'
    assert training._run_precision(TrainConfig(resume=True), dls, tmp_path / 'missing.pth', model) == 'fp32'


def test_a_temporary_left_by_a_killed_write_is_removed_and_a_live_one_kept(tmp_path):
    "`remove_stale_temporaries`, which each fit's `SaveCheckpoint` runs first: dead writers' files go, others stay."
    import os
    from fastseq.io import remove_stale_temporaries
    ckpt = tmp_path / 'm.checkpoint.pth'
    dead, live = tmp_path / '.m.checkpoint.pth.999999999.tmp', tmp_path / f'.m.checkpoint.pth.{os.getpid()}.tmp'
    other = tmp_path / '.m.pkl.999999999.tmp'
    for f in (dead, live, other): f.write_bytes(b'half')
    remove_stale_temporaries(ckpt)
    assert not dead.exists() and live.exists() and other.exists()
