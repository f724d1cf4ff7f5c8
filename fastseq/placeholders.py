"""Entities that must come out of a translation exactly as they went in (URLs, email addresses, phone numbers,
numbers, codes mixing letters and digits, names the model has never seen, emoji), replaced before decoding by
placeholders the model treats as one unknown word, and put back in the translation after it (OpenNMT's ⦅URL⦆-style
protection). `protect` finds them, `restore` puts them back; `copy_unknown` carries each placeholder (and each
unknown symbol, `required_positions`) to the output, inserting it where the attention says when the model left it
out, so that none is lost."""
import re
from typing import NamedTuple

from .tokenize import TK_MAJ, TK_UP
from .vocab import UNK

__all__ = ['KINDS', 'MAX_ENTITIES', 'Protected', 'protect', 'restore', 'placeholder', 'is_placeholder',
           'required_positions', 'copy_unknown']

_TRAILING = '.,;:!?)]}»"\''
_EMOJI = '[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff][\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]*'
KINDS = {   # the kinds protected, in the order they are looked for (an earlier kind wins where two overlap)
    'url': r'(?:https?://|www\.)[^\s<>"«»]+',
    'email': r'[\w.+-]+@[\w-]+(?:\.[\w-]+)+',
    'phone': r'(?:\+\d{1,3}[ .-]?)?\d{1,4}(?:[\u00a0\u202f .-]\d{2,4}){3,5}(?!\d)',
    'code': r'(?=[\w-]*\d)(?=[\w-]*[^\W\d_])\w+(?:[-/]\w+)*',
    'number': r'(?:(?<![\w.,])[-−+])?\d+(?:[.,]\d+|[\u00a0\u202f ]\d{3}(?!\d))*',    # a sign where no word precedes
    'name': r"[^\W\d_]\w+(?:-[^\W\d_]\w*)*(?!['\w])",   # a whole word (Jean-Pierre too), not an elided one (J')
    'emoji': f'{_EMOJI}(?:\u200d?{_EMOJI})*',   # a run of them, with skin tones and the joiner of a family or a job
}
_APART = {'emoji'}   # kinds that need no word edge, kept apart from a word they are glued to (bravo👍)
_ENTITY = re.compile('|'.join(f'(?P<{k}>{v})' for k, v in KINDS.items()))
_EDGE = re.compile(r'(?<![\w@/.+-])')    # an entity starts a word
_ORDINAL = re.compile(r'\d+(?:er|re|e|ème|eme|ᵉ|è)', re.I)   # 3e, 1er: French ordinals are words to translate
_PREFIX = 'Xxph'
_PLACEHOLDER = re.compile(_PREFIX + r'([a-z]{2})', re.I)
MAX_ENTITIES = 26 * 26   # per text; any further ones are left to the model
_LETTERS = 'abcdefghijklmnopqrstuvwxyz'
_MARKERS = (TK_MAJ, TK_UP)
_FINAL = {'.', '!', '?', '…'}


def placeholder(i):
    """The placeholder of the `i`-th entity of a text (up to `MAX_ENTITIES`): a word no tokenizer splits and no
    vocabulary holds, of fixed length so that a clitic glued after it (Xxphabn't) cannot change it, and capitalised
    because the model carries a capitalised unknown word (a name) through more often than a lower-case one."""
    return _PREFIX + _LETTERS[i // 26] + _LETTERS[i % 26]


def _index(letters): return _LETTERS.index(letters[0].lower()) * 26 + _LETTERS.index(letters[1].lower())


def is_placeholder(token):
    "Whether `token` is a placeholder (in any case: the tokenizer lower-cases it)."
    return _PLACEHOLDER.fullmatch(token) is not None


class Protected(NamedTuple):
    "A text with its entities replaced by placeholders (`placeholder(i)` stands for `entities[i]`)."
    text: str
    entities: list


def _entity(m, known_word):
    "The entity string of match `m`, trailing punctuation trimmed, or None where it is not one to protect."
    kind, s = m.lastgroup, m.group()
    if kind == 'url': s = s.rstrip(_TRAILING)
    if kind == 'code' and _ORDINAL.fullmatch(s): return None
    if kind == 'name':
        s = _capitalised_parts(s)
        if not (s[:1].isupper() and known_word is not None and not _known_name(s, known_word)): return None
    return s


def _capitalised_parts(word):
    "The leading parts of a hyphenated `word` that start with a capital: Saint-Étienne, Participerez (-vous)."
    parts = word.split('-')
    n = next((i for i, part in enumerate(parts) if not part[:1].isupper()), len(parts))
    return '-'.join(parts[:max(n, 1)])


def _known_name(name, known_word):
    "Whether the model knows `name`: as one word, or each part of a hyphenated one (Est-ce, Jean-Pierre)."
    low = name.lower()
    return known_word(low) or all(known_word(part) for part in low.split('-'))


def protect(text, known_word=None):
    """`text` with each entity replaced by a placeholder, and the entities in order. Names (capitalised words) are
    protected only where `known_word` (lower-cased word → bool) says the model does not know them; a text that
    already holds a placeholder-like word is left as it is."""
    if _PLACEHOLDER.search(text): return Protected(text, [])
    out, entities, pos = [], [], 0
    for m in _ENTITY.finditer(text):
        apart = m.lastgroup in _APART
        if m.start() < pos or not (apart or _EDGE.match(text, m.start())) or len(entities) == MAX_ENTITIES: continue
        s = _entity(m, known_word)
        if s is None: continue
        word = placeholder(len(entities))
        out += [text[pos:m.start()], _spaced(word, text, m.start(), len(s)) if apart else word]
        entities.append(s)
        pos = m.start() + len(s)
    return Protected(''.join(out) + text[pos:], entities)


def _spaced(word, text, start, length):
    "`word` standing for `text[start:start + length]`, with a space on each side where a character touches it."
    end = start + length
    return (' ' if start and not text[start - 1].isspace() else '') + word + (
        ' ' if end < len(text) and not text[end].isspace() else '')


def restore(text, entities):
    "`text` with every placeholder of `entities` (whatever its case) replaced by the entity, verbatim."
    def entity(m):
        i = _index(m.group(1))
        return entities[i] if i < len(entities) else m.group()
    return _PLACEHOLDER.sub(entity, text) if entities else text


def required_positions(src_tokens, src_unknown):
    "The source positions a translation must carry: placeholders, and symbols the model does not know (°, §, ☺)."
    return [j for j, (t, unknown) in enumerate(zip(src_tokens, src_unknown))
            if is_placeholder(t) or (unknown and not any(c.isalnum() for c in t))]


def copy_unknown(words, attn, src_tokens, src_unknown, required=()):
    """`words` with unknown words copied from the source: at an output step that emits the unknown token (OpenNMT's
    replace_unk), or that attends most to a source word outside the vocabulary (a model trained without unknown
    targets never emits one), the output is that source word, as written, with its case marker. A source word is
    copied once; later steps attending most to it add nothing. Numbers, names, URLs and foreign-script words then come
    through unchanged. A source position in `required` (a placeholder) that no step copied is inserted before the
    step attending to it most, so that it is never lost. attn: (≥ len(words), ≥ len(src_tokens)) attention rows, with
    the eos step's where there is one; src_unknown: per source token."""
    out, copied, before_step = [], set(), []
    focus = attn[:len(words), :len(src_tokens)].argmax(-1).tolist()     # one read from the device, not one per word
    for w, j in zip(words, focus):
        before_step.append(len(out))
        if src_tokens[j] in _MARKERS and j + 1 < len(src_tokens): j += 1            # attending to a marker: its word
        if w in _MARKERS or not (w == UNK or src_unknown[j]): out.append(w); continue
        if j in copied: continue
        copied.add(j)
        out += _with_marker(out, src_tokens, j)
    before_step.append(len(out))
    missing = [j for j in required if j not in copied]
    if missing: _insert(out, attn[:len(words) + 1], src_tokens, missing, before_step)
    return out


def _with_marker(out, src_tokens, j):
    "Source word `j` as copied after `out`: with the case marker before it, unless `out` ends with one."
    marked = j and src_tokens[j - 1] in _MARKERS and not (out and out[-1] in _MARKERS)
    return [src_tokens[j - 1], src_tokens[j]] if marked else [src_tokens[j]]


def _insert(out, attn, src_tokens, missing, before_step):
    """Source words `missing` inserted into `out` before the steps attending to them most (at the end: before the
    final punctuation), in source order."""
    end = len(out) - (bool(out) and out[-1] in _FINAL)
    at = [min(before_step[min(t, len(before_step) - 1)], end) for t in attn[:, missing].argmax(0).tolist()]
    for i, j in sorted(zip(at, missing), reverse=True): out[i:i] = _with_marker(out[:i], src_tokens, j)
