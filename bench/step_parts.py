"""Pieces of a lesson-preset training step timed alone, each way: the loss over 1,100 × 9,385 logits (forward and
backward), the optimizer step over the lesson model's parameters, the vocabulary projection in fp32 / bf16 / fp16,
the projection and smoothed loss through logits or fused (`FusedProjectionCrossEntropy`), and the top-k and
log-softmax of a beam-search step (625 rows). Names of parts as arguments run those alone.

    PYTHONPATH=. python bench/step_parts.py [loss optimizer projection fused beam]
"""
import sys
from dataclasses import asdict
import time

import torch
import torch.nn.functional as F
from fastai.optimizer import Adam

from fastseq.bench import LESSON
from fastseq.fused import FusedProjectionCrossEntropy
from fastseq.losses import MaskedCrossEntropy
from fastseq.model import Seq2SeqRNN

TOKENS, N_HID, VOCAB = 1100, 300, 9385


def ms(fn, reps=10):
    "Milliseconds per call of `fn`, after one warm-up call."
    fn()
    t0 = time.perf_counter()
    for _ in range(reps): fn()
    return (time.perf_counter() - t0) / reps * 1000


def loss_parts():
    z = (torch.randn(TOKENS, VOCAB) * 3).requires_grad_()
    y = torch.randint(0, VOCAB, (TOKENS,)); y[:50] = 1
    return {'F.cross_entropy': ms(lambda: F.cross_entropy(z, y, ignore_index=1).backward()),
            'MaskedCrossEntropy': ms(lambda: MaskedCrossEntropy.apply(z, y, 1).backward())}


def optimizer_parts():
    model = Seq2SeqRNN.from_sizes(15007, VOCAB, **asdict(LESSON.model))
    for p in model.parameters(): p.grad = torch.randn_like(p) * 1e-3
    kw = dict(betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)
    opts = {'fastai Adam': Adam(list(model.parameters()), 2e-3),
            'AdamW fused': torch.optim.AdamW(model.parameters(), 2e-3, fused=True, **kw),
            'AdamW foreach': torch.optim.AdamW(model.parameters(), 2e-3, foreach=True, **kw)}
    return {name: ms(opt.step) for name, opt in opts.items()}


def projection_parts():
    x = torch.rand(TOKENS, N_HID).sub(.5).requires_grad_()
    w = (torch.rand(VOCAB, N_HID) * .2 - .1).requires_grad_()
    y = torch.randint(0, VOCAB, (TOKENS,))
    def run(dtype):
        with torch.autocast('cpu', dtype=dtype, enabled=dtype != torch.float32): z = F.linear(x, w)
        F.cross_entropy(z.float(), y).backward()
    return {str(d).split('.')[1]: ms(lambda d=d: run(d)) for d in (torch.float32, torch.bfloat16, torch.float16)}


def fused_parts():
    "Projection (with bias) and loss (label smoothing 0.1, 50 pad targets), forward and backward, each precision."
    x = torch.rand(TOKENS, N_HID).sub(.5).requires_grad_()
    w, b = (torch.rand(VOCAB, N_HID) * .2 - .1).requires_grad_(), torch.zeros(VOCAB, requires_grad=True)
    y = torch.randint(0, VOCAB, (TOKENS,)); y[:50] = 1
    def logits(dtype):
        with torch.autocast('cpu', dtype=dtype, enabled=dtype is not None): z = F.linear(x, w, b)
        MaskedCrossEntropy.apply(z.float(), y, 1, 0.1).backward()
    fused = lambda dtype: FusedProjectionCrossEntropy.apply(x, w, b, y, 1, 0.1, dtype).backward()
    return {f'{name} {"bf16" if d else "fp32"}': ms(lambda f=f, d=d: f(d))
            for d in (None, torch.bfloat16) for name, f in (('logits', logits), ('fused', fused))}


def beam_step_parts():
    logits = torch.randn(625, VOCAB) * 3
    return {'topk': ms(lambda: logits.topk(5, 1), 50), 'logsumexp': ms(lambda: torch.logsumexp(logits, 1), 50),
            'log_softmax': ms(lambda: torch.log_softmax(logits, 1), 50)}


PARTS = {'loss': loss_parts, 'optimizer': optimizer_parts, 'projection': projection_parts, 'fused': fused_parts,
         'beam': beam_step_parts}

if __name__ == '__main__':
    torch.set_num_threads(2)
    for name in sys.argv[1:] or PARTS:
        print(f"{name}: " + ', '.join(f"{k} {v:.1f} ms" for k, v in PARTS[name]().items()), flush=True)
