"""Embedding ablation on Tatoeba: random vs fastText-initialised (vectors trained on the training split), tied vs
untied output; same data, model size, epochs and seed for every row.

    python bench/ablation_embeddings.py --data-dir ../shared/data/fra-eng --train-pairs 30000 --epochs 2
"""
import argparse
import json
import time

from fastai.torch_core import set_seed

from fastseq.callbacks import TeacherForcing
from fastseq.data import Seq2SeqDataLoaders
from fastseq.datasets import read_tsv
from fastseq.learner import seq2seq_learner
from fastseq.metrics import corpus_bleu, corpus_chrf

ROWS = [('random', True), ('fastText (train)', True), ('random', False), ('fastText (train)', False)]


def run_row(dls, vecs, tie, a):
    set_seed(0)
    size = dict(emb_sz_src=a.emb_sz, emb_sz_tgt=a.emb_sz, n_hid_enc=a.emb_sz, n_hid_dec=a.emb_sz, att_sz=a.emb_sz)
    learn = seq2seq_learner(dls, metrics=[], tie=tie, bidir=True, vecs_src=vecs, vecs_tgt=vecs, **size)
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, a.lr, cbs=TeacherForcing(1., 1.))
    minutes = (time.perf_counter() - start) / 60
    pairs = learn.valid_pairs()
    hyps, refs = learn.translate([s for s, _ in pairs]), [r for _, r in pairs]
    with learn.no_bar(): valid_loss = float(learn.validate()[0])
    return {'valid_loss_free_running': round(valid_loss, 3), 'bleu': round(corpus_bleu(hyps, refs), 2),
            'chrf': round(corpus_chrf(hyps, refs), 2), 'train_minutes': round(minutes, 2),
            'params': sum(p.numel() for p in learn.model.parameters())}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data-dir', default='../shared/data/fra-eng')
    p.add_argument('--train-pairs', type=int, default=30000)
    p.add_argument('--valid-pairs', type=int, default=1000)
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--emb-sz', type=int, default=128)
    p.add_argument('--lr', type=float, default=3e-3)
    a = p.parse_args()
    train = read_tsv(f"{a.data_dir}/train.tsv").iloc[:a.train_pairs]
    valid = read_tsv(f"{a.data_dir}/valid.tsv").iloc[:a.valid_pairs]
    dls = Seq2SeqDataLoaders.from_df(train, valid_df=valid, bs=64, min_freq=2, max_len=30, device='cpu')
    for vecs_name, tie in ROWS:
        vecs = 'train' if vecs_name.startswith('fastText') else None
        print(json.dumps({'embeddings': vecs_name, 'tied': tie, **run_row(dls, vecs, tie, a)}), flush=True)


if __name__ == '__main__': main()
