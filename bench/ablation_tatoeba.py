"""The lesson's ablation on Tatoeba fr→en, every row trained for the same wall-clock budget (TimeBudget):
plain seq2seq → + bidirectional → + teacher forcing → + attention → + fastText init → + beam 5; then the
"+ attention" row again on text tokenized without normalisation (curly/straight apostrophes and French no-break
spaces left as they are), for the normalisation comparison.

    PYTHONPATH=. python bench/ablation_tatoeba.py ../shared/data/fra-eng 3      # data folder, minutes per row

Prints one markdown row per step: free-running valid loss and token accuracy (padding ignored), BLEU (sacrebleu
default and lowercased-tokenized) and chrF on the whole valid split, training minutes."""
import json
import sys
import time

from fastai.torch_core import set_seed
from fastcore.xtras import Path

from fastseq.callbacks import TeacherForcing, TimeBudget
from fastseq.data import Seq2SeqDataLoaders
from fastseq.learner import seq2seq_learner
from fastseq.metrics import corpus_bleu, corpus_chrf, tokenized_bleu
from fastseq.training import plain_progress

ROWS = [('plain seq2seq', dict(attention=False, bidir=False), False, None, 1),
        ('+ bidirectional', dict(attention=False, bidir=True), False, None, 1),
        ('+ teacher forcing', dict(attention=False, bidir=True), True, None, 1),
        ('+ attention', dict(attention=True, bidir=True), True, None, 1),
        ('+ fastText init', dict(attention=True, bidir=True), True, 'train', 1),
        ('+ beam 5', None, None, None, 5)]


def score(learn, beam):
    pairs = learn.valid_pairs()
    hyps, refs = learn.translate([s for s, _ in pairs], beam=beam, bs=125), [r for _, r in pairs]
    return corpus_bleu(hyps, refs), tokenized_bleu(hyps, refs), corpus_chrf(hyps, refs)


def train_row(dls, arch, forcing, vecs, minutes, lr=5e-3):
    set_seed(0)
    learn = plain_progress(seq2seq_learner(dls, metrics=None, vecs_src=vecs, vecs_tgt=vecs, **arch))
    cbs = [TimeBudget(minutes)] + ([TeacherForcing(1., 0.8, warmup=0.5)] if forcing else [])
    t0 = time.time()
    learn.fit_one_cycle(100, lr, cbs=cbs)
    return learn, (time.time() - t0) / 60


def load(folder, normalize=True):
    return Seq2SeqDataLoaders.from_tsv(folder / 'train.tsv', 'fr', 'en', valid=folder / 'valid.tsv', bs=125,
                                       min_freq=2, max_len=30, path='.', normalize=normalize)


def main(folder, minutes):
    folder = Path(folder)
    dls = load(folder)
    print('| step | valid loss | token acc | BLEU | BLEU (lc-tok) | chrF | minutes |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    results, learn, mins = [], None, 0.
    raw = ('+ attention, normalisation off', dict(attention=True, bidir=True), True, None, 1)
    for name, arch, forcing, vecs, beam in ROWS + [raw]:
        if name == raw[0]: dls = load(folder, normalize=False)
        if arch is not None: learn, mins = train_row(dls, arch, forcing, vecs, minutes)
        loss, acc = learn.final_record[1], learn.final_record[2]
        bleu, bleu_tok, chrf = score(learn, beam)
        results.append(dict(step=name, valid_loss=loss, token_acc=acc, bleu=bleu, bleu_tok=bleu_tok, chrf=chrf,
                            minutes=mins, beam=beam))
        print(f"| {name} | {loss:.3f} | {acc:.3f} | {bleu:.1f} | {bleu_tok:.1f} | {chrf:.1f} | {mins:.1f} |",
              flush=True)
    Path('ablation_tatoeba.json').write_text(json.dumps(results, indent=1))


if __name__ == '__main__': main(sys.argv[1], float(sys.argv[2]))
