"""Sentences/s and BLEU of models through `fastseq translate` as a user runs it: the sources of a validation TSV piped
in, one process per run, its wall time less that of the same command on empty input (start-up and loading, reported
beside), greedy and beam 5, fp32 and with --int8. One JSON line per model, precision and beam.

    PYTHONPATH=. python bench/translate_speed.py VALID.tsv MODEL [MODEL ...] [--int8] [--beams 1 5] [--n N]
"""
import argparse
import json
import os
import subprocess
import sys
import time

from fastseq.datasets import read_tsv
from fastseq.metrics import corpus_bleu, tokenized_bleu


def run(model, beam, int8, text):
    "(seconds, output lines) of `fastseq translate MODEL --beam BEAM` on `text` in a new process."
    cmd = [sys.executable, '-m', 'fastseq.cli', 'translate', *model.split('+'), '--beam', str(beam)] + ['--int8'] * int8
    t0 = time.perf_counter()
    done = subprocess.run(cmd, input=text, capture_output=True, text=True, check=True, env=os.environ)
    return time.perf_counter() - t0, done.stdout.splitlines()


def main(valid, models, int8=False, beams=(1, 5), n=None):
    df = read_tsv(valid)[:n]
    sources, refs = '\n'.join(df.fr) + '\n', list(df.en)
    for model in models:
        for quantized in (False, True) if int8 else (False,):
            start, _ = run(model, 1, quantized, '')
            for beam in beams:
                secs, hyps = run(model, beam, quantized, sources)
                print(json.dumps({'model': model, 'int8': quantized, 'beam': beam, 'sentences': len(refs),
                                  'wall_s': round(secs, 2), 'startup_s': round(start, 2),
                                  'sent_per_s': round(len(refs) / (secs - start), 1),
                                  'bleu_lc_tok': round(tokenized_bleu(hyps, refs), 2),
                                  'bleu': round(corpus_bleu(hyps, refs), 2)}), flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('valid'); p.add_argument('models', nargs='+', help='a model, or several joined by + (an ensemble)')
    p.add_argument('--int8', action='store_true', help='also with --int8')
    p.add_argument('--beams', type=int, nargs='+', default=[1, 5]); p.add_argument('--n', type=int)
    a = p.parse_args()
    main(a.valid, a.models, a.int8, a.beams, a.n)
