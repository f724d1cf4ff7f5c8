"""Training speed of the default recipe and of cheaper variants on this CPU (`fastseq.bench.bench_train`, as
`fastseq bench` trains, at teacher forcing 1), in minutes per epoch of the corpus; with `--profile`, where the default
recipe's step spends its time (torch.profiler over 10 batches, operators by self time). Variants are measured in turn,
`--rounds` times, so a drift of the machine hits them alike. Run it with the environment of the CPU to imitate:

    PYTHONPATH=. python bench/recipe_speeds.py ../shared/data/fra-eng/train.tsv --precision fp32 --profile
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 PYTHONPATH=. python ...
"""
import argparse
import json
import platform

import torch

from fastai.callback.core import Callback, CancelFitException

from fastseq.bench import bench_train
from fastseq.callbacks import TeacherForcing
from fastseq.config import RECIPES, TrainConfig, learner_options
from fastseq.data import Seq2SeqDataLoaders
from fastseq.datasets import read_tsv
from fastseq.learner import seq2seq_learner
from fastseq.precision import precision_callbacks, resolve_precision
from fastseq.recipe import pass_minutes, speed_config

VARIANTS = {   # TrainConfig overrides over the default recipe; the data side (tokenizer) builds its own DataLoaders
    'default': {},
    'whole vocabulary': dict(shortlist=0),   # the training softmax over every target word, as before the shortlist
    'decoder 1 layer': dict(model=dict(n_layers_dec=1)),
    'encoder 1 layer': dict(model=dict(n_layers_enc=1)),
    'bs 250, encoder 1 layer': dict(bs=250, model=dict(n_layers_enc=1)),
    'target side 192': dict(model=dict(emb_sz_tgt=192)),
    'student shape': dict(model=dict(emb_sz_tgt=192, n_layers_dec=1)),
    'bs 250': dict(bs=250),
    'bs 375': dict(bs=375),
    'bs 500': dict(bs=500),
    'bs 250, shortlist 1000': dict(bs=250, shortlist=1000),
    'spm 4000': dict(tokenizer='spm', vocab_sz=4000),
    **{f"recipe {name}": options for name, options in RECIPES.items() if options},   # fastseq.config.RECIPES
}


def dataloaders(df, c: TrainConfig, built):
    "The DataLoaders of `c`'s data options, built once (kept in `built`) per tokenizer, vocabulary size and batch size."
    key = c.tokenizer, c.vocab_sz, c.bs
    if key not in built: built[key] = _dataloaders(df, c)
    return built[key]


def _dataloaders(df, c):
    return Seq2SeqDataLoaders.from_df(df, c.src, c.tgt, bs=c.bs, valid_pct=0.02, seed=0, max_len=c.max_len,
                                      min_freq=c.min_freq, tokenizer=c.tokenizer, vocab_sz=c.vocab_sz, verbose=False,
                                      device=torch.device('cpu'))


def profile(dls, c: TrainConfig, precision, n=10):
    "The 15 operators with the most self CPU time over `n` training batches of `c`, after 5 warm-up batches."
    learn = seq2seq_learner(dls, metrics=[], **learner_options(c))
    m = learn.model.config
    precision = resolve_precision(precision, dls.device, m.n_hid_dec, m.tgt_vocab)      # as `bench_train` does
    cbs = [TeacherForcing(c.tf_start, c.tf_end), *precision_callbacks(precision, dls.device, c.shortlist)]
    with learn.no_logging(), learn.no_bar():
        learn.fit(1, float(c.lr), cbs=[*cbs, _Stop(5)])
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            learn.fit(1, float(c.lr), cbs=[*cbs, _Stop(n)])
    return prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=15)


class _Stop(Callback):
    "Cancel the fit after `n` training batches, before validation."
    def __init__(self, n): self.n, self.seen = n, 0
    def after_batch(self):
        self.seen += 1
        if self.seen >= self.n: raise CancelFitException()


def main(data, seconds, rounds, precision, names, show_profile):
    df, built = read_tsv(data, 'fr', 'en'), {}
    configs = {n: speed_config(**VARIANTS[n]) for n in names}
    dls = {n: dataloaders(df, c, built) for n, c in configs.items()}
    print(json.dumps({'cpu': platform.processor(), 'capability': torch.backends.cpu.get_cpu_capability(),
                      'threads': torch.get_num_threads()}))
    if show_profile:
        c = speed_config()
        print(profile(dataloaders(df, c, built), c, precision))
    for r in range(rounds):
        for n, c in configs.items():
            _, out = bench_train(dls[n], seconds, precision, config=c)
            print(json.dumps({'round': r, 'variant': n, 'precision': out['precision'],
                              'tgt_tok_per_s': round(out['tgt_tok_per_s']),
                              'epoch_min': round(pass_minutes(dls[n], out['tgt_tok_per_s']), 2),
                              'tgt_vocab': len(dls[n].processor.tgt_vocab), 'params': out['params']}), flush=True)


def speed_parser(doc, variants, seconds=40, rounds=2):
    "The options that this script and the ones built on it share: the data, the time and rounds, precision, variants."
    p = argparse.ArgumentParser(description=doc.split('\n\n')[0])
    p.add_argument('data')
    p.add_argument('--seconds', type=float, default=seconds)
    p.add_argument('--rounds', type=int, default=rounds)
    p.add_argument('--precision', default='auto')
    p.add_argument('--variants', nargs='*', default=list(variants), choices=list(variants))
    return p


if __name__ == '__main__':
    p = speed_parser(__doc__, VARIANTS)
    p.add_argument('--profile', action='store_true')
    a = p.parse_args()
    main(a.data, a.seconds, a.rounds, a.precision, a.variants, a.profile)
