"""Scores of trained models on a validation TSV, one JSON line each: beam-5 BLEU both ways and chrF (unknown words
copied, the default), and how many outputs hold an unknown token before copying (word-level models); with
`--ensemble`, one more line for all the models decoding together.

    PYTHONPATH=. python bench/score_models.py ../shared/data/fra-eng/valid.tsv M1.pkl [M2.pkl ...] [--ensemble]
"""
import json
import sys
import warnings

from fastseq.datasets import read_tsv
from fastseq.bundle import load_translator
from fastseq.inference import Translator
from fastseq.tokenize import SubwordTokenizer
from fastseq.training import evaluate
from fastseq.vocab import UNK


def score(translator, texts, refs, name):
    "One JSON-ready row: BLEU (both ways) and chrF at beam 5, and the outputs that held xxunk before copying."
    scores = evaluate(translator, list(zip(texts, refs)), beam=5, bs=125)
    row = {'model': name, **{k: round(v, 2) if isinstance(v, float) else v for k, v in scores.items()}}
    if not isinstance(translator.processor.tgt_tok, SubwordTokenizer):
        raw = translator.translate(texts, beam=5, bs=125, copy_unk=False)
        row['outputs_with_unk_before_copying'] = sum(UNK in h for h in raw)
    return row


def main(valid, *paths):
    warnings.filterwarnings('ignore')
    ensemble = '--ensemble' in paths
    paths = [p for p in paths if p != '--ensemble']
    df = read_tsv(valid, 'fr', 'en')
    texts, refs = list(df['fr']), list(df['en'])
    translators = [load_translator(p) for p in paths]
    for t, p in zip(translators, paths): print(json.dumps(score(t, texts, refs, p)), flush=True)
    if ensemble: print(json.dumps(score(Translator.ensemble(translators, paths), texts, refs, '+'.join(paths))))


if __name__ == '__main__':
    main(*sys.argv[1:])
