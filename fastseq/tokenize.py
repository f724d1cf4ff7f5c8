"""Per-language tokenization with spaCy's rule-based tokenizers, case markers, and detokenization."""
import re
import unicodedata

from fastai.text.core import TK_MAJ, TK_UP
from fastcore.parallel import parallel
from fastcore.basics import chunked

__all__ = ['TK_MAJ', 'TK_UP', 'normalize_text', 'mark_case', 'unmark_case', 'SpacyTokenizer', 'Seq2SeqTokenizer']

_SPACES = re.compile('[\u00a0\u202f\u2009\u2007\u3000\t]+')
_INVISIBLE = re.compile('[\u200b\u200c\u200d\u2060\ufeff\u00ad]')
_APOSTROPHES = str.maketrans({'\u2019': "'", '\u2018': "'", '\u02bc': "'"})
_CLITICS = {"n't", "'s", "'m", "'re", "'ve", "'ll", "'d"}


_SURROGATES = re.compile('[\ud800-\udfff]')


def normalize_text(text):
    """NFC, one kind of apostrophe, plain spaces for typographic ones, no zero-width characters, U+FFFD for lone
    surrogates (Python strings may hold them; spaCy cannot encode them)."""
    text = _SURROGATES.sub('\ufffd', text)
    text = unicodedata.normalize('NFC', text).translate(_APOSTROPHES)
    return _SPACES.sub(' ', _INVISIBLE.sub('', text)).strip()


def mark_case(tokens):
    "Lower-case tokens, putting xxup before ALL-CAPS words and xxmaj before Capitalised ones."
    out = []
    for t in tokens:
        if t.isupper() and sum(c.isalpha() for c in t) > 1: out += [TK_UP, t.lower()]
        elif t[:1].isupper(): out += [TK_MAJ, t.lower()]
        else: out.append(t)
    return out


def unmark_case(tokens):
    "Undo `mark_case`: apply each marker to the token after it."
    out, mark = [], None
    for t in tokens:
        if t in (TK_MAJ, TK_UP): mark = t; continue
        out.append(t.upper() if mark == TK_UP else (t[:1].upper() + t[1:] if mark == TK_MAJ else t))
        mark = None
    return out


class SpacyTokenizer:
    "spaCy's rule-based tokenizer for `lang`, built lazily so instances pickle small and cheaply."
    def __init__(self, lang): self.lang, self._nlp = lang, None
    def __getstate__(self): return {'lang': self.lang, '_nlp': None}

    def __call__(self, texts):
        if self._nlp is None:
            import spacy
            self._nlp = spacy.blank(self.lang)
        return [[t.text for t in doc if not t.is_space] for doc in self._nlp.tokenizer.pipe(texts, batch_size=2000)]


class Seq2SeqTokenizer:
    "Tokenizes one language's texts into case-marked tokens and turns tokens back into text."
    def __init__(self, lang, normalize=True):
        self.lang, self.normalize, self._spacy, self._detok = lang, normalize, SpacyTokenizer(lang), None

    def __getstate__(self): return {**self.__dict__, '_detok': None}
    def __repr__(self): return f"Seq2SeqTokenizer({self.lang!r}, normalize={self.normalize})"

    def _tokenize_chunk(self, texts):
        texts = [normalize_text(t) if self.normalize else t for t in texts]
        return [mark_case(toks) for toks in self._spacy(texts)]

    def __call__(self, texts, n_workers=0, chunk_sz=20000):
        "Token lists for `texts`, in order; large inputs are split over `n_workers` processes."
        texts = list(texts)
        if n_workers <= 1 or len(texts) <= chunk_sz: return self._tokenize_chunk(texts)
        chunks = parallel(self._tokenize_chunk, list(chunked(texts, chunk_sz)), n_workers=n_workers, progress=False)
        return [toks for chunk in chunks for toks in chunk]

    def detokenize(self, tokens):
        "Natural text from tokens: case restored, clitics joined (do n't → don't), Moses spacing."
        if self._detok is None:
            from sacremoses import MosesDetokenizer
            self._detok = MosesDetokenizer(lang=self.lang)
        words = []
        for t in unmark_case(tokens):
            if words and t.lower() in _CLITICS: words[-1] += t
            else: words.append(t)
        return self._detok.detokenize(words)
