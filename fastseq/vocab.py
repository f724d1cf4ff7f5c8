"""Vocabulary with special tokens, built from token counts, saved as JSON."""
import json
from collections import Counter
from functools import cached_property

from fastai.text.core import BOS, EOS, PAD, TK_MAJ, TK_UP, UNK
from fastcore.xtras import Path

__all__ = ['UNK', 'PAD', 'BOS', 'EOS', 'SPECIALS', 'Vocab']

SPECIALS = [UNK, PAD, BOS, EOS, TK_MAJ, TK_UP]  # fastai's special tokens; the case markers are always known


class Vocab:
    "Token ↔ index mapping; indices of the special tokens are fixed: unk 0, pad 1, bos 2, eos 3, the case markers 4, 5."
    unk_idx, pad_idx, bos_idx, eos_idx = 0, 1, 2, 3
    marker_idxs = (SPECIALS.index(TK_MAJ), SPECIALS.index(TK_UP))           # each precedes a word

    def __init__(self, itos):
        if list(itos[:len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"Vocab: itos must start with {SPECIALS}, got {list(itos[:len(SPECIALS)])}")
        self.itos = list(itos)
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos): raise ValueError("Vocab: itos holds duplicate tokens")

    @cached_property
    def folded(self):
        """{lower case: the index of the most frequent word in mixed case} ('cds' → 'CDs'), for words typed casually;
        built on first use, so that vocabularies pickled before it had one get it too."""
        folded = {}
        for i, w in enumerate(self.itos[len(SPECIALS):], len(SPECIALS)):
            if w != w.lower(): folded.setdefault(w.lower(), i)
        return folded

    @classmethod
    def from_counts(cls, counts: Counter, max_vocab=40000, min_freq=1):
        "Most frequent tokens with count ≥ `min_freq`, at most `max_vocab` in all (specials included)."
        ranked = sorted((w for w, c in counts.items() if c >= min_freq and w not in SPECIALS),
                        key=lambda w: (-counts[w], w))
        return cls(SPECIALS + ranked[:max(0, max_vocab - len(SPECIALS))])

    @classmethod
    def from_tokens(cls, token_lists, **kwargs):
        "Count tokens over an iterable of token lists, then `from_counts`."
        counts = Counter()
        for toks in token_lists: counts.update(toks)
        return cls.from_counts(counts, **kwargs)

    def __len__(self): return len(self.itos)
    def __eq__(self, other): return isinstance(other, Vocab) and self.itos == other.itos
    def __getitem__(self, i): return self.itos[i]
    def __repr__(self): return f"Vocab({len(self)} tokens: {self.itos[len(SPECIALS):len(SPECIALS) + 5]}…)"

    def numericalize(self, tokens):
        """Indices of `tokens`; one missing in its case is the word in mixed case or in lower case ('états-unis' and
        'États-Unis' each find the other: typed casually, or by a vocabulary built before words in mixed case kept
        it); unk where none is held."""
        get, fold, unk = self.stoi.get, self.folded.get, self.unk_idx
        return [get(t) or fold(t) or get(t.lower(), unk) for t in tokens]

    def knows(self, word): return self.numericalize([word])[0] != self.unk_idx

    def textify(self, idxs, strip_special=True):
        "Tokens for `idxs`, dropping pad/bos/eos when `strip_special`."
        skip = {self.pad_idx, self.bos_idx, self.eos_idx} if strip_special else set()
        return [self.itos[i] for i in idxs if i not in skip]

    def until_eos(self, ids, keep_eos=False):
        "The ids (ints) of `ids` before the first eos (through it with `keep_eos`); all of them where none ends it."
        ids = [int(i) for i in ids]
        return ids[:ids.index(self.eos_idx) + keep_eos] if self.eos_idx in ids else ids

    def save(self, path):
        "Write the vocabulary as a JSON list."
        Path(path).write_text(json.dumps(self.itos, ensure_ascii=False))

    @classmethod
    def load(cls, path):
        "Read a vocabulary written by `save`."
        return cls(json.loads(Path(path).read_text()))
