import torch

from fastseq.decode import greedy_decode, max_output_lens
from fastseq.model import Seq2SeqRNN


def model():
    torch.manual_seed(0)
    m = Seq2SeqRNN.from_sizes(30, 20, emb_sz_src=16, emb_sz_tgt=12, n_hid_enc=10, n_hid_dec=12, att_sz=8)
    return m.eval()


def test_max_length_scales_with_source():
    assert max_output_lens(torch.tensor([1, 5]), 2., 3).tolist() == [5, 13]


def test_greedy_stops_per_sentence_and_pads_after_eos():
    m = model()
    with torch.no_grad(): m.decoder.out.bias.fill_(0.); m.decoder.out.bias[3] = 50.   # eos always wins
    toks, _ = greedy_decode(m, torch.randint(4, 30, (3, 6)))
    assert toks[:, 0].tolist() == [3, 3, 3] and toks.shape[1] <= 4   # stopped within check_every steps


def test_greedy_respects_per_sentence_limit():
    m = model()
    with torch.no_grad(): m.decoder.out.bias[[1, 3]] = -50.                           # eos (and pad) never win
    src = torch.full((2, 4), 5); src[1, 1:] = 1
    toks, _ = greedy_decode(m, src, len_ratio=1., len_extra=2)
    assert toks.shape[1] == 6 and (toks[1, 3:] == 1).all() and (toks[0] != 1).all()


def test_greedy_is_independent_of_batch_composition():
    m = model()
    torch.manual_seed(1)
    src = torch.randint(4, 30, (5, 6)); src[2, 3:] = 1
    together, _ = greedy_decode(m, src)
    for i in range(5):
        alone, _ = greedy_decode(m, src[i:i + 1, :int((src[i] != 1).sum())])
        n = alone.shape[1]
        assert together[i, :n].tolist() == alone[0].tolist()


def test_greedy_matches_free_running_forward():
    m = model()
    with torch.no_grad(): m.decoder.out.bias[[1, 3]] = -50.   # run on: no eos, no pad
    src = torch.randint(4, 30, (2, 6))
    toks, attn = greedy_decode(m, src, keep_attention=True)
    with torch.no_grad(): logits = m(src, torch.zeros(2, 3, dtype=torch.long))
    assert logits.argmax(-1).tolist() == [t[:3] for t in toks.tolist()]
    assert attn.shape == (2, toks.shape[1], 6)
