"""Robustness sets built from a validation TSV (and nothing else): paragraphs of 3 and of 8 consecutive pairs, the
first 1,000 pairs upper-cased, 1,000 lower-cased without final punctuation, 1,000 without diacritics, pairs whose
names are replaced by names no corpus holds, and sentences followed by one holding a URL, an email address, a phone
number or a code. Each set is a TSV of fr, en and, where the set has them, the clean source and reference (`clean`,
`clean_en`; a paragraph's clean sentences are tab-separated) and the string that must come out verbatim (`keep`);
`bench/robust_eval.py` scores a model on them.

    PYTHONPATH=. python bench/robust_sets.py ../shared/data/fra-eng/valid.tsv OUT_FOLDER
"""
import random
import re
import sys
import unicodedata

import pandas as pd
from fastcore.xtras import Path

from fastseq.datasets import read_tsv

N = 1000
FINAL = re.compile(r'\s*[.!?…]+$')
NAMES = ('Tom', 'Mary', 'John', 'Marie')                 # Tatoeba's recurring names, the same in both languages
UNSEEN = ['Zorvakine', 'Quilbetrand', 'Mavrosiel', 'Thaddorine', 'Velquarin', 'Brinzolet', 'Ostravenne', 'Kelbrimor']
ENTITIES = [  # (French template, English template, a maker of the string that must come out verbatim)
    ("Voici l'adresse : {}.", "Here is the address: {}.",
     lambda r: f"https://www.{r.choice(['exemple', 'site-web', 'ma-page'])}.fr/{r.randint(10, 999)}"),
    ("Écrivez-moi à {}.", "Write to me at {}.",
     lambda r: f"{r.choice(['paul', 'lea.martin', 'contact'])}{r.randint(1, 99)}@{r.choice(['mail', 'poste'])}.fr"),
    ("Mon numéro est le {}.", "My number is {}.",
     lambda r: f"0{r.randint(1, 9)} " + ' '.join(str(r.randint(10, 99)) for _ in range(4))),
    ("Le code est {}.", "The code is {}.",
     lambda r: f"{r.choice('ABCDEFGHJK')}{r.randint(100, 999)}-{r.choice('XYZW')}{r.randint(10, 99)}")]


def strip_accents(text):
    return ''.join(c for c in unicodedata.normalize('NFD', text) if unicodedata.category(c) != 'Mn')


def paragraphs(df, n):
    "Groups of `n` consecutive pairs, each side joined by single spaces; `clean` keeps the sentences apart (tabs)."
    groups = [df.iloc[i:i + n] for i in range(0, len(df) - n + 1, n)][:N // n]
    return pd.DataFrame({'fr': [' '.join(g.fr) for g in groups], 'en': [' '.join(g.en) for g in groups],
                         'clean': ['\t'.join(g.fr) for g in groups]})


def variant(df, src_fn, ref_fn=lambda s: s):
    "The first `N` pairs changed: `fr` by `src_fn`, `en` by `ref_fn`; the clean pair kept beside them."
    head = df.iloc[:N]
    return pd.DataFrame({'fr': [src_fn(s) for s in head.fr], 'en': [ref_fn(s) for s in head.en],
                         'clean': list(head.fr), 'clean_en': list(head.en)})


def unseen_names(df, rng):
    "Pairs whose source and reference hold the same recurring name, each occurrence replaced by one unseen name."
    rows = []
    for fr, en in zip(df.fr, df.en):
        name = next((n for n in NAMES if re.search(rf'\b{n}\b', fr) and re.search(rf'\b{n}\b', en)), None)
        if name is None: continue
        new = rng.choice(UNSEEN)
        rows.append((re.sub(rf'\b{name}\b', new, fr), re.sub(rf'\b{name}\b', new, en), new))
    return pd.DataFrame(rows[:N], columns=['fr', 'en', 'keep'])


def entities(df, rng):
    "Each of the first pairs followed by a sentence holding a URL, an email address, a phone number or a code."
    rows = []
    for i, (fr, en) in enumerate(zip(df.fr[:N], df.en[:N])):
        fr_t, en_t, make = ENTITIES[i % len(ENTITIES)]
        keep = make(rng)
        rows.append((f"{fr} {fr_t.format(keep)}", f"{en} {en_t.format(keep)}", keep))
    return pd.DataFrame(rows, columns=['fr', 'en', 'keep'])


def build(valid, out):
    df, out, rng = read_tsv(valid, 'fr', 'en'), Path(out), random.Random(0)
    out.mkdir(parents=True, exist_ok=True)
    no_final = lambda s: FINAL.sub('', s)
    sets = {'para3': paragraphs(df, 3), 'para8': paragraphs(df, 8), 'caps': variant(df, str.upper),
            'lower_nopunct': variant(df, lambda s: no_final(s).lower(), no_final),
            'no_accents': variant(df, strip_accents), 'names': unseen_names(df, rng), 'entities': entities(df, rng)}
    for name, d in sets.items():
        d.to_csv(out / f'{name}.tsv', sep='\t', index=False)
        print(f"{name}: {len(d)} rows")


if __name__ == '__main__': build(*sys.argv[1:3])
