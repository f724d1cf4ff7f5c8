"""Casual input made to look like the text a model was trained on, and the translation given the input's style back:
ALL CAPS and Title Case are translated in sentence case and the translation put in the same case; a sentence typed
without its first capital or final punctuation is translated with them and given back without; French typed without
accents gets them back from the source vocabulary (the most frequent known word with the same letters). Placeholders
(`fastseq.placeholders`) are left as they are."""
import re
import unicodedata
from typing import NamedTuple

import numpy as np

from .placeholders import is_placeholder

__all__ = ['Casual', 'strip_accents', 'accent_table', 'add_accents', 'normalize_casual', 'restore_style',
           'CASUAL_KINDS', 'casual_pair', 'augment_casual']

_WORD = re.compile(r'[^\W\d_]+')
_FINAL = re.compile(r'[.!?…][\s"»)\]]*$')        # final punctuation, then closing quotes or brackets
_FIRST_LETTER = re.compile(r'[^\W\d_]')


def strip_accents(text):
    "`text` without its diacritics (é → e, ç → c, œ stays), in NFC."
    decomposed = unicodedata.normalize('NFD', text)
    return unicodedata.normalize('NFC', ''.join(c for c in decomposed if not unicodedata.combining(c)))


def accent_table(words):
    """{word without accents: the first of `words` (a vocabulary in frequency order) that strips to it}, for the words
    that have accents."""
    table = {}
    for w in words:
        bare = strip_accents(w)
        if bare != w: table.setdefault(bare, w)
    return table


def _in_case_of(word, like):
    "`word` in the case pattern of `like` (ALL CAPS, Capitalised or lower)."
    if like.isupper() and len(like) > 1: return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def add_accents(text, known_word, table):
    "`text` with each word the vocabulary lacks (`known_word` of its lower case) but `table` knows accented."
    def accented(m):
        w = m.group()
        low = w.lower()
        return _in_case_of(table[low], w) if not known_word(low) and low in table else w
    return _WORD.sub(accented, text)


class Casual(NamedTuple):
    "A text as the model gets it, and how the input was typed: ALL CAPS, Title Case, lower-case start, no final mark."
    text: str
    shout: bool = False
    title: bool = False
    lower_start: bool = False
    no_final: bool = False


def _words(text): return [w for w in _WORD.findall(text) if not is_placeholder(w)]


def _sentence_case(text):
    "Every word but placeholders in lower case, the first letter a capital."
    text = _WORD.sub(lambda m: m.group() if is_placeholder(m.group()) else m.group().lower(), text)
    return _FIRST_LETTER.sub(lambda m: m.group().upper(), text, count=1)


def normalize_casual(text, lower=True):
    """`text` in sentence case (and with `lower`, with a first capital and final punctuation), as a `Casual` that
    remembers how it was typed. A text of fewer than two words, or of no letters, is left as it is."""
    words = _words(text)
    if len(words) < 2: return Casual(text)
    long = [w for w in words if len(w) > 1]
    shout = bool(long) and sum(w.isupper() for w in long) >= 0.75 * len(long)
    title = not shout and len(words) >= 3 and all(w[:1].isupper() for w in words)
    first = _FIRST_LETTER.search(text)
    lower_start = (lower and not shout and first is not None and first.group().islower()
                   and not any(c.isalnum() for c in text[:first.start()]))       # "3 chats": no capital to add
    no_final = lower and _FINAL.search(text) is None
    if shout or title: text = _sentence_case(text)
    elif lower_start: text = text[:first.start()] + first.group().upper() + text[first.end():]
    return Casual(text + '.' if no_final else text, shout, title, lower_start, no_final)


def _bare_end(text): return re.sub(r'\s*[.!?…]+$', '', text)


def restore_style(translation, casual):
    "`translation` given the style `casual` recorded: in the same case, without final punctuation where it had none."
    if casual.no_final: translation = _bare_end(translation)
    if casual.shout: return translation.upper()
    if casual.title: return _WORD.sub(lambda m: m.group()[:1].upper() + m.group()[1:], translation)
    if casual.lower_start: return _FIRST_LETTER.sub(lambda m: m.group().lower(), translation, count=1)
    return translation


CASUAL_KINDS = {   # how people type, applied to a training pair consistently on both sides (bergamot's augmentation)
    'caps': lambda s, t: (s.upper(), t.upper()),
    'lower_nopunct': lambda s, t: (_bare_end(s.lower()), _bare_end(t.lower())),
    'no_accents': lambda s, t: (strip_accents(s), t),
}


def casual_pair(src, tgt, kind):
    "The pair (`src`, `tgt`) typed as `kind` (a key of `CASUAL_KINDS`)."
    return CASUAL_KINDS[kind](src, tgt)


def augment_casual(pairs, share, rng):
    """`pairs` ((source, target) texts) with a `share` of them retyped, an equal part in each of `CASUAL_KINDS`,
    replaced rather than added (an epoch costs what it did). Drawn pair by pair from `rng` (a seeded
    `np.random.RandomState`, or a seed), so that a stream retyped chunk by chunk with one generator is retyped as the
    whole corpus is."""
    if not 0 <= share <= 1: raise ValueError(f"casual_share must be between 0 and 1, got {share!r}")
    pairs = list(pairs)
    if not share or not pairs: return pairs
    rng = rng if isinstance(rng, np.random.RandomState) else np.random.RandomState(rng)
    draws, kinds = rng.random_sample((len(pairs), 2)), list(CASUAL_KINDS)
    return [casual_pair(s, t, kinds[int(k * len(kinds))]) if d < share else (s, t)
            for (s, t), (d, k) in zip(pairs, draws)]
