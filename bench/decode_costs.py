"""A decoding step's small costs on this CPU, then `Translator.translate`'s time on a validation set in one process.
Timing loops: torch's tanh against its sigmoid and the 2·sigmoid(2x) − 1 decoding uses (`fastseq.attention.tanh`, where
the tree has it) on a (256, 1, 12, 192) tensor, an additive attention's one-output scorer as an fp32 and an int8 layer,
and unpacking an int8 output layer (`weight()`); a batch's and a greedy step's selections (`batch_costs`). Then, per
model, the better of `--runs` passes of `translate` over the sources (chunks of 1,024 and batches of 64, as `fastseq
translate` reads and decodes), greedy and beam 5. On `--threads` threads (a `translate` worker has one). Run from two
trees in turn (PYTHONPATH=TREE, from outside either) to compare them. One JSON line per figure.

    PYTHONPATH=. python bench/decode_costs.py VALID.tsv [MODEL ...] [--runs 2] [--threads N]
"""
import argparse
import json
import time
import warnings

import torch
from torch import nn
from torch.ao.quantization import quantize_dynamic

import fastseq
import fastseq.attention
from fastseq.bundle import load_translator
from fastseq.datasets import read_tsv


def micro_seconds(fn, n=300):
    "Mean µs of `fn()` over `n` calls, after one."
    with torch.no_grad():
        fn()
        start = time.perf_counter()
        for _ in range(n): fn()
    return round((time.perf_counter() - start) / n * 1e6, 1)


def step_costs():
    "µs of the step's small operations, as dicts (decoding's tanh where this tree has it)."
    x = torch.randn(256, 1, 12, 192)
    scorer, out = nn.Linear(192, 1, bias=False), nn.Linear(192, 8000)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        int8_scorer, int8_out = quantize_dynamic(nn.Sequential(scorer, out), {nn.Linear})
    rows = [('torch.tanh', lambda: torch.tanh(x)), ('torch.sigmoid', lambda: torch.sigmoid(x)),
            ('one-output scorer, fp32', lambda: scorer(x)), ('one-output scorer, int8', lambda: int8_scorer(x)),
            ('unpacking an int8 8,000 x 192 layer (weight())', int8_out.weight)]
    if hasattr(fastseq.attention, 'tanh'):
        rows.insert(2, ("decoding's tanh, 2 sigmoid(2x) - 1", lambda: fastseq.attention.tanh(x)))
    return [{'op': name, 'us': micro_seconds(fn)} for name, fn in rows]


def batch_costs():
    """µs of a batch's and a greedy step's selections, the earlier way beside this tree's where it has them: a batch's
    shortlist rows (64 sentences of 12 words, 20 candidates a word and 1,000 always) by `torch.unique` and by a mask,
    an int8 6,938 x 192 layer's 2,100 rows by a float round trip and by `index_select`, and each row's best of (64,
    3,001) fp32 scores by `max` and by `best_columns`."""
    import fastseq.decode
    torch.manual_seed(0)
    src, table, always = torch.randint(0, 15000, (64, 12)), torch.randint(0, 6938, (15000, 20)), torch.arange(1000)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = quantize_dynamic(nn.Sequential(nn.Linear(192, 6938)), {nn.Linear})[0]
        weight, rows = out.weight(), torch.randperm(6938)[:2100].sort().values
        values = weight.dequantize()
        float_round_trip = lambda: torch.quantize_per_tensor(values[rows], weight.q_scale(), weight.q_zero_point(),
                                                             weight.dtype)
    def masked():
        kept = torch.zeros(6938, dtype=torch.bool)
        kept[always] = True
        kept[table[src.flatten()].flatten()] = True
        return kept.nonzero().view(-1)
    scores = torch.randn(64, 3001)
    ops = [('shortlist rows, torch.unique', lambda: torch.unique(torch.cat([always, table[src.flatten()].flatten()]))),
           ('shortlist rows, a mask', masked),
           ('int8 rows, float round trip', float_round_trip),
           ('int8 rows, index_select', lambda: weight.index_select(0, rows)),
           ('best of each row, max', lambda: scores.max(-1))]
    if hasattr(fastseq.decode, 'best_columns'):
        ops.append(('best of each row, best_columns', lambda: fastseq.decode.best_columns(scores)))
    return [{'op': name, 'threads': torch.get_num_threads(), 'us': micro_seconds(fn)} for name, fn in ops]


def translate_seconds(model, sources, beam, runs):
    "The better of `runs` passes of `translate` over `sources`, in chunks of 1,024 and batches of 64."
    translator = load_translator(model)
    translator.translate(sources[:64], beam=beam)
    best = float('inf')
    for _ in range(runs):
        start = time.perf_counter()
        for i in range(0, len(sources), 1024): translator.translate(sources[i:i + 1024], beam=beam, return_info=True)
        best = min(best, time.perf_counter() - start)
    return round(best, 2)


def main(valid, models, runs=2):
    tree = fastseq.__file__.rsplit('/fastseq/', 1)[0]
    for row in step_costs() + batch_costs(): print(json.dumps({'tree': tree, **row}), flush=True)
    sources = list(read_tsv(valid).iloc[:, 0].astype(str))
    for model in models:
        for beam in (1, 5):
            print(json.dumps({'tree': tree, 'model': model, 'beam': beam, 'sentences': len(sources),
                              'seconds': translate_seconds(model, sources, beam, runs)}), flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('valid')
    p.add_argument('models', nargs='*', help='exports or bundles (an int8 bundle decodes int8)')
    p.add_argument('--runs', type=int, default=2)
    p.add_argument('--threads', type=int, help="torch's threads (default: torch's own)")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        main(a.valid, a.models, a.runs)
