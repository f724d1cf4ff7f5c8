"""Corpus readers (TSV/CSV, DataFrame, two line-aligned files; whole or as streams), the lesson's question filter,
the phrasebook."""
import csv
import re
import warnings
from itertools import chain, zip_longest

import pandas as pd
from fastcore.xtras import Path

from .errors import CorpusError, CorpusNotFoundError
from .phrasebook import phrasebook

__all__ = ['phrasebook', 'read_tsv', 'read_files', 'stream_pairs', 'count_lines', 'strip_pairs', 'clean_pairs',
           'warn_dropped', 'valid_mask', 'question_filter', 'TATOEBA_COLUMNS']

TATOEBA_COLUMNS = ('en', 'fr', 'attribution')  # the headerless ManyThings/Tatoeba export
_RE_EN_Q, _RE_FR_Q = re.compile(r'^(Wh[^?.!]+\?)'), re.compile(r'^([^?.!]+\?)')


def _existing(path, what='corpus file'):
    path = Path(path)
    if not path.is_file(): raise CorpusNotFoundError(path, what)
    return path


def _decoded_lines(path, skip_bad=False):
    "Yield (line number, text) of a UTF-8 file, naming the line of any byte that is not UTF-8 (or text None, skipping)."
    with open(path, 'rb') as f:
        for i, raw in enumerate(f, 1):
            try: yield i, raw.decode('utf-8').rstrip('\r\n')
            except UnicodeDecodeError as e:
                if skip_bad and i > 1: yield i, None; continue
                raise CorpusError(f"bytes that are not UTF-8 at column {e.start + 1} ({raw[e.start:e.start + 4]!r})"
                                  + ("" if skip_bad else " (pass skip_bad_lines=True to skip such lines)"),
                                  path, i) from None


def _split_rows(path, sep, skip_bad=False):
    "Yield (line number, fields or None); TSV splits on tabs (Tatoeba quotes freely), CSV follows csv quoting."
    lines = _decoded_lines(path, skip_bad)
    if sep == '\t':
        for i, line in lines: yield i, None if line is None else line.split('\t')
        return
    numbered = list(lines)
    yield from ((i, None) for i, line in numbered if line is None)
    good = [(i, line) for i, line in numbered if line is not None]
    for (i, _), row in zip(good, csv.reader((line for _, line in good), delimiter=sep)): yield i, row


def _header_and_rows(path, src, tgt, sep, names, skip_bad=False):
    "Column names (from `names`, a header line, or the Tatoeba order) and an iterator of the data rows."
    rows = _split_rows(path, sep, skip_bad)
    first = next(rows, None)
    if first is None: raise CorpusError("the file is empty", path)
    if names is not None: return list(names), chain([first], rows)
    if src in first[1] and tgt in first[1]: return first[1], rows
    if {src, tgt} <= set(TATOEBA_COLUMNS) and len(first[1]) in (2, 3):
        return list(TATOEBA_COLUMNS[:len(first[1])]), chain([first], rows)
    raise CorpusError(f"line 1 is not a header naming the columns {src!r} and {tgt!r} (got {first[1][:4]}); "
                      f"pass names=[...] for a headerless file", path, 1)


def _tsv_rows(path, src, tgt, sep, names, skip_bad=False):
    "(line, source, target) of each data row; a bad row raises, or with `skip_bad` comes as (line, None, None)."
    cols, rows = _header_and_rows(path, src, tgt, sep, names, skip_bad)
    for c in (src, tgt):
        if c not in cols: raise CorpusError(f"no column {c!r}; the columns are {cols}", path, 1)
    i_src, i_tgt = cols.index(src), cols.index(tgt)
    for i, fields in rows:
        if fields is not None and len(fields) == len(cols): yield i, fields[i_src], fields[i_tgt]
        elif skip_bad: yield i, None, None
        else: raise CorpusError(f"expected {len(cols)} columns, found {len(fields)} "
                                f"(pass skip_bad_lines=True to skip such lines)", path, i)


def _sep_for(path, sep): return sep or (',' if Path(path).suffix.lower() == '.csv' else '\t')


def read_tsv(path, src='fr', tgt='en', sep=None, names=None, skip_bad_lines=False):
    "DataFrame with columns `src` and `tgt` from a TSV/CSV file; bad lines raise (or are skipped and counted)."
    path = _existing(path)
    data, bad = [], 0
    for _, s, t in _tsv_rows(path, src, tgt, _sep_for(path, sep), names, skip_bad_lines):
        if s is None: bad += 1
        else: data.append((s, t))
    warn_dropped(path, skipped_bad_lines=bad)
    return clean_pairs(pd.DataFrame(data, columns=[src, tgt]), src, tgt, skipped_bad_lines=bad, source=str(path))


def _file_pairs(src_path, tgt_path, skip_bad=False):
    """(line, source, target) of two line-aligned files, lazily; a length mismatch names the line where one ran out.
    A line that is not UTF-8 on either side raises, or with `skip_bad` comes as (line, None, None)."""
    for s, t in zip_longest(_decoded_lines(src_path, skip_bad), _decoded_lines(tgt_path, skip_bad)):
        if s is None or t is None:
            (short, long), line = ((src_path, tgt_path), t[0]) if s is None else ((tgt_path, src_path), s[0])
            raise CorpusError(f"the files are not line-aligned: {long} goes on past the end of this one", short, line)
        yield (s[0], None, None) if s[1] is None or t[1] is None else (s[0], s[1], t[1])


def stream_pairs(path, tgt_path=None, src='fr', tgt='en', names=None, sep=None, skip_bad_lines=False):
    """(line number, source text, target text) of a TSV/CSV (`tgt_path` None) or of two line-aligned files, lazily;
    with `skip_bad_lines`, a bad line comes as (line number, None, None) for the reader to count."""
    if tgt_path is None:
        path = _existing(path)
        return _tsv_rows(path, src, tgt, _sep_for(path, sep), names, skip_bad_lines)
    return _file_pairs(_existing(path, 'source file'), _existing(tgt_path, 'target file'), skip_bad_lines)


def read_files(src_path, tgt_path, src='fr', tgt='en'):
    "DataFrame from two line-aligned files (one sentence per line, the giga-fren layout), read as streams."
    data = [(s, t) for _, s, t in stream_pairs(src_path, tgt_path)]
    if not data: raise CorpusError("the files are empty", src_path)
    return clean_pairs(pd.DataFrame(data, columns=[src, tgt]), src, tgt, source=f"{src_path} + {tgt_path}")


def count_lines(path):
    "Lines in a file, counted over raw bytes (about a second per GB): the progress bars' total."
    n = 0
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 24), b''): n += block.count(b'\n')
    return n


def strip_pairs(df, src, tgt):
    """The one cleaner of both pipelines (in memory and the stream cache): whitespace stripped, pairs with an empty
    side dropped; returns the kept pairs, in order, and how many were dropped."""
    df = pd.DataFrame({c: df[c].fillna('').astype(str).str.strip() for c in (src, tgt)})
    empty = (df[src] == '') | (df[tgt] == '')
    return df[~empty].reset_index(drop=True), int(empty.sum())


def clean_pairs(df, src, tgt, source='DataFrame', **counts):
    "`strip_pairs` of a whole corpus: a warning counts the dropped pairs, `df.attrs` keeps the counts."
    for c in (src, tgt):
        if c not in df.columns: raise CorpusError(f"no column {c!r}; the columns are {list(df.columns)}", source)
    kept, n_empty = strip_pairs(df, src, tgt)
    if not len(kept): raise CorpusError("no pair has text on both sides", source)
    warn_dropped(source, dropped_empty=n_empty)
    kept.attrs.update({**df.attrs, **counts}, source=source)       # counts of an earlier read or cleaning carry on
    kept.attrs['dropped_empty'] = df.attrs.get('dropped_empty', 0) + n_empty
    return kept


def warn_dropped(source, skipped_bad_lines=0, dropped_empty=0):
    "One warning per kind of line left out of `source`, the same from both pipelines."
    if skipped_bad_lines:
        warnings.warn(f"{source}: skipped {skipped_bad_lines} lines with a wrong number of columns or bytes that are "
                      f"not UTF-8", stacklevel=3)
    if dropped_empty: warnings.warn(f"{source}: dropped {dropped_empty} pairs with an empty side", stacklevel=3)


def valid_mask(rng, n, valid_pct):
    """The one splitter of both pipelines: for each of the next `n` pairs, whether it goes to validation, drawn from
    `rng` (a seeded `np.random.RandomState`). Pair by pair, so a stream read in chunks splits exactly as the whole
    corpus does in memory; the validation share is `valid_pct` on average rather than exactly (a permutation, as
    fastai's `RandomSplitter` draws, would need the whole corpus at once)."""
    return rng.random_sample(n) < valid_pct


def question_filter(df, src='fr', tgt='en'):
    "The lesson's filter: keep pairs whose English is a Wh-question and French a question, cut at the first `?`."
    en_col, fr_col = (tgt, src) if tgt.startswith('en') else (src, tgt)
    en, fr = df[en_col].str.extract(_RE_EN_Q)[0], df[fr_col].str.extract(_RE_FR_Q)[0]
    keep = en.notna() & fr.notna()
    out = pd.DataFrame({en_col: en[keep], fr_col: fr[keep]})[[src, tgt]].reset_index(drop=True)
    out.attrs.update(df.attrs, question_filter=True)
    return out
