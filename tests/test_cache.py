import json

import numpy as np
import pytest

from fastseq.data import Seq2SeqDataLoaders
from fastseq.errors import CorpusError
from fastseq.cache import build_cache, cache_tokenizers
from fastseq.datasets import count_lines, stream_pairs
from fastseq.tokenize import Seq2SeqTokenizer
from fastseq.vocab import SPECIALS, Vocab


@pytest.fixture(scope='module')
def two_files(small_df, tmp_path_factory):
    folder = tmp_path_factory.mktemp('corpus')
    for lang in ('fr', 'en'): (folder / f'c.{lang}').write_text('\n'.join(small_df[lang]) + '\n', encoding='utf-8')
    return folder / 'c.fr', folder / 'c.en'


def _arrays(folder):
    return {n: np.load(folder / f'{n}.npy') for n in ('src_ids', 'src_offsets', 'tgt_ids', 'tgt_offsets')}


def test_cache_holds_the_corpus_numericalized_with_a_vocabulary_of_the_training_pairs(two_files, small_df, tmp_path):
    folder = build_cache(*two_files[:1], tmp_path / 'cache', tgt_path=two_files[1], valid_pct=0.2, min_freq=2,
                         n_workers=0, chunk_size=100, verbose=False)
    valid = [tuple(p) for p in json.loads((folder / 'valid.json').read_text())]
    train = [p for p in zip(small_df.fr, small_df.en) if p not in set(valid)]
    assert 60 < len(valid) < 180 and len(train) + len(valid) == len(small_df)
    fr_tok, en_tok = Seq2SeqTokenizer('fr'), Seq2SeqTokenizer('en')
    fr_vocab = Vocab.from_tokens(fr_tok([s for s, _ in train]), min_freq=2)
    en_vocab = Vocab.from_tokens(en_tok([t for _, t in train]), min_freq=2)
    assert Vocab.load(folder / 'src_vocab.json') == fr_vocab and Vocab.load(folder / 'tgt_vocab.json') == en_vocab
    dls = Seq2SeqDataLoaders.from_cache(folder, bs=16, max_len=100, device='cpu', verbose=False)
    assert isinstance(dls.train_ds.src, np.memmap) and len(dls.train_ds) == len(train)
    for i in (0, 7, len(train) - 1):
        src, tgt = dls.train_ds[i]
        assert src.tolist() == fr_vocab.numericalize(fr_tok([train[i][0]])[0])
        assert tgt.tolist() == en_vocab.numericalize(en_tok([train[i][1]])[0]) + [Vocab.eos_idx]
    assert dls.valid_pairs() == valid
    src, tgt, _, _ = dls.one_batch()
    assert src.shape[0] == 16 and (tgt == Vocab.eos_idx).sum() == 16


def test_a_learner_trains_on_a_cache_and_exports(two_files, tmp_path, tiny_arch):
    from fastseq.learner import seq2seq_learner
    folder = build_cache(two_files[0], tmp_path / 'cache', tgt_path=two_files[1], n_workers=0, verbose=False)
    learn = seq2seq_learner(Seq2SeqDataLoaders.from_cache(folder, bs=32, max_len=12, device='cpu', verbose=False),
                            path=tmp_path, metrics=None, **tiny_arch)
    with learn.no_bar(), learn.no_logging(): learn.fit(2, 1e-2)
    first, last = learn.recorder.values[0][1], learn.recorder.values[-1][1]
    assert last < first                                                    # the validation loss fell
    assert learn.export('m.pkl').is_file()


def test_chunks_and_workers_do_not_change_the_cache(two_files, tmp_path):
    one = build_cache(two_files[0], tmp_path / 'a', tgt_path=two_files[1], n_workers=0, chunk_size=1000, verbose=False)
    two = build_cache(two_files[0], tmp_path / 'b', tgt_path=two_files[1], n_workers=2, chunk_size=37, verbose=False)
    a, b = _arrays(one), _arrays(two)
    assert all(np.array_equal(a[n], b[n]) for n in a)
    assert (one / 'src_vocab.json').read_text() == (two / 'src_vocab.json').read_text()
    assert (one / 'valid.json').read_text() == (two / 'valid.json').read_text()


def test_numericalizing_in_small_blocks_writes_the_same_arrays(two_files, tmp_path, monkeypatch):
    "The last pass reads and writes blocks (bounded memory); block edges must not shift ids or offsets."
    import fastseq.cache as S
    args = dict(tgt_path=two_files[1], n_workers=0, verbose=False)
    whole = _arrays(build_cache(two_files[0], tmp_path / 'a', **args))
    blocks = S._blocks
    monkeypatch.setattr(S, '_blocks', lambda path, step: blocks(path, 7))
    small = _arrays(build_cache(two_files[0], tmp_path / 'b', **args))
    assert all(np.array_equal(whole[n], small[n]) and whole[n].dtype == small[n].dtype for n in whole)
    assert whole['src_offsets'][0] == 0 and whole['src_offsets'][-1] == len(whole['src_ids'])


def test_a_complete_cache_is_reused_and_a_changed_option_rebuilds(two_files, tmp_path, monkeypatch):
    import fastseq.cache as S
    args = dict(tgt_path=two_files[1], n_workers=0, verbose=False)
    build_cache(two_files[0], tmp_path, **args)
    monkeypatch.setattr(S, '_pipeline', lambda *a, **k: pytest.fail('rebuilt'))
    assert build_cache(two_files[0], tmp_path, **args) == tmp_path
    with pytest.raises(pytest.fail.Exception, match='rebuilt'): build_cache(two_files[0], tmp_path, min_freq=3, **args)


def test_question_filter_while_streaming(tmp_path):
    (tmp_path / 'q.tsv').write_text("fr\ten\nQui es-tu ? Dis-moi.\tWho are you? Tell me.\nJe vois.\tI see.\n"
                                    "Où est-il ?\tWhere is he?\n", encoding='utf-8')
    folder = build_cache(tmp_path / 'q.tsv', tmp_path / 'c', questions=True, valid_pct=0, n_workers=0, verbose=False)
    dls = Seq2SeqDataLoaders.from_cache(folder, bs=2, max_len=100, device='cpu', verbose=False)
    texts = [dls.processor.src_text(dls.train_ds[i][0]) for i in range(len(dls.train_ds))]
    assert texts == ['xxmaj qui es - tu ?', 'xxmaj où est -il ?']


def test_errors_name_the_file_and_line(tmp_path):
    (tmp_path / 'a.fr').write_text("un\ndeux\ntrois\n"); (tmp_path / 'a.en').write_text("one\ntwo\n")
    with pytest.raises(CorpusError, match=r"a.en, line 3: the files are not line-aligned: .*a.fr goes on past"):
        list(stream_pairs(tmp_path / 'a.fr', tmp_path / 'a.en'))
    (tmp_path / 'b.tsv').write_text("fr\ten\nun\tone\ndeux\n")
    with pytest.raises(CorpusError, match=r"b.tsv, line 3: expected 2 columns, found 1"):
        build_cache(tmp_path / 'b.tsv', tmp_path / 'c', n_workers=0, verbose=False)
    assert not (tmp_path / 'c' / 'cache.json').exists() and count_lines(tmp_path / 'b.tsv') == 3
    with pytest.raises(CorpusError, match='no complete fastseq cache here'): Seq2SeqDataLoaders.from_cache(tmp_path)


def test_a_subword_cache_trains_pieces_on_its_training_split_and_tokenizes_with_them(two_files, small_df, tmp_path):
    "tokenizer='spm': the piece models are trained on the training pairs alone, kept in the cache and read back."
    from fastseq.tokenize import SubwordTokenizer, make_tokenizers
    folder = build_cache(*two_files[:1], tmp_path / 'cache', tgt_path=two_files[1], valid_pct=0.2, n_workers=1,
                         chunk_size=100, verbose=False, tokenizer='spm', vocab_sz=120)
    valid = set(tuple(p) for p in json.loads((folder / 'valid.json').read_text()))
    train = [p for p in zip(small_df.fr, small_df.en) if p not in valid]
    fr, en = make_tokenizers('spm', 'fr', 'en', True, ([s for s, _ in train], [t for _, t in train]), vocab_sz=120)
    kept = cache_tokenizers(folder)
    assert kept[0].model_proto == fr.model_proto and kept[1].model_proto == en.model_proto
    dls = Seq2SeqDataLoaders.from_cache(folder, bs=16, max_len=100, device='cpu', verbose=False)
    assert isinstance(dls.processor.src_tok, SubwordTokenizer)
    src, tgt = dls.train_ds[3]
    assert dls.processor.src_vocab.textify(src.tolist()) == fr([train[3][0]])[0]
    assert dls.processor.tgt_text(tgt.tolist()) == ' '.join(train[3][1].split())
    with pytest.raises(ValueError, match="tokenizer must be one of spacy, spm, got 'bpe'"):
        build_cache(*two_files[:1], tmp_path / 'c2', tgt_path=two_files[1], tokenizer='bpe', verbose=False)


def test_one_split_for_one_seed_in_memory_and_through_the_cache_and_bad_lines_skipped_alike(small_df, tmp_path):
    """The same cleaner, splitter and retyping: a TSV with a malformed line and an empty side gives the same
    validation pairs, and the same training pairs retyped (the vocabularies, counted on them, are equal)."""
    lines = ['fr\ten'] + [f"{s}\t{t}" for s, t in zip(small_df.fr, small_df.en)]
    lines[50], lines[90] = 'une ligne sans tabulation', '  \tThe French side is empty.'
    tsv = tmp_path / 'c.tsv'
    tsv.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    with pytest.warns(UserWarning, match='skipped 1 lines'):
        folder = build_cache(tsv, tmp_path / 'cache', valid_pct=0.15, seed=5, n_workers=0, chunk_size=37,
                             skip_bad_lines=True, verbose=False, casual_share=0.3)
    cached = Seq2SeqDataLoaders.from_cache(folder, bs=16, device='cpu', verbose=False)
    with pytest.warns(UserWarning):
        in_memory = Seq2SeqDataLoaders.from_tsv(tsv, valid_pct=0.15, seed=5, skip_bad_lines=True, device='cpu',
                                                verbose=False, casual_share=0.3)
    assert cached.valid_pairs() == in_memory.valid_pairs() and len(cached.valid_pairs()) > 40
    assert cached.vocab == in_memory.vocab
    up = SPECIALS.index('xxup')
    shouted = lambda dls: sum(up in dls.train_ds[i][1] for i in range(len(dls.train_ds)))
    assert shouted(cached) == shouted(in_memory) > 10                       # training targets in capitals, alike
    assert not any(s.isupper() for s, _ in in_memory.valid_pairs())         # validation left as written
    assert cached.stats['skipped_bad_lines'] == in_memory.stats['skipped_bad_lines'] == 1
    assert cached.stats['dropped_empty'] == in_memory.stats['dropped_empty'] == 1
    assert len(cached.train_ds) + cached.stats['dropped_long'] + len(cached.valid_ds) == len(small_df) - 2


def test_train_through_the_stream_cache_skips_bad_lines_and_reads_a_validation_file(small_df, tmp_path):
    from conftest import call
    lines = ['fr\ten'] + [f"{s}\t{t}" for s, t in zip(small_df.fr[:300], small_df.en[:300])]
    lines[20] = 'une ligne sans tabulation'
    (tmp_path / 'train.tsv').write_text('\n'.join(lines) + '\n', encoding='utf-8')
    small_df[500:].to_csv(tmp_path / 'valid.tsv', sep='\t', index=False)
    args = ['train', '--data', tmp_path / 'train.tsv', '--stream-cache', tmp_path / 'cache', '--workers', '0',
            '--epochs', '1', '--bs', '32', '--emb-sz-src', '16', '--emb-sz-tgt', '16', '--n-hid-enc', '16',
            '--vecs-src', 'none', '--vecs-tgt', 'none', '--eval-beam', '0', '--out', tmp_path / 'm.pkl']
    refused = call(*args)
    assert refused.returncode == 2 and 'line 21' in refused.stderr and 'skip_bad_lines' in refused.stderr
    r = call(*args, '--skip-bad-lines', '--valid', tmp_path / 'valid.tsv')
    assert r.returncode == 0, r.stderr
    assert '1 skipped bad lines' in r.stdout and '299 training / 100 validation pairs' in r.stdout
    assert (tmp_path / 'm.pkl').is_file()
