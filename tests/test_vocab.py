from collections import Counter

import pytest

from fastseq.vocab import SPECIALS, Vocab


def test_specials_first_and_fixed_indices():
    v = Vocab.from_counts(Counter({'b': 3, 'a': 3, 'c': 1}))
    assert v.itos[:len(SPECIALS)] == SPECIALS and v.itos[len(SPECIALS):] == ['a', 'b', 'c']
    assert (v.unk_idx, v.pad_idx, v.bos_idx, v.eos_idx) == (0, 1, 2, 3)


def test_min_freq_and_max_vocab():
    counts = Counter({'a': 5, 'b': 4, 'c': 1})
    assert Vocab.from_counts(counts, min_freq=2).itos[len(SPECIALS):] == ['a', 'b']
    assert len(Vocab.from_counts(counts, max_vocab=len(SPECIALS) + 1)) == len(SPECIALS) + 1


def test_unknown_words_map_to_unk_and_textify_strips_specials():
    v = Vocab.from_tokens([['le', 'chat']])
    ids = v.numericalize(['le', 'zèbre'])
    assert ids[1] == v.unk_idx
    assert v.textify([v.bos_idx] + ids + [v.eos_idx, v.pad_idx]) == ['le', 'xxunk']


def test_words_typed_in_another_case_find_their_mixed_case_entry():
    v = Vocab.from_tokens([['aux', 'États-Unis', 'des', 'CDs', 'cds', 'iPad']])
    assert v.textify(v.numericalize(['états-unis', 'cds', 'ipad', 'IPAD'])) == ['États-Unis', 'cds', 'iPad', 'xxunk']
    del v.folded                                  # as pickled by a version without the map: built again
    assert v.numericalize(['états-unis']) == [v.stoi['États-Unis']]
    old = Vocab.from_tokens([['aux', 'états-unis']])         # built when every word was lower-cased
    assert old.textify(old.numericalize(['États-Unis', 'Aux'])) == ['états-unis', 'aux'] and old.knows('États-Unis')


def test_json_round_trip(tmp_path):
    v = Vocab.from_tokens([['été', 'chat', 'chat']])
    v.save(tmp_path / 'v.json')
    assert Vocab.load(tmp_path / 'v.json') == v


def test_bad_itos_is_rejected():
    with pytest.raises(ValueError, match='must start with'): Vocab(['a', 'b'])
