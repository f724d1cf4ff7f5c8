"""Sentence splitters on French paragraphs whose sentence boundaries are known: the paragraphs of
`bench/robust_sets.py` (consecutive pairs of valid.tsv joined by spaces). Per splitter: the share of boundaries
between pairs found (a miss merges two sentences into one input), the splits it made inside a pair (some pairs hold
two sentences, so not all are errors; a wrong one cuts a sentence in two), the share of paragraphs split exactly at
the pair boundaries, and the milliseconds per 1,000 paragraphs (after a first call that loads the splitter); then
the share of `TRICKY` texts (abbreviations, initials, numbers, URLs, ellipses, quotes) split exactly right. pysbd is
measured where it is installed (it is not a dependency).

    PYTHONPATH=. python bench/sentence_split.py SETS_FOLDER
"""
import re
import sys
import time

import pandas as pd
from fastcore.xtras import Path

from fastseq.sentences import split_sentences

TRICKY = [   # texts written for this bench, with their sentences
    ["M. Dupont est arrivé.", "Il est en retard."], ["Mme Martin et M. Durand viennent ce soir."],
    ["J'ai lu J. K. Rowling hier.", "C'était bien."], ["Il mesure 1.85 m et pèse 72,5 kg.", "Il court vite."],
    ["Voir www.exemple.fr pour tout savoir.", "Merci."], ["Il hésita… puis il partit.", "Nous restâmes."],
    ["« Tu viens ? » demanda-t-elle.", "Il ne répondit pas."], ["Il est né en 1990 av. J.-C. dans le sud."],
    ["Quoi ?!", "Tu pars déjà ?"], ["Le Dr. House est là.", "Entrez !"], ["Il a parcouru 12 km…", "Le soir tombait."],
    ["Il est 10 h.", "Le train part.", "Vite !"]]
_REGEX = re.compile(r'(?<=[.!?…])\s+(?=[«"(]?[A-ZÀ-Ý0-9])')


def splitters():
    "name → function of a paragraph to its sentences."
    out = {'spaCy sentencizer (fastseq)': lambda p: split_sentences(p, 'fr', max_words=10_000).sentences,
           'regex: [.!?…] then a capital': lambda p: [s for s in _REGEX.split(p) if s.strip()]}
    try:
        import pysbd
        seg = pysbd.Segmenter(language='fr', clean=False)
        out['pysbd 0.3 (fr rules)'] = lambda p: [s.strip() for s in seg.segment(p) if s.strip()]
    except ImportError: pass
    return out


def _ends(sentences, paragraph):
    "Character offsets in `paragraph` where each sentence but the last ends."
    ends, pos = [], 0
    for s in sentences[:-1]:
        pos = paragraph.index(s.strip(), pos) + len(s.strip())
        ends.append(pos)
    return set(ends)


def score(split, df):
    "Boundary recall, splits inside pairs per 100 pairs, exact paragraphs, seconds per 1,000 paragraphs."
    found = total = inside = exact = n_pairs = 0
    split(df.fr.iloc[0])                                   # loads what the splitter needs: not timed
    t0 = time.perf_counter()
    outs = [split(p) for p in df.fr]
    seconds = time.perf_counter() - t0
    for p, clean, out in zip(df.fr, df.clean, outs):
        gold = _ends(clean.split('\t'), p)
        got = _ends(out, p)
        found, total = found + len(gold & got), total + len(gold)
        inside, n_pairs = inside + len(got - gold), n_pairs + len(gold) + 1
        exact += got == gold
    return dict(recall=found / total, inside_per_100=100 * inside / n_pairs, exact=exact / len(df),
                ms_per_1000=1000 * seconds / len(df) * 1000)


def tricky_exact(split):
    "The share of `TRICKY` texts split into exactly their sentences."
    return sum([x.strip() for x in split(' '.join(sents))] == sents for sents in TRICKY) / len(TRICKY)


def main(folder):
    read = lambda name: pd.read_csv(Path(folder) / f'{name}.tsv', sep='\t', keep_default_na=False)
    df = pd.concat([read('para3'), read('para8')])
    rows = {name: {**score(fn, df), 'tricky_exact': tricky_exact(fn)} for name, fn in splitters().items()}
    print(f"{len(df)} paragraphs, {sum(len(c.split(chr(9))) for c in df.clean)} sentences")
    print(pd.DataFrame(rows).T.to_string(float_format=lambda x: f"{x:.3f}"))


if __name__ == '__main__': main(sys.argv[1])
