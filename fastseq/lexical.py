"""The lexical shortlist of decoding (Marian's): a batch is decoded over the target words that occur most often beside
its source words in the training pairs, and the most frequent target words, instead of the whole vocabulary, so the
projection, the softmax and the beam's top-k span a fraction of its rows (docs/performance.md)."""
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from .vocab import SPECIALS

__all__ = ['frequent_targets', 'cooccurrences', 'LexicalShortlist', 'lexical_shortlist', 'N_FREQUENT', 'PER_WORD']

N_FREQUENT, PER_WORD = 1000, 20   # words every batch keeps; words each source word adds (docs/performance.md)


def frequent_targets(ds, vocab_sz, n):
    "Ids of the `n` most frequent tokens of `ds`'s targets (a `PairDataset`), ties broken by the lower id."
    counts = np.zeros(vocab_sz, dtype=np.int64)
    for block in ds.token_blocks('tgt'): counts += np.bincount(block, minlength=vocab_sz)[:vocab_sz]
    return torch.from_numpy(np.sort(np.argsort(-counts, kind='stable')[:n]))


def cooccurrences(ds, src_sz, tgt_sz, chunk=20000):
    """scipy CSR (src_sz, tgt_sz): in how many pairs of `ds` (a `PairDataset`) each source id and target id occur
    together, counted `chunk` pairs at a time."""
    from scipy import sparse
    total = sparse.csr_matrix((src_sz, tgt_sz), dtype=np.int64)
    for start in range(0, len(ds), chunk):
        pairs = [ds[i] for i in range(start, min(start + chunk, len(ds)))]
        s, t = _cross(*_unique_per_pair([p[0] for p in pairs]), *_unique_per_pair([p[1] for p in pairs]))
        total = total + sparse.coo_matrix((np.ones(len(s), np.int64), (s, t)), shape=(src_sz, tgt_sz)).tocsr()
    return total


def _unique_per_pair(seqs):
    "The distinct ids of each sequence, flat and grouped by sequence (ids,), and how many each has (n_seqs,)."
    lens = np.array([len(x) for x in seqs])
    codes = np.unique(np.repeat(np.arange(len(seqs), dtype=np.int64), lens) << 32 | np.concatenate(seqs))
    return codes & 0xFFFFFFFF, np.bincount(codes >> 32, minlength=len(seqs))


def _cross(src, n_src, tgt, n_tgt):
    "Every (source id, target id) of each pair: the pair's distinct source ids crossed with its target ids."
    per_pair = n_src * n_tgt
    pair = np.repeat(np.arange(len(n_src)), per_pair)
    j = np.arange(per_pair.sum()) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)   # position in its pair
    src_start, tgt_start = np.cumsum(n_src) - n_src, np.cumsum(n_tgt) - n_tgt
    return src[src_start[pair] + j // n_tgt[pair]], tgt[tgt_start[pair] + j % n_tgt[pair]]


@dataclass
class LexicalShortlist:
    "Which target ids a batch may output: `always` (n,) in every batch, and `table` (src_vocab, k) per source id."
    always: torch.Tensor
    table: torch.Tensor

    def rows(self, src):
        """src (bs, sl) → the sorted target ids (n_rows,) that the batch is decoded over: marked in a mask over the
        ids, which costs a tenth of sorting the batch's candidates (`torch.unique`) on a CPU (docs/performance.md)."""
        kept = torch.zeros(self.n_ids, dtype=torch.bool, device=src.device)
        kept[self.always.to(src.device)] = True
        kept[self.table.to(src.device)[src.flatten()].flatten()] = True
        return kept.nonzero().view(-1)

    @cached_property
    def n_ids(self): return int(max(self.always.max(), self.table.max())) + 1     # the highest target id, and one

    def tensors(self): return {'always': self.always, 'table': self.table}     # for safetensors


def lexical_shortlist(ds, src_sz, tgt_sz, n_frequent=N_FREQUENT, per_word=PER_WORD):
    """The `LexicalShortlist` of the training pairs `ds`: the specials and the `n_frequent` most frequent target
    words, and for each source id the `per_word` other target words seen beside it in the most pairs (p(t|s) ranks
    them the same; ties to the more frequent word). A source id seen in no pair adds nothing."""
    always = torch.unique(torch.cat([torch.arange(len(SPECIALS)), frequent_targets(ds, tgt_sz, n_frequent)]))
    counts = cooccurrences(ds, src_sz, tgt_sz)
    table = np.full((src_sz, per_word), int(always[0]), dtype=np.int64)      # filler: a word every batch keeps
    kept = np.zeros(tgt_sz, dtype=bool)
    kept[always.numpy()] = True
    for s in range(src_sz):
        row = slice(counts.indptr[s], counts.indptr[s + 1])
        ids, n = counts.indices[row].astype(np.int64), counts.data[row]
        ids, n = ids[~kept[ids]], n[~kept[ids]]
        best = ids[np.lexsort((ids, -n))[:per_word]]
        table[s, :len(best)] = best
    return LexicalShortlist(always, torch.from_numpy(table))
