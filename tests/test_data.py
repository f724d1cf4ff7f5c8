import re

import numpy as np
import pytest
import torch
from fastcore.xtras import Path

from fastseq.data import Seq2SeqDataLoaders, pad_batch
from fastseq.vocab import Vocab


def test_batches_are_batch_first_end_padded_and_target_ends_with_eos(small_dls):
    src, tgt, src_lens, y = small_dls.one_batch()
    assert src.dim() == 2 and tgt.dim() == 2 and src.shape[0] == tgt.shape[0] == 32 and y is tgt
    assert src_lens == tuple((src != Vocab.pad_idx).sum(1).tolist())   # host ints: no read back from a device
    for row in tgt.tolist():
        real = [i for i in row if i != Vocab.pad_idx]
        assert real[-1] == Vocab.eos_idx and row[:len(real)] == real   # padding only at the end
    assert (src != Vocab.pad_idx).sum(1).min() > 0


def test_x_is_french_and_y_is_english(small_dls, small_df):
    df = small_dls.train.show_batch(show=False)
    proc = small_dls.processor
    french = {' '.join(t) for t in proc.src_tok(small_df.fr)}
    english = {' '.join(t + ['xxeos']) for t in proc.tgt_tok(small_df.en)}
    assert set(df.source) <= french and not set(df.source) & english
    assert {t + ' xxeos' if not t.endswith('xxeos') else t for t in df.target} <= english


def test_validation_is_sorted_by_length_and_training_is_sortish(small_dls):
    lens = [int((b[1] != 1).sum(1).max()) for b in small_dls.valid]
    assert lens == sorted(lens, reverse=True)
    spreads = [float((b[1] != 1).sum(1).float().std()) for b in small_dls.train]
    assert sum(spreads) / len(spreads) < 1.5       # lengths inside a batch are close
    first = [b[0][0].tolist() for b in small_dls.train][:3]
    second = [b[0][0].tolist() for b in small_dls.train][:3]
    assert first != second                          # but the order is random


def test_vocab_pair_and_valid_pairs(small_dls, small_df):
    src_itos, tgt_itos = small_dls.vocab
    assert 'chat' in src_itos and 'cat' in tgt_itos and 'cat' not in src_itos
    pairs = small_dls.valid_pairs()
    n_valid = int((np.random.RandomState(0).random_sample(len(small_df)) < 0.2).sum())   # small_dls: seed 0, 20%
    assert len(pairs) == n_valid and all(pair in set(zip(small_df.fr, small_df.en)) for pair in pairs)


def test_over_long_training_pairs_are_dropped_and_reported(small_df, capsys):
    dls = Seq2SeqDataLoaders.from_df(small_df, bs=16, seed=0, max_len=6, device='cpu')
    out = capsys.readouterr().out
    n = int(re.search(r'dropped (\d+) training pairs over 6', out).group(1))
    assert n > 0 and dls.stats['dropped_long'] == n
    assert max(len(t) for _, t in dls.train_ds) <= 6 + 1   # + eos


def test_separate_validation_frame(small_df):
    dls = Seq2SeqDataLoaders.from_df(small_df[:500], valid_df=small_df[500:], bs=16, device='cpu', verbose=False)
    assert len(dls.train_ds) + dls.stats['dropped_long'] == 500 and len(dls.valid_ds) == 100


def test_from_tsv_and_from_files(tmp_path, small_df):
    small_df.to_csv(tmp_path / 'c.tsv', sep='\t', index=False)
    for lang in ('fr', 'en'): (tmp_path / f'c.{lang}').write_text('\n'.join(small_df[lang]) + '\n')
    a = Seq2SeqDataLoaders.from_tsv(tmp_path / 'c.tsv', seed=0, device='cpu', verbose=False, path=tmp_path / 'runs')
    b = Seq2SeqDataLoaders.from_files(tmp_path / 'c.fr', tmp_path / 'c.en', seed=0, device='cpu', verbose=False)
    assert a.vocab == b.vocab and a.valid_pairs() == b.valid_pairs()
    assert a.path == tmp_path / 'runs' and b.path == Path('.')


def test_bad_valid_pct(small_df):
    with pytest.raises(ValueError, match='valid_pct must be between 0 and 1, got 1.5'):
        Seq2SeqDataLoaders.from_df(small_df, valid_pct=1.5)


def test_pad_batch():
    assert pad_batch([[5, 6, 7], [8]], 1).tolist() == [[5, 6, 7], [8, 1, 1]]
    assert pad_batch([[5]], 1).dtype == torch.int64
