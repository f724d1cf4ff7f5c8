"""One table of a model on the robustness sets of `bench/robust_sets.py`: per set, BLEU (lowercased, tokenized, beam 5;
lowercased before tokenizing, so that an ALL-CAPS translation splits into the same words as a written one) and that
of the same pairs clean (a paragraph's sentences translated one by one and joined), the output's words per word of
the clean outputs, and for names and entities the share of outputs that hold the protected string verbatim.
`--no-split` translates each input as one sentence (what `translate` did before it split texts); `--no-casual`
translates input as typed (no normalisation of capitals, punctuation and accents).

    PYTHONPATH=. python bench/robust_eval.py MODEL SETS_FOLDER [--beam 5] [--no-split] [--no-casual]
"""
import argparse
import time
import warnings

import pandas as pd
from fastcore.xtras import Path

from fastseq.bundle import load_translator
from fastseq.metrics import tokenized_bleu

SETS = ('para3', 'para8', 'caps', 'lower_nopunct', 'no_accents', 'names', 'entities')


def _words(texts): return sum(len(t.split()) for t in texts)


def _bleu(hyps, refs): return tokenized_bleu([h.lower() for h in hyps], [r.lower() for r in refs])


def score_set(translator, df, beam, split, casual):
    "The row of one set: its BLEU, the clean BLEU and word ratio where it has clean pairs, the copy rate where `keep`."
    t0, row = time.time(), {'pairs': len(df)}
    hyps = translator.translate(list(df.fr), beam=beam, split=split, casual=casual)
    row['bleu'] = _bleu(hyps, list(df.en))
    if 'clean' in df:
        sentences = [s.split('\t') for s in df.clean]
        flat = translator.translate([s for group in sentences for s in group], beam=beam, split=False, casual=casual)
        it = iter(flat)
        clean = [' '.join(next(it) for _ in group) for group in sentences]
        refs = list(df.clean_en) if 'clean_en' in df else list(df.en)
        row['clean_bleu'], row['words_vs_clean'] = _bleu(clean, refs), _words(hyps) / max(_words(clean), 1)
    if 'keep' in df: row['copied'] = sum(k in h for k, h in zip(df.keep, hyps)) / len(df)
    row['seconds'] = time.time() - t0
    return row


def main(model, folder, beam=5, split=True, casual=True):
    warnings.filterwarnings('ignore')
    translator, folder = load_translator(model), Path(folder)
    rows = {name: score_set(translator, pd.read_csv(folder / f'{name}.tsv', sep='\t', keep_default_na=False), beam,
                            split, casual) for name in SETS if (folder / f'{name}.tsv').exists()}
    table = pd.DataFrame(rows).T
    print(f"{model}, beam {beam}, split {split}, casual {casual}")
    print(table.to_string(float_format=lambda x: f"{x:.3f}" if x < 10 else f"{x:.1f}"))


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('model'); p.add_argument('folder')
    p.add_argument('--beam', type=int, default=5)
    p.add_argument('--no-split', dest='split', action='store_false')
    p.add_argument('--no-casual', dest='casual', action='store_false')
    a = p.parse_args()
    main(a.model, a.folder, a.beam, a.split, a.casual)
