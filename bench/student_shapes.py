"""Decoding speed of candidate student shapes before training any: each `Seq2SeqRNN` (untrained weights) decodes the
first N sources of a validation TSV (their real token counts, random ids), greedy and beam 5, fp32 projection, bf16
where this CPU decodes in it (as `translate`), and int8, with the output cut at the source's length + 2 so that every
shape decodes as many steps as a trained model would. Speeds are relative; what a shape costs in BLEU needs training.

    PYTHONPATH=. python bench/student_shapes.py VALID.tsv [N] [SRC_VOCAB] [TGT_VOCAB] [DISTILLED_TGT_VOCAB]
"""
import json
import sys
import time
import warnings

import torch

from fastseq.data import pad_batch
from fastseq.datasets import read_tsv
from fastseq.decode import decode_batch
from fastseq.inference import _int8
from fastseq.model import Seq2SeqConfig, Seq2SeqRNN
from fastseq.precision import decoding_dtype

DEFAULT = dict(emb_sz_src=300, emb_sz_tgt=300, n_hid_enc=256, bidir=True, n_layers_enc=2, n_layers_dec=2)
SHAPES = {                                              # changes to the default recipe's shape
    'default': {},
    'decoder 1 layer': dict(n_layers_dec=1),
    'target 256, decoder 1 layer': dict(emb_sz_tgt=256, n_layers_dec=1),
    'target 192, decoder 1 layer': dict(emb_sz_tgt=192, n_layers_dec=1),
    'target 128, decoder 1 layer': dict(emb_sz_tgt=128, n_layers_dec=1),
    'target 192, decoder 1 layer, encoder 192': dict(emb_sz_tgt=192, n_layers_dec=1, n_hid_enc=192)}


def sources(valid, n, src_vocab, seed=0):
    "Random ids with the token counts of the first `n` sources of `valid` (words and punctuation), longest first."
    g = torch.Generator().manual_seed(seed)
    lens = [len(s.replace('?', ' ?').replace('.', ' .').replace(',', ' ,').split()) + 1 for s in read_tsv(valid).fr[:n]]
    return [torch.randint(4, src_vocab, (n_tok,), generator=g).tolist() for n_tok in sorted(lens, reverse=True)]


def sent_per_s(model, ids, beam, dtype, bs=125):
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(ids), bs):
            src = pad_batch(ids[i:i + bs], 1)
            decode_batch(model, src, beam, dtype=dtype, len_ratio=1.0, len_extra=2)
    return len(ids) / (time.perf_counter() - t0)


def measure(shape, src_vocab, tgt_vocab, ids):
    torch.manual_seed(0)
    model = Seq2SeqRNN(Seq2SeqConfig(**{**DEFAULT, **shape}, src_vocab=src_vocab, tgt_vocab=tgt_vocab)).eval()
    dtype = decoding_dtype(model, 'auto')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        int8 = _int8(model)
    out = {'params_m': round(sum(p.numel() for p in model.parameters()) / 1e6, 2), 'projection': str(dtype or 'fp32')}
    for beam in (1, 5):
        out[f'beam{beam}'] = round(sent_per_s(model, ids, beam, dtype), 1)
        out[f'int8_beam{beam}'] = round(sent_per_s(int8, ids, beam, None), 1)
    return out


def main(valid, n=1000, src_vocab=15007, tgt_vocab=9385, small_vocab=5407):
    """The default shape at the references' target vocabulary `tgt_vocab` (the baseline), then every shape at the
    distilled targets' `small_vocab`."""
    ids = sources(valid, int(n), int(src_vocab))
    sent_per_s(Seq2SeqRNN(Seq2SeqConfig(**DEFAULT, src_vocab=int(src_vocab), tgt_vocab=1000)).eval(), ids[:250], 5,
               None)                                                                   # warm-up
    runs = [('default', int(tgt_vocab))] + [(name, int(small_vocab)) for name in SHAPES]
    for name, vocab in runs:
        print(json.dumps({'shape': name, 'tgt_vocab': vocab, **measure(SHAPES[name], int(src_vocab), vocab, ids)}),
              flush=True)


if __name__ == '__main__':
    torch.set_num_threads(2)
    main(*sys.argv[1:])
