"""What must hold on every device: training in each precision it supports (GRUs, their states and the loss in fp32),
resume with the optimizer's state on the parameters' device, decoding that matches the CPU's. Runs on the CPU
everywhere and also on CUDA where there is a GPU (`bench/gpu_check.sh` runs this file there)."""
import pytest
import torch

from fastseq.checkpoint import SaveCheckpoint, load_checkpoint
from fastseq.data import Seq2SeqDataLoaders
from fastseq.inference import Translator
from fastseq.learner import seq2seq_learner
from fastseq.precision import precision_callbacks

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
CASES = [(d, p) for d in DEVICES for p in ('fp32', 'bf16', 'fp16') if d == 'cuda' or p != 'fp16']


def learner(df, device, path):
    dls = Seq2SeqDataLoaders.from_df(df, bs=32, valid_pct=0.2, seed=0, device=torch.device(device), verbose=False)
    torch.manual_seed(0)
    return seq2seq_learner(dls, path=path, metrics=[], emb_sz_src=32, emb_sz_tgt=32, n_hid_enc=24, n_hid_dec=32,
                           att_sz=16, bidir=True)


def gru_dtypes(model):
    "Dtypes of every tensor in and out of the model's GRUs, recorded as they run."
    seen = set()
    record = lambda m, args, out: seen.update(t.dtype for t in (*args, *out) if isinstance(t, torch.Tensor))
    for rnn in (model.encoder.rnn, model.decoder.rnn): rnn.register_forward_hook(record)
    return seen


@pytest.mark.parametrize('device,precision', CASES)
def test_training_in_each_precision_then_decoding_as_on_the_cpu(small_df, tmp_path, device, precision):
    learn = learner(small_df, device, tmp_path)
    seen = gru_dtypes(learn.model)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-2, cbs=precision_callbacks(precision, device))
    assert seen == {torch.float32}
    assert all(p.device.type == device and p.dtype == torch.float32 for p in learn.model.parameters())
    assert torch.isfinite(torch.tensor(learn.recorder.losses)).all()
    texts = [s for s, _ in learn.valid_pairs()[:24]]
    on_device = learn.translator()
    on_cpu = Translator(learn.model.to('cpu'), learn.dls.processor)
    cpu_out = on_cpu.translate(texts, beam=3)
    learn.model.to(device)
    same = sum(a == b for a, b in zip(on_device.translate(texts, beam=3), cpu_out))
    assert same >= 22   # a GPU's kernels may round differently: rarely a different word


@pytest.mark.parametrize('device', DEVICES)
def test_resume_puts_the_optimizer_state_on_the_parameters_device_and_trains_on(small_df, tmp_path, device):
    learn = learner(small_df, device, tmp_path)
    save = SaveCheckpoint(tmp_path / 'c.pth', {'lr': 1e-2})
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-2, cbs=save)
    again = learner(small_df, device, tmp_path)
    load_checkpoint(again, tmp_path / 'c.pth')
    state = again.opt.opt.state                                           # the wrapped PyTorch AdamW's
    assert state and all(v.device == p.device for p in state for v in state[p].values() if torch.is_tensor(v))
    with again.no_bar(), again.no_logging(): again.fit(1, 1e-3)
    assert torch.isfinite(torch.tensor(again.recorder.losses)).all()
