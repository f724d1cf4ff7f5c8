"""Subword units: a SentencePiece model trained on the training split (per side or joint) tokenizes text into pieces
and joins them back; the model travels inside exports (pickled) and bundles (base64 in the JSON). `make_tokenizers`
builds either kind of tokenizer for both sides; `tokenizer_meta` / `tokenizer_from_meta` are the bundle's form."""
import base64
import os

from .tokenize import Seq2SeqTokenizer, normalize_text

__all__ = ['TOKENIZERS', 'SubwordTokenizer', 'train_sentencepiece', 'make_tokenizers', 'tokenizer_meta',
           'tokenizer_from_meta']

TOKENIZERS = ('spacy', 'spm')   # spaCy words with case markers (the lesson's), or SentencePiece pieces


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

    def __init__(self, lang, model_proto, normalize=True):
        self.lang, self.model_proto, self.normalize, self._sp = lang, bytes(model_proto), normalize, None

    def __getstate__(self): return {**self.__dict__, '_sp': None}
    def __repr__(self): return f"SubwordTokenizer({self.lang!r}, {self.vocab_sz} pieces, normalize={self.normalize})"

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


def make_tokenizers(kind, src, tgt, normalize=True, train_texts=None, vocab_sz=8000, joint=False, seed=0):
    """The (source, target) tokenizers of `kind` ('spacy' or 'spm'). SentencePiece models are trained on
    `train_texts`, the training split's (source texts, target texts): one per side, or one over both when `joint`."""
    if kind not in TOKENIZERS: raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")
    if kind == 'spacy': return Seq2SeqTokenizer(src, normalize), Seq2SeqTokenizer(tgt, normalize)
    clean = lambda texts: [normalize_text(str(t)) if normalize else str(t) for t in texts]
    src_texts, tgt_texts = (clean(t) for t in train_texts)
    if joint:
        proto = train_sentencepiece(src_texts + tgt_texts, vocab_sz, seed)
        return SubwordTokenizer(src, proto, normalize), SubwordTokenizer(tgt, proto, normalize)
    return (SubwordTokenizer(src, train_sentencepiece(src_texts, vocab_sz, seed), normalize),
            SubwordTokenizer(tgt, train_sentencepiece(tgt_texts, vocab_sz, seed), normalize))


def tokenizer_meta(tok):
    "A tokenizer as the JSON-ready fields of a bundle side."
    meta = {'lang': tok.lang, 'normalize': tok.normalize}
    if isinstance(tok, SubwordTokenizer):
        meta.update(tokenizer='spm', spm_model=base64.b64encode(tok.model_proto).decode('ascii'))
    return meta


def tokenizer_from_meta(meta):
    "The tokenizer a bundle side describes (no 'tokenizer' field: spaCy words, as every bundle before subwords)."
    kind = meta.get('tokenizer', 'spacy')
    if kind == 'spacy': return Seq2SeqTokenizer(meta['lang'], meta['normalize'])
    if kind == 'spm': return SubwordTokenizer(meta['lang'], base64.b64decode(meta['spm_model']), meta['normalize'])
    raise ValueError(f"unknown tokenizer {kind!r} (this fastseq knows {', '.join(TOKENIZERS)})")
