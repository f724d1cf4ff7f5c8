"""`PairDataset`: numericalized (source ids, target ids) pairs over flat id arrays and offsets, held in memory or
memory-mapped from a cache, with an optional selection of the pairs in use (the length limit)."""
import numpy as np

__all__ = ['flatten_ids', 'length_limit', 'PairDataset']


def flatten_ids(seqs):
    "Concatenated int32 array and int64 offsets (len(seqs) + 1) of a list of id lists."
    lens = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    flat = np.fromiter((i for s in seqs for i in s), dtype=np.int32, count=int(offsets[-1]))
    return flat, offsets


def length_limit(lens, max_len=None):
    "`max_len`, or else the 99th percentile of `lens`: the rare longest pairs cost most and teach least."
    return int(np.percentile(lens, 99)) if max_len is None else int(max_len)


class PairDataset:
    """(source ids, target ids) pairs: flat id arrays with offsets (numpy or memory-mapped), target ids ending in eos.
    `keep` (indices of the pairs in use) is the only per-pair array a memory-mapped dataset holds in RAM; `texts` the
    raw (source, reference) pairs that metrics score, or None."""
    def __init__(self, src, src_off, tgt, tgt_off, keep=None, texts=None):
        if len(src_off) != len(tgt_off): raise ValueError("PairDataset: the two sides hold different numbers of pairs")
        self.src, self.src_off, self.tgt, self.tgt_off, self.keep, self.texts = src, src_off, tgt, tgt_off, keep, texts

    @classmethod
    def from_lists(cls, src_ids, tgt_ids, texts=None):
        "From id lists held in memory (targets already ending in eos)."
        return cls(*flatten_ids(src_ids), *flatten_ids(tgt_ids), texts=texts)

    def __len__(self): return len(self.src_off) - 1 if self.keep is None else len(self.keep)

    def __getitem__(self, i):
        j = i if self.keep is None else self.keep[i]
        return (np.asarray(self.src[self.src_off[j]:self.src_off[j + 1]]),
                np.asarray(self.tgt[self.tgt_off[j]:self.tgt_off[j + 1]]))

    def _lens(self, off):
        lens = np.diff(off)
        return lens if self.keep is None else lens[self.keep]

    @property
    def src_lens(self): return self._lens(self.src_off)
    @property
    def tgt_lens(self): return self._lens(self.tgt_off)

    def limited(self, max_len=None):
        """The same pairs less those with an empty side or a side over its limit (`max_len`, else each side's 99th
        percentile, the target counted without eos); returns the dataset and the stats of what was dropped."""
        src_lens, tgt_lens = self.src_lens, self.tgt_lens - 1
        src_lim, tgt_lim = length_limit(src_lens, max_len), length_limit(tgt_lens, max_len)
        ok = (src_lens > 0) & (tgt_lens > 0) & (src_lens <= src_lim) & (tgt_lens <= tgt_lim)
        keep = np.flatnonzero(ok) if self.keep is None else np.asarray(self.keep)[ok]
        ds = PairDataset(self.src, self.src_off, self.tgt, self.tgt_off, keep, self.texts)
        return ds, dict(dropped_long=int((~ok).sum()), src_len_limit=src_lim, tgt_len_limit=tgt_lim)

    def token_blocks(self, side='src', step=1 << 22):
        "The side's flat ids in blocks of `step`, for hashing or streaming without loading a memory map whole."
        ids = self.src if side == 'src' else self.tgt
        for i in range(0, len(ids), step): yield np.ascontiguousarray(ids[i:i + step])

    def new_empty(self): return PairDataset.from_lists([], [])
