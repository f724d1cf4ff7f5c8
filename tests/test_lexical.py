import pytest
import torch

from fastseq.decode import beam_search, greedy_decode
from fastseq.lexical import LexicalShortlist, cooccurrences, lexical_shortlist
from fastseq.model import Seq2SeqRNN
from fastseq.pairs import PairDataset
from fastseq.vocab import SPECIALS

N_SPECIAL = len(SPECIALS)


def pairs():
    "Source 7 always beside target 9, source 8 beside 10 (twice in one pair: counted once); target 11 is frequent."
    src = [[7, 7], [7, 8], [8, 8, 8], [6]]
    tgt = [[9, 11, 3], [9, 10, 11, 3], [10, 10, 11, 3], [11, 3]]
    return PairDataset.from_lists(src, tgt)


def test_cooccurrences_count_each_pair_once():
    counts = cooccurrences(pairs(), 9, 12, chunk=3).toarray()            # two chunks
    assert counts[7, 9] == 2 and counts[8, 10] == 2 and counts[7, 10] == 1 and counts[8, 9] == 1
    assert counts[7, 11] == 2 and counts[6, 11] == 1 and counts[6, 9] == 0 and counts.sum() == 3 + 2 * 4 + 3 + 2


def test_the_shortlist_keeps_specials_and_frequent_words_and_each_source_words_partners():
    sl = lexical_shortlist(pairs(), 9, 12, n_frequent=2, per_word=1)
    assert sl.always.tolist() == [*range(N_SPECIAL), 11]                # the two most frequent targets: eos and 11
    assert sl.table[7].tolist() == [9] and sl.table[8].tolist() == [10]   # beside them in the most pairs
    assert sl.table[6].tolist() == [0] and sl.table[1].tolist() == [0]    # nothing more: a word always kept
    rows = sl.rows(torch.tensor([[7, 6, 1]]))
    assert rows.tolist() == [*range(N_SPECIAL), 9, 11]


def small_model():
    torch.manual_seed(0)
    return Seq2SeqRNN.from_sizes(30, 40, emb_sz_src=16, emb_sz_tgt=12, n_hid_enc=10, n_hid_dec=12, att_sz=8).eval()


@pytest.mark.parametrize('dtype,int8', [(None, False), (torch.bfloat16, False), (None, True), (None, 'per row')])
def test_decoding_over_every_row_is_decoding_over_the_vocabulary(dtype, int8):
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    from fastseq.inference import _int8
    m, src = small_model(), torch.randint(4, 30, (5, 6))
    if int8 == 'per row': m = quantize_dynamic(m, {'decoder.out': per_channel_dynamic_qconfig})
    elif int8: m = _int8(m)
    rows = torch.arange(40)
    assert torch.equal(greedy_decode(m, src, rows=rows, dtype=dtype)[0], greedy_decode(m, src, dtype=dtype)[0])
    beams = lambda **kw: beam_search(m, src, beam=3, n_best=2, dtype=dtype, **kw)[0]
    assert beams(rows=rows) == beams()


@pytest.mark.parametrize('int8', [False, True])
def test_decoding_over_a_shortlist_outputs_its_words_only(int8):
    from fastseq.inference import _int8
    m, src = small_model(), torch.randint(4, 30, (5, 6))
    if int8: m = _int8(m)
    rows = torch.tensor([*range(N_SPECIAL), 11, 17, 23, 31])
    greedy = greedy_decode(m, src, rows=rows)[0]
    beams = [toks for hyps in beam_search(m, src, beam=3, n_best=2, rows=rows)[0] for toks, _ in hyps]
    assert set(greedy.flatten().tolist()) <= set(rows.tolist())
    assert set(sum(beams, [])) <= set(rows.tolist())
    full = greedy_decode(m, src)[0]
    assert not set(full.flatten().tolist()) <= set(rows.tolist())           # the shortlist changed something


def test_a_trained_translator_keeps_its_shortlist_through_export_and_bundle(trained, tiny_arch, tmp_path):
    from fastseq.bundle import SHORTLIST_FILE, load_translator
    from fastseq.learner import seq2seq_learner
    learn = seq2seq_learner(trained.dls, path=tmp_path, **tiny_arch)
    learn.model.load_state_dict(trained.model.state_dict())
    sl = learn.add_shortlist(n_frequent=20, per_word=3)
    texts = [fr for fr, _ in trained.valid_pairs()[:40]]
    bundle = learn.save_translator(tmp_path / 'b')
    assert (bundle / SHORTLIST_FILE).is_file()
    loaded = load_translator(bundle)
    assert torch.equal(loaded.shortlist.table, sl.table) and torch.equal(loaded.shortlist.always, sl.always)
    assert loaded.translate(texts, beam=3) == learn.translate(texts, beam=3)
    assert load_translator(learn.export('m.pkl')).shortlist.table.shape == sl.table.shape
    loaded.shortlist = None                                                  # --full-vocab
    learn.shortlist = None
    full = loaded.translate(texts, beam=3)
    assert full == learn.translate(texts, beam=3)
    loaded.shortlist = LexicalShortlist(torch.tensor([*range(N_SPECIAL), 10, 11]), torch.zeros_like(sl.table))
    assert loaded.translate(texts, beam=3) != full                          # translate decodes over its shortlist


def test_a_shortlist_that_does_not_fit_the_model_is_a_clear_error(trained, tmp_path):
    from safetensors.torch import save_file

    from fastseq.bundle import SHORTLIST_FILE, load_translator
    from fastseq.errors import ModelFileError
    bundle = trained.save_translator(tmp_path / 'b')
    bad = LexicalShortlist(torch.arange(N_SPECIAL), torch.zeros(3, 2, dtype=torch.long))
    save_file(bad.tensors(), str(bundle / SHORTLIST_FILE))
    with pytest.raises(ModelFileError, match='does not fit'): load_translator(bundle)


def test_an_int8_output_layer_is_unpacked_once_for_all_batches(monkeypatch):
    """Unpacking an int8 layer's weights costs more than taking a batch's rows: every batch decoded over a shortlist
    takes its rows from one unpacking, and decodes as the first."""
    from fastseq.inference import _int8
    m, src = _int8(small_model()), torch.randint(4, 30, (5, 6))
    rows, out, unpacked = torch.tensor([*range(N_SPECIAL), 11, 17, 23, 31]), m.decoder.out, []
    weight = out.weight
    monkeypatch.setattr(out, 'weight', lambda: unpacked.append(1) or weight())
    first = greedy_decode(m, src, rows=rows)[0]
    assert torch.equal(greedy_decode(m, src, rows=rows)[0], first) and len(unpacked) == 1
