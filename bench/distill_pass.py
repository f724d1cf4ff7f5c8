"""Speed of distillation's translation pass on this machine: the teachers (one, or several as an ensemble) translate
N sources spread evenly over a training TSV (every k-th line, so that their
lengths are the file's) at a beam, as `fastseq distill` does (`translate_corpus`); prints the
sentences/s and the minutes the whole file would take at that rate.

    PYTHONPATH=. python bench/distill_pass.py DATA N BEAM TEACHER [TEACHER ...]"""
import json
import sys
import tempfile
import time
import warnings

from fastseq.bundle import load_ensemble
from fastseq.datasets import read_tsv
from fastseq.distillation import teacher_key, translate_corpus


def main(data, n, beam, *teachers):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        teacher = load_ensemble(teachers)
    everything = read_tsv(data).fr
    sources = list(everything[::max(1, len(everything) // int(n))][:int(n)])
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        translate_corpus(teacher, sources, f"{tmp}/pass.jsonl", teacher_key(teacher, sources, int(beam)),
                         beam=int(beam), progress=False)
        seconds = time.perf_counter() - start
    total = len(everything)
    print(json.dumps({'teachers': len(teachers), 'beam': int(beam), 'sources': len(sources),
                      'seconds': round(seconds, 1), 'sentences_per_s': round(len(sources) / seconds, 1),
                      'minutes_for_all': round(total / (len(sources) / seconds) / 60, 1), 'all_sources': total}))


if __name__ == '__main__': main(*sys.argv[1:])
