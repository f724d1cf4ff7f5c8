"""Sentences/s and BLEU of models through `fastseq translate` as a user runs it: the sources of a validation TSV piped
in REPEAT times, one process per run, its wall time less that of the same command on one short sentence (start-up,
loading and the first call, which builds spaCy's French tokenizer rules; the fastest of three runs, reported beside),
greedy and beam 5, fp32 and with --int8, over the model's lexical shortlist and with --full-vocab, with the command's
own number of worker processes or with --workers; BLEU of the first copy. One JSON line per model, precision,
vocabulary, beam and workers.

    PYTHONPATH=. python bench/translate_speed.py VALID.tsv MODEL [MODEL ...] [--int8] [--full-vocab] [--beams 1 5]
                                                 [--n N] [--repeat 3] [--workers N ...]
"""
import argparse
import itertools
import json
import os
import subprocess
import sys
import time

from fastseq.datasets import read_tsv
from fastseq.metrics import corpus_bleu, tokenized_bleu


def run(model, beam, int8, text, full_vocab=False, workers=None):
    "(seconds, output lines) of `fastseq translate MODEL --beam BEAM` on `text` in a new process."
    cmd = [sys.executable, '-m', 'fastseq.cli', 'translate', *model.split('+'), '--beam', str(beam)] + ['--int8'] * int8
    cmd += ['--full-vocab'] * full_vocab + ([] if workers is None else ['--workers', str(workers)])
    t0 = time.perf_counter()
    done = subprocess.run(cmd, input=text, capture_output=True, text=True, check=True, env=os.environ)
    return time.perf_counter() - t0, done.stdout.splitlines()


def main(valid, models, int8=False, beams=(1, 5), n=None, repeat=3, full_vocab=False, workers=(None,)):
    df = read_tsv(valid)[:n]
    sources, refs = '\n'.join(df.fr) + '\n', list(df.en)
    for model in models:
        for quantized, full in itertools.product((False, True) if int8 else (False,), (False, True)[:1 + full_vocab]):
            start = min(run(model, 1, quantized, 'Bonjour.\n', full)[0] for _ in range(3))
            for beam, n_workers in itertools.product(beams, workers):
                secs, hyps = run(model, beam, quantized, sources * repeat, full, n_workers)
                print(json.dumps({'model': model, 'int8': quantized, 'full_vocab': full, 'beam': beam,
                                  'workers': n_workers or 'default',
                                  'sentences': len(refs) * repeat,
                                  'wall_s': round(secs, 2), 'startup_s': round(start, 2),
                                  'sent_per_s': round((len(refs) * repeat - 1) / (secs - start), 1),
                                  'bleu_lc_tok': round(tokenized_bleu(hyps[:len(refs)], refs), 2),
                                  'bleu': round(corpus_bleu(hyps[:len(refs)], refs), 2)}), flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('valid'); p.add_argument('models', nargs='+', help='a model, or several joined by + (an ensemble)')
    p.add_argument('--int8', action='store_true', help='also with --int8')
    p.add_argument('--full-vocab', action='store_true', help='also over the whole vocabulary')
    p.add_argument('--beams', type=int, nargs='+', default=[1, 5]); p.add_argument('--n', type=int)
    p.add_argument('--repeat', type=int, default=3, help='the sources piped in this many times')
    p.add_argument('--workers', type=int, nargs='+', default=[None], help="translate's --workers (default: its own)")
    a = p.parse_args()
    main(a.valid, a.models, a.int8, a.beams, a.n, a.repeat, a.full_vocab, a.workers)
