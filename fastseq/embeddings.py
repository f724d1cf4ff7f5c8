"""fastText vectors → embedding matrices: .bin models (subword vectors for unseen words), streamed .vec files,
loaded fasttext models, {word: vector} mappings, or vectors trained on the corpus; with a coverage report."""
import hashlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from fastcore.xtras import Path

from .errors import CorpusError, CorpusNotFoundError
from .io import atomic_path, cache_dir, file_key
from .vocab import PAD, SPECIALS

__all__ = ['Coverage', 'read_vec', 'vectors_for', 'embedding_matrix', 'train_vectors', 'auto_epochs',
           'cached_embedding_matrix', 'side_matrix']


@dataclass
class Coverage:
    "Which vocabulary words got a vector exactly, from subwords, or stayed random."
    exact: list = field(default_factory=list)
    subword: list = field(default_factory=list)
    random: list = field(default_factory=list)

    def __repr__(self):
        ex = lambda words: ', '.join(words[:5]) + (', …' if len(words) > 5 else '')
        return (f"vectors: {len(self.exact)} exact ({ex(self.exact)}), {len(self.subword)} from subwords "
                f"({ex(self.subword)}), {len(self.random)} random ({ex(self.random)})")


def read_vec(path, words, dim=None):
    "Stream a fastText .vec file, keeping only `words`: peak memory ~ len(words) × dim, whatever the file size."
    path, wanted, found = Path(path), set(words), {}
    if not path.is_file(): raise CorpusNotFoundError(path, 'vectors file')
    with open(path, encoding='utf-8', errors='strict') as f:
        count, file_dim = _vec_header(path, f.readline())
        if dim is not None and dim != file_dim:
            raise ValueError(f"{path}: vectors have {file_dim} dimensions, {dim} were asked for")
        n = 0
        for n, line in enumerate(f, 1):
            word, _, rest = line.rstrip('\n').rstrip(' ').partition(' ')
            if word not in wanted: continue
            vec = np.array(rest.split(' '), dtype=np.float32) if rest else np.zeros(0, np.float32)
            if vec.shape != (file_dim,):
                raise CorpusError(f"expected {file_dim} numbers after {word!r}, found {vec.size}", path, n + 1)
            found[word] = vec
    if n < count: raise CorpusError(f"truncated: the header promises {count} vectors, the file has {n}", path)
    return found, file_dim


def _vec_header(path, line):
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise CorpusError(f"the first line must be '<count> <dim>', got {line.strip()[:60]!r}", path, 1)
    return int(parts[0]), int(parts[1])


def _is_fasttext_model(o): return hasattr(o, 'get_word_vector') and hasattr(o, 'get_dimension')


def vectors_for(source, words, dim=None):
    "({word: vector}, {word: 'exact'|'subword'}, dim) for `words` from a .bin/.vec path, fasttext model or mapping."
    if isinstance(source, (str, Path)) and Path(source).suffix == '.vec':
        found, dim = read_vec(source, words, dim)
        return found, {w: 'exact' for w in found}, dim
    if isinstance(source, (str, Path)):
        if not Path(source).is_file(): raise CorpusNotFoundError(source, 'vectors file')
        import fasttext
        source = fasttext.load_model(str(source))
    if _is_fasttext_model(source): return _from_model(source, words, dim)
    if isinstance(source, Mapping):
        found = {w: np.asarray(source[w], dtype=np.float32) for w in words if w in source}
        dims = {v.shape for v in found.values()}
        if len(dims) > 1: raise ValueError(f"vectors of different shapes in the mapping: {sorted(dims)}")
        got = next(iter(dims))[0] if dims else dim
        if dim is not None and got != dim: raise ValueError(f"vectors have {got} dimensions, {dim} were asked for")
        return found, {w: 'exact' for w in found}, got
    raise TypeError(f"vectors must be a .bin or .vec path, a fasttext model or a {{word: vector}} mapping, "
                    f"got {type(source).__name__}")


def _from_model(model, words, dim):
    "Exact vectors for known words; fastText's character n-gram vectors for the others (zero means none)."
    file_dim = model.get_dimension()
    if dim is not None and dim != file_dim:
        raise ValueError(f"vectors have {file_dim} dimensions, {dim} were asked for")
    known, found, kinds = set(model.words), {}, {}
    for w in words:
        vec = np.asarray(model.get_word_vector(w), dtype=np.float32)
        if w in known or np.any(vec): found[w], kinds[w] = vec, 'exact' if w in known else 'subword'
    return found, kinds, file_dim


def embedding_matrix(source, itos, dim=None, init_range=0.1, seed=0):
    """(len(itos), dim) tensor and `Coverage`: rows from the vectors, rescaled so their standard deviation is the
    model's own init's, init_range/√3 (uniform ±init_range): pretrained rows then start on the same scale as
    every other weight, and the tied softmax sees logits of the usual size. Special tokens and words without a
    vector keep the model's uniform init; the pad row is zero."""
    words = [w for w in itos if w not in SPECIALS]
    found, kinds, dim = vectors_for(source, words, dim)
    rng = np.random.RandomState(seed)
    mat = rng.uniform(-init_range, init_range, (len(itos), dim)).astype(np.float32)
    if found:
        stacked = np.stack(list(found.values()))
        scale = (init_range / np.sqrt(3)) / max(float(stacked.std()), 1e-8)
        for i, w in enumerate(itos):
            if w in found: mat[i] = found[w] * scale
    mat[itos.index(PAD)] = 0.
    cov = Coverage([w for w in words if kinds.get(w) == 'exact'], [w for w in words if kinds.get(w) == 'subword'],
                   [w for w in words if w not in kinds])
    return torch.from_numpy(mat), cov


def auto_epochs(n_tokens, budget=5_000_000, lo=5, hi=50):
    "Skipgram passes so a small corpus still gets ~`budget` token visits (fastText's 5 are tuned for huge corpora)."
    return int(min(hi, max(lo, budget // max(n_tokens, 1))))


def train_vectors(token_lists, dim=300, epoch=None, min_count=1, **kwargs):
    """fastText skipgram vectors trained on tokenized sentences with fasttext-wheel (one thread: reproducible);
    `token_lists` may be any iterable (it is streamed to fastText's input file, never held whole);
    `epoch=None` picks `auto_epochs` from the corpus size."""
    import fasttext
    with tempfile.TemporaryDirectory() as d:
        corpus, n_tokens = Path(d) / 'corpus.txt', 0
        with open(corpus, 'w', encoding='utf-8') as f:
            for toks in token_lists:
                f.write(' '.join(toks) + '\n'); n_tokens += len(toks)
        if epoch is None: epoch = auto_epochs(n_tokens)
        return fasttext.train_unsupervised(str(corpus), model='skipgram', dim=dim, epoch=epoch, minCount=min_count,
                                           thread=1, verbose=0, **kwargs)


def _cached(base, build):
    "The (matrix, coverage) stored at `base`.npy/.json, or `build()`'s, then stored atomically."
    npy, meta = base.with_suffix('.npy'), base.with_suffix('.json')
    if npy.is_file() and meta.is_file():
        return torch.from_numpy(np.load(npy)), Coverage(**json.loads(meta.read_text(encoding='utf-8')))
    mat, cov = build()
    with atomic_path(npy) as tmp:
        with open(tmp, 'wb') as f: np.save(f, mat.numpy())
    with atomic_path(meta) as tmp: tmp.write_text(json.dumps(cov.__dict__, ensure_ascii=False), encoding='utf-8')
    return mat, cov


def cached_embedding_matrix(source, itos, cache=None, dim=None, init_range=0.1):
    """`embedding_matrix` for a vectors file, cached in the folder `cache` (default: `cache_dir('vectors')`) under a key
    of the file and the vocabulary."""
    if not isinstance(source, (str, Path)): return embedding_matrix(source, itos, dim, init_range)
    if not Path(source).is_file(): raise CorpusNotFoundError(source, 'vectors file')
    base = Path(cache or cache_dir('vectors')) / f"fastseq_vectors_{file_key([source], itos, dim, init_range)}"
    return _cached(base, lambda: embedding_matrix(source, itos, dim, init_range))


def side_matrix(dls, side, vecs, dim=None, init_range=0.1, verbose=True, cache=None):
    """Embedding matrix for the 'src' or 'tgt' vocabulary of `dls`; vecs='train' trains skipgram vectors on its split
    (minutes on 157k pairs). Cached in the folder `cache` (default: `cache_dir('vectors')`, not the working folder)
    under a key of the split's ids (or the vectors file), the vocabulary and the size."""
    proc, cache = dls.processor, Path(cache or cache_dir('vectors'))
    vocab = proc.src_vocab if side == 'src' else proc.tgt_vocab
    if isinstance(vecs, str) and vecs == 'train':
        ds, dim, i = dls.train_ds, dim or 300, 0 if side == 'src' else 1
        h = hashlib.sha1(json.dumps([vocab.itos, dim, init_range]).encode())
        for block in ds.token_blocks(side): h.update(block.tobytes())       # a memory-mapped cache stays on disk
        if ds.keep is not None: h.update(np.ascontiguousarray(ds.keep).tobytes())
        tokens = (vocab.textify(pair[i]) for pair in ds)                      # streamed, pair by pair
        build = lambda: embedding_matrix(train_vectors(tokens, dim=dim), vocab.itos, dim, init_range)
        mat, cov = _cached(cache / f"fastseq_vectors_train_{h.hexdigest()[:16]}", build)
    else: mat, cov = cached_embedding_matrix(vecs, vocab.itos, cache, dim, init_range)
    if verbose: print(f"{side} {cov}")
    return mat, cov
