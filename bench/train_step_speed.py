"""Training-step throughput of the lesson preset on the same seeded Tatoeba batches, for before/after comparisons of
a code change: run it with PYTHONPATH pointing at each checkout.

    PYTHONPATH=. python bench/train_step_speed.py ../shared/data/fra-eng/train.tsv 0.5     # teacher forcing 0.5

A plain PyTorch loop (torch's Adam, no fastai callbacks) over batches 10–60 of a seeded sortish order; prints target
tokens/s and the last loss (equal losses across checkouts show the change kept the arithmetic)."""
import random
from dataclasses import asdict
import sys
import time

import numpy as np
import torch

from fastseq.bench import LESSON
from fastseq.data import Seq2SeqDataLoaders
from fastseq.losses import Seq2SeqLoss
from fastseq.model import Seq2SeqRNN


def main(path, pr_force, n_batches=60, warmup=10):
    dls = Seq2SeqDataLoaders.from_tsv(path, 'fr', 'en', bs=LESSON.bs, valid_pct=0.02, seed=0, min_freq=2, max_len=30,
                                      device=torch.device('cpu'), verbose=False)
    torch.manual_seed(0); random.seed(0); np.random.seed(0)
    model = Seq2SeqRNN.from_sizes(len(dls.processor.src_vocab), len(dls.processor.tgt_vocab), **asdict(LESSON.model))
    model.train(); model.pr_force = pr_force
    opt, loss_func, batches = torch.optim.Adam(model.parameters(), LESSON.lr), Seq2SeqLoss(1), iter(dls.train)
    for i in range(n_batches):
        src, tgt, src_lens, _ = next(batches)
        if i == warmup: t0, n_tok = time.perf_counter(), 0
        loss = loss_func(model(src, tgt, src_lens), tgt)
        loss.backward(); opt.step(); opt.zero_grad()
        if i >= warmup: n_tok += int((tgt != 1).sum())
    print(f"teacher forcing {pr_force}: {n_tok / (time.perf_counter() - t0):,.0f} target tok/s, loss {loss.item():.3f}")


if __name__ == '__main__': main(sys.argv[1], float(sys.argv[2]))
