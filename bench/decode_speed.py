"""Decoding speed on Tatoeba: train the lesson-preset model briefly, then time greedy and beam-5 decoding.

    python bench/decode_speed.py --data-dir ../shared/data/fra-eng --train-pairs 40000 --epochs 2

Prints one JSON object: training time, sentences/s and target tokens/s for greedy and beam 5 over the first
`--n` validation sentences, and their BLEU (sacrebleu default, against the raw references).
"""
import argparse
import json
import time

import torch
from fastai.torch_core import set_seed

from fastseq.callbacks import TeacherForcing
from fastseq.data import Seq2SeqDataLoaders
from fastseq.datasets import read_tsv
from fastseq.learner import seq2seq_learner
from fastseq.metrics import corpus_bleu

LESSON_PRESET = dict(emb_sz_src=300, emb_sz_tgt=300, n_hid_enc=256, n_layers_enc=2, n_hid_dec=300, n_layers_dec=2,
                     att_sz=300, bidir=False)


def timed_decode(learn, texts, beam, bs):
    start = time.perf_counter()
    hyps = learn.translate(texts, beam=beam, bs=bs)
    secs = time.perf_counter() - start
    n_tok = sum(len(t) + 1 for t in learn.dls.processor.tgt_tok(hyps))  # detokenized output re-tokenized, + eos
    return hyps, {'sent_per_s': round(len(texts) / secs, 1), 'tgt_tok_per_s': round(n_tok / secs, 1),
                  'seconds': round(secs, 2)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data-dir', default='../shared/data/fra-eng')
    p.add_argument('--train-pairs', type=int, default=40000)
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--n', type=int, default=2000)
    p.add_argument('--bs', type=int, default=125)
    a = p.parse_args()
    set_seed(0)
    train = read_tsv(f"{a.data_dir}/train.tsv").iloc[:a.train_pairs]
    valid = read_tsv(f"{a.data_dir}/valid.tsv")
    dls = Seq2SeqDataLoaders.from_df(train, valid_df=valid, bs=a.bs, min_freq=2, max_len=30, device='cpu')
    learn = seq2seq_learner(dls, metrics=[], **LESSON_PRESET)
    start = time.perf_counter()
    learn.fit_one_cycle(a.epochs, 3e-3, cbs=TeacherForcing(1.0, 1.0))
    train_secs = time.perf_counter() - start
    texts, refs = list(valid.fr[:a.n]), list(valid.en[:a.n])
    report = {'threads': torch.get_num_threads(), 'train_pairs': len(dls.train_ds), 'epochs': a.epochs,
              'train_minutes': round(train_secs / 60, 2), 'params': sum(q.numel() for q in learn.model.parameters())}
    for beam in (1, 5):
        hyps, speed = timed_decode(learn, texts, beam, a.bs)
        report[f'beam{beam}'] = {**speed, 'bleu': round(corpus_bleu(hyps, refs), 2)}
    print(json.dumps(report))


if __name__ == '__main__': main()
