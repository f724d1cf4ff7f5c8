"""Training precision: fp32, or bf16 / fp16 matrix products with the recurrent cells, their states and the loss kept
in fp32 (on a CPU, bf16 for the vocabulary projection alone, fused with the loss in training: `fastseq.fused`);
'auto' picks from the device's capabilities and a table of measured CPU kinds, never from a timing, so a run's
numerics do not depend on the machine's load."""
from functools import cache

import torch
from fastai.callback.core import Callback
from fastai.callback.fp16 import MixedPrecision
from fastai.torch_core import get_model

from .errors import OptionError
from .fused import FusedProjectionLoss
from .shortlist import ShortlistLoss

__all__ = ['PRECISIONS', 'Autocast', 'ProjectionAutocast', 'precision_callbacks', 'resolve_precision',
           'cpu_precision', 'cpu_bf16_kind', 'cpu_info', 'cpu_vendor', 'cpu_model', 'CPU_BF16_TABLE', 'decoding_dtype',
           'precision_label', 'prepare_device']

PRECISIONS = ('auto', 'fp32', 'bf16', 'fp16')
AUTO_MIN_PROJECTION = 300 * 8000  # n_hid × vocabulary below which a CPU's 'auto' is fp32: too small to pay


class Autocast(Callback):
    """bf16 autocast around the forward pass on any device (fastai's `MixedPrecision` is CUDA-only; the loss is computed
    in fp32 either way); bf16 keeps fp32's range, so no gradient scaling is needed. The model runs its GRUs outside
    autocast (`model.run_rnn`). The context closes after the forward, on a cancelled batch, and however a
    `Seq2SeqLearner`'s fit ends (an exception from the forward or from another callback included)."""
    order = 10
    def __init__(self, dtype=torch.bfloat16): self.dtype, self.ctx = dtype, None
    def before_batch(self):
        self.ctx = torch.autocast(torch.device(self.dls.device).type, dtype=self.dtype)
        self.ctx.__enter__()
    def after_pred(self): self.close_context()
    def after_cancel_batch(self): self.close_context()
    def after_fit(self): self.close_context()
    def close_context(self):
        if self.ctx is not None: self.ctx.__exit__(None, None, None)
        self.ctx = None


class ProjectionAutocast(Callback):
    """bf16 for the vocabulary projection alone, forward and backward, for the whole fit (the model's
    `projection_dtype`, as `TeacherForcing` sets `pr_force`): on a CPU the other products are too small to repay their
    conversions (docs/performance.md). Weights, states, the other products and the loss stay fp32."""
    def __init__(self, dtype=torch.bfloat16): self.dtype, self.target = dtype, None
    def before_fit(self):
        self.target = get_model(self.learn.model)
        self.target.projection_dtype = self.dtype
    def after_fit(self): self.close_context()
    def close_context(self):
        if self.target is not None: self.target.projection_dtype, self.target = None, None


def precision_callbacks(precision, device, shortlist=0):
    """The callbacks that train in `precision` ('fp32', 'bf16' or 'fp16', as `resolve_precision` returns) on `device`:
    bf16 autocasts every product but the recurrent cells' on a GPU; on a CPU it is the vocabulary projection alone,
    fused with the loss in training. fp32 on a CPU trains the softmax over a `shortlist` of target words (0: all)."""
    if precision == 'fp32':
        return [ShortlistLoss(shortlist)] if shortlist and torch.device(device).type == 'cpu' else []
    if precision == 'bf16':
        if torch.device(device).type == 'cuda': return [Autocast(torch.bfloat16)]
        return [ProjectionAutocast(torch.bfloat16), FusedProjectionLoss(torch.bfloat16)]
    if precision == 'fp16':
        if torch.device(device).type != 'cuda':
            raise OptionError("precision 'fp16' needs a CUDA GPU (it trains with a gradient scaler); on the CPU use "
                              "'bf16', 'fp32' or 'auto'", 'precision')
        return [MixedPrecision('fp16')]
    raise OptionError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}", 'precision')


@cache   # the hardware does not change: probed once per process, not on every `translate`
def cpu_bf16_kind():
    """How this CPU multiplies bf16: 'amx' (AMX tiles), 'avx512_bf16' (AVX512-BF16 instructions), or None (emulated,
    much slower than fp32; docs/performance.md). A process held to AVX2 kernels (`ATEN_CPU_CAPABILITY=avx2`, how
    docs/performance.md imitates an AVX2 CPU) is taken for the CPU it imitates."""
    if torch.backends.cpu.get_cpu_capability() == 'AVX2': return None
    probe = lambda name: bool(getattr(torch.cpu, name, lambda: False)())
    return 'amx' if probe('_is_amx_tile_supported') else 'avx512_bf16' if probe('_is_avx512_bf16_supported') else None


@cache   # read /proc/cpuinfo once per field and process
def cpu_info(field):
    "A field of the first CPU in /proc/cpuinfo ('vendor_id', 'model name', ...), or '' where it cannot be read."
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            return next((line.split(':', 1)[1].strip() for line in f if line.split(':', 1)[0].strip() == field), '')
    except OSError: return ''


def cpu_vendor():
    "The CPU's vendor as Linux reports it ('GenuineIntel', 'AuthenticAMD', ...), or '' where it cannot be read."
    return cpu_info('vendor_id')


def cpu_model():
    "The CPU's model name as Linux reports it ('Intel(R) Xeon(R) Processor', ...), or '' where it cannot be read."
    return cpu_info('model name')


# (bf16 kind, vendor) → bf16 where the lesson preset trained faster in it than in fp32, measured side by side on each
# kind (docs/performance.md: AMX on an Intel Xeon, AVX512-BF16 on an AMD EPYC); every other kind trains in fp32 (an
# Intel Xeon with AVX512-BF16 and no AMX ran the projection slower in bf16).
CPU_BF16_TABLE = {('amx', 'GenuineIntel'): 'bf16', ('avx512_bf16', 'AuthenticAMD'): 'bf16'}


def cpu_precision(bf16_kind, vendor, n_hid=300, vocab=10000):
    """What 'auto' trains in on a CPU of `bf16_kind` (`cpu_bf16_kind`) and `vendor`, for a vocabulary projection of
    n_hid × vocab: a lookup in `CPU_BF16_TABLE`, so the same machine chooses the same precision on every run; fp32 for
    projections smaller than the lesson's (300 × 8,000), where bf16 does not pay, and on CPUs the table lacks."""
    if n_hid * vocab < AUTO_MIN_PROJECTION: return 'fp32'
    return CPU_BF16_TABLE.get((bf16_kind, vendor), 'fp32')


def resolve_precision(precision, device, n_hid=300, vocab=10000):
    """'fp32', 'bf16' or 'fp16' for `precision` on `device`. 'auto': on a GPU, bf16 where it is supported (no gradient
    scaler needed), else fp16; on a CPU, `cpu_precision` of this CPU: a table of measured machine kinds, no timing."""
    if precision not in PRECISIONS:
        raise OptionError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}", 'precision')
    if precision != 'auto': return precision
    device = torch.device(device)
    if device.type == 'cuda': return 'bf16' if torch.cuda.is_bf16_supported() else 'fp16'
    if device.type != 'cpu': return 'fp32'
    return cpu_precision(cpu_bf16_kind(), cpu_vendor(), n_hid, vocab)


DECODING_PRECISIONS = ('auto', 'fp32', 'bf16')


def decoding_dtype(model, precision='auto'):
    """The dtype of the vocabulary projection when `model` decodes on a CPU: bf16 where `precision` resolves to it as in
    training ('auto': `cpu_precision` of this CPU, the same every run), else None (fp32). The projection is most of a
    beam step (docs/performance.md); GPUs and int8 models decode as they are."""
    if precision not in DECODING_PRECISIONS:
        raise OptionError(f"decoding precision must be one of {', '.join(DECODING_PRECISIONS)}, got {precision!r}",
                          'precision')
    device = next(model.parameters()).device
    if precision == 'fp32' or device.type != 'cpu' or _quantized(model): return None
    c = model.config
    return torch.bfloat16 if resolve_precision(precision, device, c.n_hid_dec, c.tgt_vocab) == 'bf16' else None


def _quantized(model): return any(type(m).__module__.startswith('torch.ao.nn.quantized') for m in model.modules())


def precision_label(precision, device):
    "How `precision` reads in logs on `device`: 'fp32' on a CUDA GPU says that its matrix products run in TF32."
    tf32 = torch.device(device).type == 'cuda' and torch.backends.cuda.matmul.allow_tf32
    return f"{precision} (TF32 products)" if precision == 'fp32' and tf32 else precision


def prepare_device(device):
    """Settings a device trains fastest with: TF32 matrix products and convolutions on CUDA GPUs that have them, so
    'fp32' on such a GPU means fp32 storage with TF32 products (10-bit mantissa inputs, fp32 accumulation)."""
    if torch.device(device).type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
