"""Tokenize, numericalize, sortish batching with end padding → fastai `DataLoaders` of (src, tgt, src_lens, tgt)."""
import numpy as np
import pandas as pd
import torch
from torch.nn.utils.rnn import pad_sequence
from fastai.data.core import DataLoaders, ItemTransform
from fastai.text.data import SortedDL
from fastai.torch_core import default_device

from .cache import cache_tokenizers, open_cache
from .casual import accent_table, augment_casual
from .datasets import clean_pairs, question_filter, read_files, read_tsv, valid_mask
from .io import show_table
from .pairs import PairDataset
from .tokenize import make_tokenizers
from .vocab import Vocab

__all__ = ['TextProcessor', 'AppendTarget', 'SortishDL', 'Seq2SeqDataLoaders', 'pad_batch']


class TextProcessor:
    "Tokenizers and vocabularies of both sides: text → ids for the source, ids → text for the target."
    def __init__(self, src_tok, tgt_tok, src_vocab, tgt_vocab):
        self.src_tok, self.tgt_tok, self.src_vocab, self.tgt_vocab = src_tok, tgt_tok, src_vocab, tgt_vocab

    def src_ids(self, texts, n_workers=0):
        "Source id lists for raw `texts`."
        return self.src_tokens_ids(texts, n_workers)[1]

    def src_tokens_ids(self, texts, n_workers=0):
        "Source token lists (case markers included, unknown words as written) and their id lists, for raw `texts`."
        toks = self.src_tok(texts, n_workers=n_workers)
        return toks, [self.src_vocab.numericalize(t) for t in toks]

    def tgt_ids(self, texts, n_workers=0):
        "Target id lists for raw `texts`, each ending with eos."
        eos = self.tgt_vocab.eos_idx
        return [self.tgt_vocab.numericalize(t) + [eos] for t in self.tgt_tok(texts, n_workers=n_workers)]

    def src_tokens(self, text, max_len=None):
        "The source tokens of `text` as the model sees them: unknown words as xxunk, the first `max_len` when given."
        return self.src_vocab.textify(self.src_ids([text])[0][:max_len], strip_special=False)

    def src_accents(self):
        "The source vocabulary's `accent_table`, built on first use and kept (not pickled: it is rebuilt)."
        if self.__dict__.get('_accents') is None: self._accents = accent_table(self.src_vocab.itos)
        return self._accents

    def __getstate__(self): return {k: v for k, v in self.__dict__.items() if k != '_accents'}

    def src_text(self, ids): return ' '.join(self.src_vocab.textify(ids))
    def tgt_words(self, ids): return self.tgt_vocab.textify(self.tgt_vocab.until_eos(ids))
    def tgt_text(self, ids): return self.tgt_tok.detokenize(self.tgt_words(ids))


class AppendTarget(ItemTransform):
    """(src, tgt, src_lens) → (src, tgt, src_lens, tgt): the model's inputs, then the loss's target, the same tensor
    once it is on the device (a batch transform runs after the copy, so it is copied once)."""
    def encodes(self, b): return (*b, b[1])


def pad_batch(seqs, pad_idx):
    "Id sequences (arrays or lists) padded at the end into a (bs, max_len) int64 tensor, with torch's `pad_sequence`."
    rows = [torch.from_numpy(np.asarray(s, dtype=np.int64)) for s in seqs]
    return pad_sequence(rows, batch_first=True, padding_value=pad_idx)


class SortishDL(SortedDL):
    """fastai's `SortedDL` over a `PairDataset`, by target then source length: batches of similar length, shuffled in
    chunks of 50 batches in training (the longest batch first, so memory runs out at once if it will), sorted in
    validation. Batches are (src, tgt, src_lens, tgt); no worker processes (batching ids is cheap)."""
    def __init__(self, dataset=None, pad_idx=1, processor=None, res=None, num_workers=0, **kwargs):
        if res is None and dataset is not None: res = (dataset.tgt_lens * 1000 + dataset.src_lens).tolist()
        kwargs.setdefault('after_batch', AppendTarget())                   # `new` passes the pipeline on
        super().__init__(dataset, res=res, num_workers=num_workers, **kwargs)
        self.pad_idx, self.processor, self._n_inp = pad_idx, processor, 3   # (src, tgt, src_lens) in, tgt out

    def get_idxs(self):
        "This epoch's item order, kept as `order` (a checkpoint inside the epoch records it, to resume mid-epoch)."
        self.order = list(super().get_idxs())
        return self.order

    def create_batch(self, b):
        """(src, tgt, src_lens): the source lengths as a tuple of ints stay on the host, where packing needs them (read
        back from a GPU they would stall its queue every batch)."""
        src, tgt = pad_batch([s for s, _ in b], self.pad_idx), pad_batch([t for _, t in b], self.pad_idx)
        return src, tgt, tuple(len(s) for s, _ in b)

    def new(self, dataset=None, cls=None, **kwargs):
        kwargs.setdefault('pad_idx', self.pad_idx); kwargs.setdefault('processor', self.processor)
        return super().new(dataset=dataset, cls=cls, **kwargs)

    def show_batch(self, b=None, max_n=9, show=True):
        "Table of source and target texts of a batch, decoded back from ids."
        src, tgt, *_ = self.one_batch() if b is None else b
        p = self.processor
        df = pd.DataFrame({'source': [p.src_text(s) for s in src[:max_n].tolist()],
                           'target': [' '.join(p.tgt_vocab.textify(t)) for t in tgt[:max_n].tolist()]})
        if show: show_table(df)
        return df


def _split(df, valid_pct, seed):
    "Seeded random train/valid split of a DataFrame, pair by pair as the stream cache splits (`valid_mask`)."
    if not 0 < valid_pct < 1: raise ValueError(f"valid_pct must be between 0 and 1, got {valid_pct!r}")
    is_valid = valid_mask(np.random.RandomState(seed), len(df), valid_pct)
    if is_valid.all() or not is_valid.any():
        empty = 'training' if is_valid.all() else 'validation'
        raise ValueError(f"valid_pct={valid_pct} of {len(df)} pairs left the {empty} split empty: change valid_pct, "
                         f"or pass a validation set")
    return df[~is_valid], df[is_valid]


class Seq2SeqDataLoaders(DataLoaders):
    "Train and valid `SortishDL`s of a parallel corpus, with the `TextProcessor` that made them."
    def __init__(self, *loaders, path='.', device=None, processor=None, src='fr', tgt='en', stats=None):
        super().__init__(*loaders, path=path, device=device)
        self.processor, self.src, self.tgt, self.stats = processor, src, tgt, stats or {}

    @property
    def vocab(self): return self.processor.src_vocab.itos, self.processor.tgt_vocab.itos

    def new_empty(self):
        "Same processor and settings, no data: what `learn.export` pickles."
        loaders = [dl.new(dl.dataset.new_empty()) for dl in self.loaders]
        return type(self)(*loaders, path=self.path, device=self.device, processor=self.processor,
                          src=self.src, tgt=self.tgt, stats=self.stats)

    def valid_pairs(self):
        "The validation split's (source text, reference text) pairs, exactly as metrics score them."
        return list(self.valid_ds.texts or [])

    @classmethod
    def from_df(cls, df, src='fr', tgt='en', bs=64, valid_pct=0.1, seed=None, valid_df=None, max_len=None,
                max_vocab=40000, min_freq=1, questions=False, normalize=True, n_workers=0, device=None,
                path='.', verbose=True, tokenizer='spacy', vocab_sz=8000, joint_vocab=False, casual_share=0.):
        """Tokenize, split, build vocabularies on the training split, drop over-long training pairs, batch.
        `tokenizer`: 'spacy' (words with case markers) or 'spm' (SentencePiece pieces trained on the training split,
        at most `vocab_sz` per side, or shared by both sides with `joint_vocab`). `n_workers` > 1 tokenizes inputs
        over 20k texts in that many processes; serial is the default, faster on small machines (docs/design.md).
        `casual_share` of the training pairs are retyped as people type (`augment_casual`)."""
        df = clean_pairs(df, src, tgt)
        if valid_df is not None: valid_df = clean_pairs(valid_df, src, tgt)
        if questions:
            df = question_filter(df, src, tgt)
            valid_df = question_filter(valid_df, src, tgt) if valid_df is not None else None
        train_df, valid_df = _split(df, valid_pct, seed) if valid_df is None else (df, valid_df)
        if casual_share:
            train_df = pd.DataFrame(augment_casual(zip(train_df[src], train_df[tgt]), casual_share, seed or 0),
                                    columns=[src, tgt])
        src_tok, tgt_tok = make_tokenizers(tokenizer, src, tgt, normalize, (train_df[src], train_df[tgt]), vocab_sz,
                                           joint_vocab, seed or 0)
        tr_src, tr_tgt = src_tok(train_df[src], n_workers), tgt_tok(train_df[tgt], n_workers)
        proc = TextProcessor(src_tok, tgt_tok, Vocab.from_tokens(tr_src, max_vocab=max_vocab, min_freq=min_freq),
                             Vocab.from_tokens(tr_tgt, max_vocab=max_vocab, min_freq=min_freq))
        train_ds, limits = PairDataset.from_lists([proc.src_vocab.numericalize(s) for s in tr_src],
                                                  [proc.tgt_vocab.numericalize(t) + [Vocab.eos_idx] for t in tr_tgt]
                                                  ).limited(max_len)
        valid_texts = list(zip(valid_df[src], valid_df[tgt]))
        valid_ds = PairDataset.from_lists(proc.src_ids(valid_df[src], n_workers),
                                          proc.tgt_ids(valid_df[tgt], n_workers), valid_texts)
        stats = dict(n_train=len(train_ds), n_valid=len(valid_ds), **limits, src_vocab=len(proc.src_vocab),
                     tgt_vocab=len(proc.tgt_vocab), casual_share=casual_share,
                     **{k: v for k, v in df.attrs.items() if k != 'source'})
        return cls._from_datasets(train_ds, valid_ds, proc, stats, bs, max_len, device, path, verbose)

    @classmethod
    def _from_datasets(cls, train_ds, valid_ds, proc, stats, bs, max_len, device, path, verbose):
        src, tgt = proc.src_tok.lang, proc.tgt_tok.lang
        if verbose: print(_stats_line(stats, src, tgt))
        if len(train_ds) == 0: raise ValueError(f"no training pair is left after dropping pairs over {max_len} tokens")
        kw = dict(pad_idx=Vocab.pad_idx, processor=proc)
        kw['pin_memory'] = torch.device(device or default_device()).type == 'cuda'   # GPU copies from pinned pages
        train_dl = SortishDL(train_ds, bs=bs, shuffle=True, drop_last=len(train_ds) > bs, **kw)
        valid_dl = SortishDL(valid_ds, bs=bs * 2, shuffle=False, **kw)
        return cls(train_dl, valid_dl, path=path, device=device or default_device(), processor=proc,
                   src=src, tgt=tgt, stats=stats)

    @classmethod
    def from_cache(cls, folder, bs=64, max_len=None, device=None, path='.', verbose=True):
        """From a `fastseq.cache.build_cache` folder: training pairs memory-mapped (nothing per pair in RAM but
        indices and lengths), validation pairs tokenized from their stored texts; the cache's vocabularies."""
        corpus = open_cache(folder)
        proc = TextProcessor(*cache_tokenizers(folder), corpus.src_vocab, corpus.tgt_vocab)
        train_ds, limits = corpus.train.limited(max_len)
        valid_ds = PairDataset.from_lists(proc.src_ids([s for s, _ in corpus.valid]),
                                          proc.tgt_ids([t for _, t in corpus.valid]), corpus.valid)
        dropped = {k: corpus.stats.get(k, 0) for k in ('skipped_bad_lines', 'dropped_empty')}
        stats = dict(n_train=len(train_ds), n_valid=len(valid_ds), **limits, src_vocab=len(proc.src_vocab),
                     tgt_vocab=len(proc.tgt_vocab), casual_share=corpus.options.get('casual_share', 0.), **dropped)
        return cls._from_datasets(train_ds, valid_ds, proc, stats, bs, max_len, device, path, verbose)

    @classmethod
    def from_tsv(cls, fname, src='fr', tgt='en', valid=None, sep=None, names=None, skip_bad_lines=False, **kwargs):
        "From a TSV/CSV file with named columns (or Tatoeba's headerless en/fr form); `valid` an optional file."
        read = dict(sep=sep, names=names, skip_bad_lines=skip_bad_lines)
        df, valid_df = read_tsv(fname, src, tgt, **read), None if valid is None else read_tsv(valid, src, tgt, **read)
        return cls.from_df(df, src, tgt, valid_df=valid_df, **kwargs)

    @classmethod
    def from_files(cls, src_path, tgt_path, src='fr', tgt='en', **kwargs):
        "From two line-aligned files, one sentence per line."
        return cls.from_df(read_files(src_path, tgt_path, src, tgt), src, tgt, **kwargs)


def _stats_line(stats, src, tgt):
    s = stats
    line = (f"fastseq data: {s['n_train']} training / {s['n_valid']} validation pairs; vocabulary {src} "
            f"{s['src_vocab']}, {tgt} {s['tgt_vocab']}; dropped {s['dropped_long']} training pairs over "
            f"{s['src_len_limit']} {src} / {s['tgt_len_limit']} {tgt} tokens")
    extra = [f"{v} {k.replace('_', ' ')}" for k, v in s.items() if k in ('skipped_bad_lines', 'dropped_empty') and v]
    return line + (f"; {', '.join(extra)}" if extra else '')
