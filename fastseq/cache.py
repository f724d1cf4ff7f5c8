"""The stream cache, for corpora larger than memory: a TSV or two line-aligned files read as a stream of chunks
(question filter on the way), tokenized in worker processes and written as flat int32 ids and int64 offsets per side
(`.npy`) that `open_cache` reads back memory-mapped. The vocabulary is counted in the same pass: tokens get
provisional ids in order of first appearance, and one pass over the id arrays at the end turns them into vocabulary
ids. Peak memory follows `chunk_size`, not the corpus."""
import json
import time
from collections import Counter, deque
from functools import lru_cache
from itertools import islice
from multiprocessing import get_context

import numpy as np
import pandas as pd
from fastcore.xtras import Path

from .casual import augment_casual
from .datasets import count_lines, question_filter, read_tsv, stream_pairs, strip_pairs, valid_mask, warn_dropped
from .errors import CorpusError
from .io import Progress, atomic_path, file_key
from .pairs import PairDataset
from .tokenize import make_tokenizers, tokenizer_class, tokenizer_from_meta
from .vocab import EOS, SPECIALS, Vocab

__all__ = ['build_cache', 'read_manifest', 'CachedCorpus', 'open_cache', 'cache_tokenizers', 'CACHE_FORMAT']

CACHE_FORMAT = 'fastseq-stream-cache-2'   # 2: the tokenizers' bundle forms in tokenizers.json
_MANIFEST, _TOKENIZERS = 'cache.json', 'tokenizers.json'


def _chunks(pairs, size, counts):
    "Lists of at most `size` (source, target) texts, one per `size` lines read; bad lines (None) counted, not kept."
    while batch := list(islice(pairs, size)):
        counts['skipped_bad_lines'] += sum(s is None for _, s, _ in batch)
        yield [(s, t) for _, s, t in batch if s is not None]


def _keep(texts, src, tgt, questions, counts):
    "The pairs `clean_pairs` keeps (through the lesson's question filter when asked); dropped ones counted."
    df, n_empty = strip_pairs(pd.DataFrame(texts, columns=[src, tgt]), src, tgt)
    counts['dropped_empty'] += n_empty
    return question_filter(df, src, tgt) if questions else df


def _local_ids(token_lists):
    "Chunk-local vocabulary (tokens in first-seen order), flat int32 ids into it and int32 lengths."
    stoi = {}
    ids = [stoi.setdefault(t, len(stoi)) for toks in token_lists for t in toks]
    lens = np.fromiter((len(toks) for toks in token_lists), dtype=np.int32, count=len(token_lists))
    return list(stoi), np.asarray(ids, dtype=np.int32), lens


@lru_cache(maxsize=None)
def _tokenizer(meta_json):
    "One tokenizer per bundle form and process: spaCy (or a SentencePiece model) loads once, not per chunk."
    return tokenizer_from_meta(json.loads(meta_json))


def _encode_chunk(job):
    "Worker: tokenize one chunk of kept pairs; both sides as chunk-local ids (target lists end with eos)."
    src_texts, tgt_texts, (src_meta, tgt_meta) = job
    src_toks = _tokenizer(src_meta)(src_texts)
    tgt_toks = _tokenizer(tgt_meta)(tgt_texts)
    return _local_ids(src_toks), _local_ids([toks + [EOS] for toks in tgt_toks])


def cache_tokenizers(folder):
    "The (source, target) tokenizers a cache was built with, from the bundle forms it keeps (`tokenizers.json`)."
    return tuple(tokenizer_from_meta(m) for m in json.loads((Path(folder) / _TOKENIZERS).read_text(encoding='utf-8')))


def _ordered_map(fn, jobs, n_workers, ahead=2):
    "fn over jobs in order, in `n_workers` processes (0: in this one), never more than `ahead` per worker queued."
    if n_workers == 0:
        yield from map(fn, jobs); return
    with get_context('spawn').Pool(n_workers) as pool:
        pending = deque()
        for job in jobs:
            pending.append(pool.apply_async(fn, (job,)))
            if len(pending) >= n_workers * ahead: yield pending.popleft().get()
        while pending: yield pending.popleft().get()


class _SideWriter:
    "One side's provisional vocabulary and counts, and its ids and lengths appended to raw files as chunks come."
    def __init__(self, folder, name):
        self.stoi, self.counts = {w: i for i, w in enumerate(SPECIALS)}, np.zeros(len(SPECIALS), dtype=np.int64)
        self.ids_path, self.lens_path = folder / f".{name}.ids.raw", folder / f".{name}.lens.raw"
        self.ids_file, self.lens_file = open(self.ids_path, 'wb'), open(self.lens_path, 'wb')

    def add(self, local):
        "Map a chunk's local ids to provisional ones, count them, append them."
        itos, ids, lens = local
        remap = np.fromiter((self.stoi.setdefault(w, len(self.stoi)) for w in itos), dtype=np.int32, count=len(itos))
        gids = remap[ids]
        counts = np.bincount(gids, minlength=len(self.stoi))
        counts[:len(self.counts)] += self.counts
        self.counts = counts
        self.ids_file.write(gids.tobytes()); self.lens_file.write(lens.tobytes())

    def close(self): self.ids_file.close(); self.lens_file.close()

    def vocab(self, max_vocab, min_freq):
        "The vocabulary of the counted tokens (specials first, as `Vocab.from_counts`)."
        counts = {w: int(self.counts[i]) for w, i in self.stoi.items() if i >= len(SPECIALS)}
        return Vocab.from_counts(counts, max_vocab=max_vocab, min_freq=min_freq)

    def finish(self, folder, name, vocab, step=1 << 22):
        "Rewrite provisional ids as vocabulary ids into `name`_ids.npy, lengths into offsets: one pass, block by block."
        final = np.asarray(vocab.numericalize(list(self.stoi)), dtype=np.int32)    # stoi's words in id order
        n_ids, n_pairs = self.ids_path.stat().st_size // 4, self.lens_path.stat().st_size // 4
        _write_npy(folder / f"{name}_ids.npy", np.int32, n_ids, (final[b] for b in _blocks(self.ids_path, step)))
        _write_npy(folder / f"{name}_offsets.npy", np.int64, n_pairs + 1, _offsets(_blocks(self.lens_path, step)))
        self.ids_path.unlink(); self.lens_path.unlink()
        return n_ids


def _blocks(path, step):
    "The int32 items of a raw file, `step` at a time (plain reads: a memory map would count its pages as ours)."
    with open(path, 'rb') as f:
        while len(block := np.fromfile(f, dtype=np.int32, count=step)): yield block


def _offsets(len_blocks):
    "Running offsets, 0 first, of lengths that arrive block by block."
    total = 0
    yield np.zeros(1, dtype=np.int64)
    for lens in len_blocks:
        offsets = total + np.cumsum(lens, dtype=np.int64)
        total = int(offsets[-1])
        yield offsets


def _write_npy(path, dtype, n, blocks):
    "An .npy file of `n` items written atomically block by block, so the whole array is never in memory."
    header = {'descr': np.lib.format.dtype_to_descr(np.dtype(dtype)), 'fortran_order': False, 'shape': (n,)}
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        np.lib.format.write_array_header_1_0(f, header)
        for block in blocks: f.write(block.astype(dtype, copy=False).tobytes())


def _split_chunks(pairs, opts, chunk_size, counts):
    """(training pairs, validation pairs) of each chunk, cleaned, filtered and split by one seeded generator as
    `Seq2SeqDataLoaders.from_df` splits the whole corpus (`valid_mask`); all training beside a validation file."""
    rng, retype_rng = np.random.RandomState(opts['seed']), np.random.RandomState(opts['seed'])
    retype = lambda train: augment_casual(train, opts.get('casual_share', 0.), retype_rng)
    for texts in _chunks(pairs, chunk_size, counts):
        df = _keep(texts, opts['src'], opts['tgt'], opts['questions'], counts)
        kept = list(zip(df[opts['src']], df[opts['tgt']]))
        if opts.get('valid'): yield retype(kept), []; continue
        is_valid = valid_mask(rng, len(kept), opts['valid_pct'])
        yield retype([p for p, v in zip(kept, is_valid) if not v]), [p for p, v in zip(kept, is_valid) if v]


def _tokenizers(kind, pairs, opts, chunk_size, sample=1_000_000, verbose=True):
    """The (source, target) tokenizers of `kind`, trained (SentencePiece) on the first `sample` training pairs of the
    stream, as the pipeline will split it."""
    if not tokenizer_class(kind).trained: return make_tokenizers(kind, opts['src'], opts['tgt'], opts['normalize'])
    src_texts, tgt_texts = [], []
    for train, _ in _split_chunks(pairs, opts, chunk_size, Counter()):
        src_texts += [s for s, _ in train]; tgt_texts += [t for _, t in train]
        if len(src_texts) >= sample: break
    t0 = time.perf_counter()
    toks = make_tokenizers(kind, opts['src'], opts['tgt'], opts['normalize'], (src_texts[:sample], tgt_texts[:sample]),
                           opts['vocab_sz'], opts['joint_vocab'], opts['seed'])
    if verbose: print(f"SentencePiece: {toks[0].vocab_sz} / {toks[1].vocab_sz} pieces from "
                      f"{min(len(src_texts), sample):,} pairs in {time.perf_counter() - t0:.0f} s", flush=True)
    return toks


def _pipeline(pairs, n_lines, opts, src_w, tgt_w, n_workers, chunk_size, verbose, counts, tokenizers):
    "Read, filter, split and tokenize chunk by chunk (tokenizing in workers), feeding the side writers."
    valid, kept, t0 = [], 0, time.perf_counter()
    spec = tuple(json.dumps(tok.to_meta(), sort_keys=True) for tok in tokenizers)
    def jobs():
        nonlocal kept
        for train, val in _split_chunks(pairs, opts, chunk_size, counts):
            valid.extend(val); kept += len(train)
            yield [s for s, _ in train], [t for _, t in train], spec
    n_chunks = max(1, -(-n_lines // chunk_size))
    progress = Progress(n_chunks, 'tokenizing', verbose)
    for i, (src_local, tgt_local) in enumerate(progress(_ordered_map(_encode_chunk, jobs(), n_workers)), 1):
        src_w.add(src_local); tgt_w.add(tgt_local)
        lines = min(i * chunk_size, n_lines)
        progress.comment(f"{lines:,} of {n_lines:,} lines, {lines / (time.perf_counter() - t0):,.0f} lines/s")
    return kept, valid


def build_cache(path, folder, tgt_path=None, src='fr', tgt='en', names=None, questions=False, valid_pct=0.01,
                seed=42, max_vocab=40000, min_freq=1, normalize=True, n_workers=1, chunk_size=50000, verbose=True,
                tokenizer='spacy', vocab_sz=8000, joint_vocab=False, skip_bad_lines=False, valid=None, casual_share=0.):
    """Stream a TSV (or `path` + `tgt_path`, two line-aligned files) into a cache in `folder`: ids and offsets per
    side, both vocabularies (counted on the training pairs only), the validation pairs' texts, and a manifest written
    last, so an interrupted build is simply rebuilt. With a complete cache for the same inputs and options, returns
    at once. The pairs are cleaned, filtered and split as `Seq2SeqDataLoaders.from_df` does in memory (the same seed
    gives the same validation pairs), or `valid` names a validation TSV; `skip_bad_lines` skips and counts malformed
    lines. `tokenizer='spm'` first trains SentencePiece models on the stream's first million training pairs.
    `casual_share` of the training pairs are retyped as people type (`augment_casual`), chunk by chunk."""
    folder = Path(folder)
    opts = dict(src=src, tgt=tgt, names=names, questions=questions, valid_pct=valid_pct, seed=seed,
                max_vocab=max_vocab, min_freq=min_freq, normalize=normalize)
    tokenizer_class(tokenizer)                                     # an unknown kind fails before any work
    if tokenizer == 'spm': opts.update(tokenizer=tokenizer, vocab_sz=vocab_sz, joint_vocab=joint_vocab)
    if skip_bad_lines: opts.update(skip_bad_lines=True)
    if valid is not None: opts.update(valid=str(Path(valid).absolute()))
    if casual_share: opts.update(casual_share=casual_share)
    key = file_key([path, tgt_path, valid], opts)
    manifest = folder / _MANIFEST
    if manifest.is_file() and json.loads(manifest.read_text()).get('key') == key: return folder
    if not 0 <= valid_pct < 1: raise ValueError(f"valid_pct must be at least 0 and below 1, got {valid_pct!r}")
    stream = lambda: stream_pairs(path, tgt_path, src, tgt, names, skip_bad_lines=skip_bad_lines)
    valid_pairs, n_lines = _valid_file_pairs(valid, opts, skip_bad_lines), count_lines(path)
    folder.mkdir(parents=True, exist_ok=True)
    manifest.unlink(missing_ok=True)        # an older cache here is no longer complete once its files start changing
    t0, counts = time.perf_counter(), Counter(skipped_bad_lines=0, dropped_empty=0)
    tokenizers = _tokenizers(tokenizer, stream(), opts, chunk_size, verbose=verbose)
    with atomic_path(folder / _TOKENIZERS) as tmp: tmp.write_text(json.dumps([t.to_meta() for t in tokenizers]))
    src_w, tgt_w = _SideWriter(folder, 'src'), _SideWriter(folder, 'tgt')
    try: kept, valid = _pipeline(stream(), n_lines, opts, src_w, tgt_w, n_workers, chunk_size, verbose, counts,
                                 tokenizers)
    finally: src_w.close(); tgt_w.close()
    if not kept: raise CorpusError("no training pair left after cleaning and filtering", path)
    valid = valid_pairs if valid_pairs is not None else valid
    warn_dropped(path, **counts)
    t_tok = time.perf_counter() - t0
    vocabs = {side: w.vocab(max_vocab, min_freq) for side, w in (('src', src_w), ('tgt', tgt_w))}
    for side, w in (('src', src_w), ('tgt', tgt_w)):
        t1, n_ids = time.perf_counter(), w.finish(folder, side, vocabs[side])
        with atomic_path(folder / f"{side}_vocab.json") as tmp: vocabs[side].save(tmp)
        if verbose: print(f"numericalizing {side}: {n_ids:,} ids in {time.perf_counter() - t1:.1f} s", flush=True)
    with atomic_path(folder / 'valid.json') as tmp:
        tmp.write_text(json.dumps(valid, ensure_ascii=False), encoding='utf-8')
    stats = dict(lines=n_lines, n_train=kept, n_valid=len(valid), src_vocab=len(vocabs['src']),
                 tgt_vocab=len(vocabs['tgt']), **counts, tokenize_s=round(t_tok, 2),
                 total_s=round(time.perf_counter() - t0, 2))
    with atomic_path(manifest) as tmp: tmp.write_text(json.dumps(dict(format=CACHE_FORMAT, key=key, options=opts,
                                                                       stats=stats), indent=1))
    if verbose: print(f"fastseq cache: {kept:,} training / {len(valid):,} validation pairs of {n_lines:,} lines in "
                      f"{stats['total_s']:.0f} s → {folder}")
    return folder


def _valid_file_pairs(valid, opts, skip_bad_lines):
    "The (source, target) pairs of a validation file, read, cleaned and filtered as in memory; None without one."
    if valid is None: return None
    df = read_tsv(valid, opts['src'], opts['tgt'], skip_bad_lines=skip_bad_lines)
    if opts['questions']: df = question_filter(df, opts['src'], opts['tgt'])
    return list(zip(df[opts['src']], df[opts['tgt']]))


def read_manifest(folder):
    "The manifest of a complete cache, or a clear error naming the folder."
    manifest = Path(folder) / _MANIFEST
    if not manifest.is_file(): raise CorpusError("no complete fastseq cache here (build_cache writes one)", folder)
    meta = json.loads(manifest.read_text())
    if meta.get('format') != CACHE_FORMAT:
        raise CorpusError(f"cache format {meta.get('format')!r}, this fastseq reads {CACHE_FORMAT!r}", manifest)
    return meta


class CachedCorpus:
    """A complete cache, read: memory-mapped training pairs, both vocabularies, validation texts, build options and
    the build's counts (lines skipped or dropped)."""
    def __init__(self, train, src_vocab, tgt_vocab, valid, options, stats=None):
        self.train, self.src_vocab, self.tgt_vocab = train, src_vocab, tgt_vocab
        self.valid, self.options, self.stats = valid, options, stats or {}


def open_cache(folder):
    "Read the cache in `folder` without loading its id arrays: they are memory-mapped."
    folder, meta = Path(folder), read_manifest(folder)
    load = lambda name: np.load(folder / f"{name}.npy", mmap_mode='r')
    train = PairDataset(*(load(n) for n in ('src_ids', 'src_offsets', 'tgt_ids', 'tgt_offsets')))
    valid = [tuple(p) for p in json.loads((folder / 'valid.json').read_text(encoding='utf-8'))]
    vocabs = (Vocab.load(folder / f"{side}_vocab.json") for side in ('src', 'tgt'))
    return CachedCorpus(train, *vocabs, valid, meta['options'], meta.get('stats'))
