import tracemalloc

import numpy as np
import pytest
import torch

from fastseq.embeddings import cached_embedding_matrix, embedding_matrix, read_vec, side_matrix, train_vectors
from fastseq.errors import CorpusError, CorpusNotFoundError
from fastseq.learner import seq2seq_learner
from fastseq.vocab import SPECIALS

TARGET_STD = 0.1 / np.sqrt(3)   # the model's uniform ±0.1 init


@pytest.fixture(scope='module')
def ft_model(small_dls):
    tokens = [small_dls.processor.src_vocab.textify(s) for s, _ in small_dls.train_ds]
    return train_vectors(tokens, dim=16, epoch=3)


@pytest.fixture(scope='module')
def bin_path(ft_model, tmp_path_factory):
    path = tmp_path_factory.mktemp('vecs') / 'tiny.bin'
    ft_model.save_model(str(path))
    return path


def write_vec(path, rows, header=None):
    dim = len(next(iter(rows.values())))
    lines = [header or f"{len(rows)} {dim}"] + [w + ' ' + ' '.join(f'{x:.5f}' for x in v) for w, v in rows.items()]
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return path


def test_bin_exact_words_get_the_files_vectors_rescaled(bin_path, ft_model, small_dls):
    itos = small_dls.processor.src_vocab.itos
    mat, cov = embedding_matrix(bin_path, itos)
    rows = [itos.index(w) for w in cov.exact]
    ratios = mat[rows].numpy() / np.stack([ft_model.get_word_vector(w) for w in cov.exact])
    assert np.allclose(ratios, ratios.flat[0], rtol=1e-4)            # one scale for all
    assert float(mat[rows].std()) == pytest.approx(TARGET_STD, rel=5e-3)
    assert 'chat' in cov.exact and not cov.random
    assert (mat[itos.index('xxpad')] == 0).all()


def test_bin_builds_unknown_words_from_subwords(bin_path, ft_model):
    itos = SPECIALS + ['chat', 'chatons', 'voitures']
    mat, cov = embedding_matrix(bin_path, itos)
    assert 'chatons' in cov.subword and not cov.random                # no word left random
    v = ft_model.get_word_vector('chatons')
    scale = mat[itos.index('chat')].numpy() / ft_model.get_word_vector('chat')
    assert np.allclose(mat[itos.index('chatons')].numpy() / v, scale, rtol=1e-4)


def test_vec_file_and_mapping(tmp_path):
    rows = {'chat': [1., 2., 3., 4.], 'chien': [-1., 0., 1., 2.], 'inutile': [9., 9., 9., 9.]}
    itos = SPECIALS + ['chat', 'chien', 'zèbre']
    for source in (write_vec(tmp_path / 'v.vec', rows), rows):
        mat, cov = embedding_matrix(source, itos)
        assert cov.exact == ['chat', 'chien'] and cov.random == ['zèbre'] and not cov.subword
        got = mat[[itos.index('chat'), itos.index('chien')]].numpy()
        assert np.allclose(got, np.array([rows['chat'], rows['chien']]) * got[0, 0])   # rows['chat'][0] == 1
    assert 'exact (chat, chien)' in repr(cov)


def test_vec_streams_with_bounded_memory(tmp_path):
    path = tmp_path / 'big.vec'
    rng = np.random.RandomState(0)
    with open(path, 'w') as f:
        f.write('300000 8\n')
        for i in range(300000): f.write(f"w{i} " + ' '.join(f'{x:.4f}' for x in rng.randn(8)) + '\n')
    assert path.stat().st_size > 20e6
    tracemalloc.start()
    found, dim = read_vec(path, [f'w{i}' for i in range(0, 300000, 6000)])
    peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    assert dim == 8 and len(found) == 50 and peak < 2e6


@pytest.mark.parametrize('content,message', [
    ('3 4\nchat 1 2 3 4\n', 'truncated: the header promises 3 vectors, the file has 1'),
    ('chat 1 2 3 4\n', "first line must be '<count> <dim>'"),
    ('1 4\nchat 1 2 3\n', r"line 2: expected 4 numbers after 'chat', found 3"),
])
def test_bad_vec_files(tmp_path, content, message):
    path = tmp_path / 'bad.vec'; path.write_text(content)
    with pytest.raises(CorpusError, match=message): embedding_matrix(path, SPECIALS + ['chat'])


def test_missing_file_and_dimension_mismatch(tmp_path, bin_path):
    with pytest.raises(CorpusNotFoundError, match='vectors file not found'):
        embedding_matrix(tmp_path / 'x.bin', SPECIALS)
    with pytest.raises(ValueError, match='vectors have 16 dimensions, 300 were asked for'):
        embedding_matrix(bin_path, SPECIALS + ['chat'], dim=300)
    with pytest.raises(TypeError, match='must be a .bin or .vec path'): embedding_matrix(42, SPECIALS)


def test_learner_takes_its_sizes_from_the_vectors_and_ties_the_output(small_dls, bin_path, tmp_path, capsys):
    tgt_itos = small_dls.processor.tgt_vocab.itos
    tgt_vecs = {w: np.full(12, i, dtype=np.float32) for i, w in enumerate(tgt_itos) if w not in SPECIALS}
    learn = seq2seq_learner(small_dls, vecs_src=bin_path, vecs_tgt=tgt_vecs, n_hid_enc=8, att_sz=8, path=tmp_path)
    m = learn.model
    assert m.encoder.emb.weight.shape[1] == 16 and m.decoder.emb.weight.shape[1] == 12
    assert m.decoder.out.weight is m.decoder.emb.weight
    expected, _ = embedding_matrix(bin_path, small_dls.processor.src_vocab.itos)
    assert torch.equal(m.encoder.emb.weight.data, expected)
    assert 'src vectors:' in capsys.readouterr().out


def test_vectors_trained_on_the_corpus(small_dls, tmp_path):
    mat, cov = side_matrix(small_dls, 'tgt', 'train', dim=8, verbose=False)
    words = [w for w in small_dls.processor.tgt_vocab.itos if w not in SPECIALS]
    assert not cov.random and sorted(cov.exact + cov.subword) == sorted(words)   # vocabulary words only in
    assert len(cov.exact) > 0.95 * len(words)                                    # dropped long pairs: subwords
    assert float(mat[len(SPECIALS):].std()) == pytest.approx(TARGET_STD, rel=5e-3)
    learn = seq2seq_learner(small_dls, vecs_src='train', vecs_tgt='train', emb_sz_src=8, emb_sz_tgt=8, n_hid_enc=8,
                            att_sz=8, path=tmp_path)
    assert learn.model.encoder.emb.weight.shape[1] == 8 and learn.model.decoder.out.weight.shape[1] == 8


def test_corpus_vectors_are_cached_per_split_and_size(small_dls, monkeypatch):
    "Training vectors takes minutes on a real corpus: the second request for the same split and size reads the cache."
    import fastseq.embeddings as E
    first, _ = side_matrix(small_dls, 'src', 'train', dim=6, verbose=False)
    monkeypatch.setattr(E, 'train_vectors', lambda *a, **k: pytest.fail('vectors were trained again'))
    again, _ = side_matrix(small_dls, 'src', 'train', dim=6, verbose=False)
    assert torch.equal(first, again)
    with pytest.raises(pytest.fail.Exception, match='trained again'): side_matrix(small_dls, 'src', 'train', dim=7)


def test_cache_makes_the_second_build_skip_the_file(bin_path, tmp_path, monkeypatch):
    itos = SPECIALS + ['chat', 'chien']
    first, _ = cached_embedding_matrix(bin_path, itos, tmp_path)
    assert len(list(tmp_path.glob('fastseq_vectors_*.npy'))) == 1
    import fastseq.embeddings as E
    monkeypatch.setattr(E, 'embedding_matrix', lambda *a, **k: pytest.fail('the cache was not used'))
    second, cov = cached_embedding_matrix(bin_path, itos, tmp_path)
    assert torch.equal(first, second) and cov.exact == ['chat', 'chien']


def _same_kind_neighbours(ft, groups):
    "Share of each listed word's 5 nearest neighbours that are of its own kind (noun among nouns, ...)."
    hits = [sum(n in group for _, n in ft.get_nearest_neighbors(w, k=5)) / 5 for group in groups for w in group
            if w in ft.words]
    return sum(hits) / len(hits)


def test_auto_epochs_give_small_corpora_useful_vectors():
    "fastText's 5 passes suit billions of tokens; on a 39k-token corpus the default scales them up, and it shows."
    from fastseq.datasets import phrasebook
    from fastseq.embeddings import auto_epochs
    from fastseq.phrasebook import ADJECTIVES, NOUNS
    from fastseq.tokenize import Seq2SeqTokenizer
    assert auto_epochs(30_000) == 50 and auto_epochs(1_000_000) == 5 and auto_epochs(250_000) == 20
    tokens = Seq2SeqTokenizer('fr')(list(phrasebook(5000, seed=0).fr))
    groups = [{n[0] for n in NOUNS}, {a[0] for a in ADJECTIVES} | {a[1] for a in ADJECTIVES}]
    few = _same_kind_neighbours(train_vectors(tokens, dim=32, epoch=5), groups)
    auto = _same_kind_neighbours(train_vectors(tokens, dim=16), groups)
    assert auto >= 0.7 and auto > few + 0.3, (few, auto)   # measured: 0.24 with 5 passes, 0.97 with 50
