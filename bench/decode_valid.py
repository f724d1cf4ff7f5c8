"""Decoding speed of a trained export on every sentence of a validation TSV, two ways, each `repeats` times:
ids in and out (`fastseq.bench.bench_decode`: batches of 125 sorted by length), and through `translate` (spaCy
tokenization and detokenization included); with `int8`, with the weights quantized (`Translator.quantize`). Writes
the translations, one per line, so that `../shared/bench/peers/score.py` can score them beside the peers' outputs.

    PYTHONPATH=. python bench/decode_valid.py MODEL.pkl ../shared/data/fra-eng/valid.tsv OUT_FOLDER [repeats] [int8]
"""
import sys
import time
import warnings

import torch
from fastai.learner import load_learner
from fastcore.xtras import Path

from fastseq.bench import bench_decode
from fastseq.data import read_tsv
from fastseq.metrics import corpus_bleu, tokenized_bleu


def main(model_path, valid, out, repeats=2, int8=False):
    warnings.filterwarnings('ignore')
    learn, df, out = load_learner(model_path), read_tsv(valid, 'fr', 'en'), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t = learn.translator().quantize() if int8 else learn.translator()
    model, proc, texts, refs = t.model.eval(), t.processor, list(df['fr']), list(df['en'])
    for _ in range(repeats):
        r = bench_decode(model, proc, texts)
        print(f"ids in/out, {r['sentences']} sentences: greedy {r['greedy_sent_per_s']:.0f} sent/s, "
              f"beam 5 {r['beam5_sent_per_s']:.0f} sent/s", flush=True)
    for beam in (1, 5):
        t0 = time.perf_counter()
        hyps = t.translate(texts, beam=beam, bs=125)
        secs = time.perf_counter() - t0
        (out / f"hyp_beam{beam}.en").write_text('\n'.join(hyps) + '\n', encoding='utf-8')
        print(f"translate, beam {beam}: {len(texts) / secs:.0f} sent/s; BLEU {corpus_bleu(hyps, refs):.2f} "
              f"(sacrebleu default), {tokenized_bleu(hyps, refs):.2f} (lc-tok)", flush=True)


if __name__ == '__main__':
    torch.set_num_threads(2)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 2, sys.argv[5:] == ['int8'])
