"""The tokenizers, one registry: spaCy words with case markers (the lesson's, `Seq2SeqTokenizer`) or SentencePiece
pieces trained on the training split (`SubwordTokenizer`). Each class names its `kind`, builds the pair for a corpus
(`for_corpus`), and writes and reads its bundle form (`to_meta` / `from_meta`); `TOKENIZERS` maps kinds to classes."""
import base64
import os
import re
import unicodedata

from fastai.text.core import TK_MAJ, TK_UP
from fastcore.parallel import parallel
from fastcore.basics import chunked

__all__ = ['TK_MAJ', 'TK_UP', 'normalize_text', 'mark_case', 'unmark_case', 'join_words', 'SpacyTokenizer',
           'Seq2SeqTokenizer', 'SubwordTokenizer', 'train_sentencepiece', 'TOKENIZERS', 'tokenizer_class',
           'make_tokenizers', 'tokenizer_from_meta']

_SPACES = re.compile('[\u00a0\u202f\u2009\u2007\u3000\t]+')
_INVISIBLE = re.compile('[\u200b\u200c\u200d\u2060\ufeff\u00ad]')
_APOSTROPHES = str.maketrans({'\u2019': "'", '\u2018': "'", '\u02bc': "'"})
_CLITICS = {"n't", "'s", "'m", "'re", "'ve", "'ll", "'d"}
_HYPHEN_CLITIC = re.compile(r"-[^\W\d_]+")    # French -ce, -t, -il, -moi


_SURROGATES = re.compile('[\ud800-\udfff]')


def normalize_text(text):
    """NFC, one kind of apostrophe, plain spaces for typographic ones, no zero-width characters, U+FFFD for lone
    surrogates (Python strings may hold them; spaCy cannot encode them)."""
    text = _SURROGATES.sub('\ufffd', text)
    text = unicodedata.normalize('NFC', text).translate(_APOSTROPHES)
    return _SPACES.sub(' ', _INVISIBLE.sub('', text)).strip()


def mark_case(tokens, mixed_case=True):
    """Lower-case tokens, putting xxup before ALL-CAPS words and xxmaj before Capitalised ones; words in mixed case
    ('McDonald', 'États-Unis', 'CDs', 'iPhone'), which no marker restores, stay as written (with `mixed_case`; else
    the capitalised ones are marked xxmaj and lower-cased, as models built before read them). Not fastai's
    `replace_all_caps` / `replace_maj`: those mark 'A1' as capitals."""
    out = []
    for t in tokens:
        if t.isupper() and sum(c.isalpha() for c in t) > 1: out += [TK_UP, t.lower()]
        elif t[:1].isupper() and not (mixed_case and any(c.isupper() for c in t[1:])): out += [TK_MAJ, t.lower()]
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


def join_words(tokens):
    """Words from tokens split off a word: clitics glued to the word before (do n't → don't, est -ce → est-ce) and a
    hyphen to both its neighbours (well - known → well-known: the tokenizers split hyphenated words so)."""
    words, after_hyphen = [], False
    for t in tokens:
        joins = words and (after_hyphen or t == '-' or t.lower() in _CLITICS or _HYPHEN_CLITIC.fullmatch(t))
        if joins: words[-1] += t
        else: words.append(t)
        after_hyphen = t == '-' and bool(joins)
    return words


class SpacyTokenizer:
    """spaCy's rule-based tokenizer for `lang`, without whitespace tokens, built lazily so that instances pickle small
    (fastai's `SpacyTokenizer` keeps whitespace tokens and pickles the whole pipeline into every export)."""
    def __init__(self, lang): self.lang, self._nlp = lang, None
    def __getstate__(self): return {'lang': self.lang, '_nlp': None}

    def __call__(self, texts):
        if self._nlp is None:
            import spacy
            self._nlp = spacy.blank(self.lang)
        return [[t.text for t in doc if not t.is_space] for doc in self._nlp.tokenizer.pipe(texts, batch_size=2000)]


class Seq2SeqTokenizer:
    "Tokenizes one language's texts into case-marked spaCy words and turns tokens back into text."
    kind, trained = 'spacy', False      # trained: built from the training split's texts
    mixed_case = False                  # `mark_case`'s: what an export pickled before it was an option did
    def __init__(self, lang, normalize=True, mixed_case=True):
        self.lang, self.normalize, self._spacy, self._detok = lang, normalize, SpacyTokenizer(lang), None
        self.mixed_case = mixed_case

    def __getstate__(self): return {**self.__dict__, '_detok': None}
    def __repr__(self): return f"Seq2SeqTokenizer({self.lang!r}, normalize={self.normalize})"

    def to_meta(self):
        return {'tokenizer': self.kind, 'lang': self.lang, 'normalize': self.normalize, 'mixed_case': self.mixed_case}

    @classmethod
    def from_meta(cls, meta): return cls(meta['lang'], meta['normalize'], meta.get('mixed_case', False))

    @classmethod
    def for_corpus(cls, src, tgt, normalize=True, train_texts=None, **_):
        "The (source, target) pair; words need no training."
        return cls(src, normalize), cls(tgt, normalize)

    def _tokenize_chunk(self, texts):
        texts = [normalize_text(t) if self.normalize else t for t in texts]
        return [mark_case(toks, self.mixed_case) for toks in self._spacy(texts)]

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
        return self._detok.detokenize(join_words(unmark_case(tokens)))


def train_sentencepiece(texts, vocab_sz=8000, seed=0):
    """A unigram SentencePiece model of `texts` (already normalised), as its serialized bytes; case is kept in the
    pieces. `vocab_sz` is an upper bound (a small corpus gets fewer pieces, not an error)."""
    import io

    import sentencepiece as spm
    if not isinstance(vocab_sz, int) or vocab_sz < 16:
        raise ValueError(f"vocab_sz must be a whole number of at least 16, got {vocab_sz!r}")
    texts = [t for t in texts if t.strip()]
    if not texts: raise ValueError("cannot train a SentencePiece model on no text")
    out = io.BytesIO()
    spm.set_random_generator_seed(seed)   # its sampling of large inputs: the same pieces every run
    spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_writer=out, vocab_size=vocab_sz,
                                   hard_vocab_limit=False, model_type='unigram', num_threads=os.cpu_count() or 1,
                                   minloglevel=2, input_sentence_size=1_000_000,
                                   shuffle_input_sentence=True, max_sentence_length=8192)
    return out.getvalue()


class SubwordTokenizer:
    """One language's SentencePiece tokenizer: text → pieces (after the same normalisation as the word tokenizer),
    pieces → text. Pickles as the model's bytes; the processor is rebuilt lazily."""

    kind, trained = 'spm', True
    def __init__(self, lang, model_proto, normalize=True):
        self.lang, self.model_proto, self.normalize, self._sp = lang, bytes(model_proto), normalize, None

    def __getstate__(self): return {**self.__dict__, '_sp': None}
    def __repr__(self): return f"SubwordTokenizer({self.lang!r}, {self.vocab_sz} pieces, normalize={self.normalize})"

    def to_meta(self):
        "The bundle form: the model's bytes as base64."
        return {'tokenizer': self.kind, 'lang': self.lang, 'normalize': self.normalize,
                'spm_model': base64.b64encode(self.model_proto).decode('ascii')}

    @classmethod
    def from_meta(cls, meta): return cls(meta['lang'], base64.b64decode(meta['spm_model']), meta['normalize'])

    @classmethod
    def for_corpus(cls, src, tgt, normalize=True, train_texts=None, vocab_sz=8000, joint=False, seed=0):
        """The (source, target) pair, trained on `train_texts` (the training split's source and target texts): a
        model per side, or one over both when `joint`."""
        clean = lambda texts: [normalize_text(str(t)) if normalize else str(t) for t in texts]
        src_texts, tgt_texts = (clean(t) for t in train_texts)
        if joint:
            proto = train_sentencepiece(src_texts + tgt_texts, vocab_sz, seed)
            return cls(src, proto, normalize), cls(tgt, proto, normalize)
        return (cls(src, train_sentencepiece(src_texts, vocab_sz, seed), normalize),
                cls(tgt, train_sentencepiece(tgt_texts, vocab_sz, seed), normalize))

    @property
    def sp(self):
        if self._sp is None:
            import sentencepiece as spm
            self._sp = spm.SentencePieceProcessor(model_proto=self.model_proto)
        return self._sp

    @property
    def vocab_sz(self): return self.sp.get_piece_size()

    def __call__(self, texts, n_workers=0, chunk_sz=None):
        "Piece lists for `texts`, in order (SentencePiece is fast enough that workers do not pay)."
        texts = [normalize_text(t) if self.normalize else t for t in texts]
        return self.sp.encode(texts, out_type=str)

    def detokenize(self, tokens):
        "Natural text from pieces: SentencePiece's own decoding (the '▁' marks become spaces)."
        return self.sp.decode_pieces(list(tokens))

TOKENIZERS = {cls.kind: cls for cls in (Seq2SeqTokenizer, SubwordTokenizer)}   # the registry: kind → class


def tokenizer_class(kind):
    "The tokenizer class of `kind`; an unknown kind is an error listing the known ones."
    if kind not in TOKENIZERS: raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")
    return TOKENIZERS[kind]


def make_tokenizers(kind, src, tgt, normalize=True, train_texts=None, vocab_sz=8000, joint=False, seed=0):
    """The (source, target) tokenizers of `kind` for a corpus whose training split's (source texts, target texts) are
    `train_texts` (what SentencePiece trains on)."""
    return tokenizer_class(kind).for_corpus(src, tgt, normalize, train_texts, vocab_sz=vocab_sz, joint=joint, seed=seed)


def tokenizer_from_meta(meta):
    "The tokenizer a bundle side (`to_meta`) describes."
    return tokenizer_class(meta.get('tokenizer')).from_meta(meta)
