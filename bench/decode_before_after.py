"""Decoding speed before/after a change to fastseq/decode.py: the old file (e.g. `git show REV:fastseq/decode.py >
/tmp/old_decode.py`) and the current one decode the same validation sentences, sorted by length, batches of 125,
twice each, with a trained export; prints sentences/s, how many outputs are identical, and BLEU.

    PYTHONPATH=. python bench/decode_before_after.py MODEL.pkl ../shared/data/fra-eng/valid.tsv /tmp/old_decode.py 2000
"""
import importlib.util
import sys
import time
import warnings

import torch
from fastai.learner import load_learner

import fastseq.decode as new
from fastseq.data import pad_batch, read_tsv
from fastseq.metrics import corpus_bleu, tokenized_bleu


def load_module(path):
    spec = importlib.util.spec_from_file_location('old_decode', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(model, batches, fn, beam):
    "Sentences/s and unpadded outputs of `fn` over the batches."
    t0, outs = time.perf_counter(), []
    for src in batches:
        if beam == 1: outs += [[t for t in r if t != 1] for r in fn(model, src)[0].tolist()]
        else: outs += [[t for t in h[0][0] if t != 1] for h in fn(model, src, beam)[0]]
    return sum(len(b) for b in batches) / (time.perf_counter() - t0), outs


def main(model_path, valid, old_path, n):
    warnings.filterwarnings('ignore')
    old, learn = load_module(old_path), load_learner(model_path)
    model, proc = learn.model.eval(), learn.dls.processor
    df = read_tsv(valid, 'fr', 'en')[:n]
    ids = proc.src_ids(list(df['fr']))
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
    refs = [df['en'].iloc[i] for i in order]
    batches = [pad_batch([ids[i] for i in order[j:j + 125]], 1) for j in range(0, len(order), 125)]
    runs = [(1, 'old', old.greedy_decode), (1, 'new', new.greedy_decode), (5, 'old', old.beam_search),
            (5, 'new', new.beam_search)]
    for _ in range(2):
        for beam, name, fn in runs:
            sps, outs = run(model, batches, fn, beam)
            if name == 'old': ref = outs
            hyps = [proc.tgt_text(o) for o in outs]
            same = sum(a == b for a, b in zip(outs, ref))
            print(f"beam {beam} {name}: {sps:.0f} sent/s; outputs identical to old: {same}/{len(outs)}; "
                  f"BLEU {corpus_bleu(hyps, refs):.2f} / lc-tok {tokenized_bleu(hyps, refs):.2f}", flush=True)


if __name__ == '__main__':
    torch.set_num_threads(2)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
