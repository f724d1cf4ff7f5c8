"""The lexical shortlist of decoding, measured on a trained model: for each (frequent words, words per source word),
the target rows a batch of 64 validation sentences spans, the share of the references' tokens among them, and BLEU
and sentences/s of `Translator.translate` on the validation sources, greedy and beam 5, beside the whole vocabulary.
The shortlist is built from TRAIN.tsv with the model's own tokenizers; `--save DIR` writes the model's bundle with
the first setting's shortlist, for a model exported before `train` built one. One JSON line per setting and beam.

    PYTHONPATH=. python bench/lexical_shortlist.py TRAIN.tsv VALID.tsv MODEL [--settings 1000:20 500:10 ...]
                                                   [--beams 1 5] [--int8] [--save DIR]
"""
import argparse
import json
import time

import numpy as np
import torch

from fastseq.bundle import load_translator, save_bundle
from fastseq.data import pad_batch
from fastseq.datasets import read_tsv
from fastseq.lexical import lexical_shortlist
from fastseq.metrics import tokenized_bleu
from fastseq.pairs import PairDataset


def training_pairs(proc, train):
    "The pairs of TRAIN.tsv as the model's ids (targets ending in eos)."
    df = read_tsv(train)
    return PairDataset.from_lists(proc.src_ids(list(df.fr)), proc.tgt_ids(list(df.en)))


def coverage(proc, shortlist, src, tgt, bs=64):
    """Mean rows a batch of the source ids `src` spans and the share of the reference ids `tgt`'s known tokens among
    its rows, batches sorted by length."""
    order = sorted(range(len(src)), key=lambda i: -len(src[i]))
    n_rows, hit, total = [], 0, 0
    for start in range(0, len(order), bs):
        chunk = order[start:start + bs]
        rows = set(shortlist.rows(pad_batch([src[i] for i in chunk], proc.src_vocab.pad_idx)).tolist())
        known = [t for i in chunk for t in tgt[i] if t != 0]                 # 0: unknown, which no shortlist helps
        n_rows.append(len(rows)); hit += sum(t in rows for t in known); total += len(known)
    return float(np.mean(n_rows)), hit / total


def timed(translator, sources, refs, beam):
    "(BLEU lc-tok, sentences/s) of translating `sources` in one call, after a warm-up call."
    translator.translate(sources[:64], beam=beam)
    t0 = time.perf_counter()
    hyps = translator.translate(sources, beam=beam)
    return round(tokenized_bleu(hyps, refs), 2), round(len(sources) / (time.perf_counter() - t0), 1)


def main(train, valid, model, settings, beams=(1, 5), int8=False, save=None):
    translator = load_translator(model, int8=int8)
    proc, cfg = translator.processor, translator.model.config
    df = read_tsv(valid)
    sources, refs = list(df.fr), list(df.en)
    valid_ids = proc.src_ids(sources), proc.tgt_ids(refs)
    t0 = time.perf_counter()
    pairs = training_pairs(proc, train)
    print(json.dumps({'tokenized_s': round(time.perf_counter() - t0, 1), 'pairs': len(pairs)}), flush=True)
    shortlists = {}
    for n_frequent, per_word in settings:
        t0 = time.perf_counter()
        shortlists[n_frequent, per_word] = lexical_shortlist(pairs, cfg.src_vocab, cfg.tgt_vocab, n_frequent, per_word)
        build_s = time.perf_counter() - t0
        rows, covered = coverage(proc, shortlists[n_frequent, per_word], *valid_ids)
        print(json.dumps({'n_frequent': n_frequent, 'per_word': per_word, 'build_s': round(build_s, 1),
                          'rows_per_batch': round(rows), 'vocab': cfg.tgt_vocab, 'ref_coverage': round(covered, 4)}),
              flush=True)
    for beam in beams:
        for key in [None, *shortlists]:
            translator.shortlist = None if key is None else shortlists[key]
            bleu, speed = timed(translator, sources, refs, beam)
            print(json.dumps({'model': model, 'int8': int8, 'beam': beam, 'shortlist': key, 'bleu_lc_tok': bleu,
                              'sent_per_s': speed}), flush=True)
    if save:
        translator.shortlist = shortlists[settings[0]]
        print(f"bundle with the shortlist {settings[0]}: {save_bundle(translator, save)}")


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('train'); p.add_argument('valid'); p.add_argument('model')
    p.add_argument('--settings', nargs='+', default=['1000:20'], help='FREQUENT:PER_WORD pairs')
    p.add_argument('--beams', type=int, nargs='+', default=[1, 5])
    p.add_argument('--int8', action='store_true'); p.add_argument('--save')
    a = p.parse_args()
    torch.set_grad_enabled(False)
    main(a.train, a.valid, a.model, [tuple(map(int, s.split(':'))) for s in a.settings], a.beams, a.int8, a.save)
