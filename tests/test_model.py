import pytest
import torch

from fastseq.model import Seq2SeqConfig, Seq2SeqRNN


def tiny(**kw):
    cfg = dict(emb_sz_src=16, emb_sz_tgt=12, n_hid_enc=10, n_hid_dec=12, att_sz=8)
    return Seq2SeqRNN.from_sizes(30, 20, **{**cfg, **kw})


def batch():
    torch.manual_seed(0)
    src = torch.randint(4, 30, (4, 7)); src[1, 3:] = 1; src[3, 1:] = 1
    return src, torch.randint(4, 20, (4, 5))


@pytest.mark.parametrize('kw', [{}, {'bidir': True}, {'attention': False}, {'n_layers_enc': 3, 'n_layers_dec': 1},
                                {'tie': False, 'n_hid_dec': 9}, {'attend_after_rnn': False}])
def test_forward_returns_logits_of_the_target_length(kw):
    m, (src, tgt) = tiny(**kw), batch()
    assert m(src, tgt).shape == (4, 5, 20)
    m.eval()
    assert m(src, tgt).shape == (4, 5, 20)


def test_tied_output_is_one_parameter_and_survives_to_and_state_dict():
    m = tiny()
    assert m.decoder.out.weight is m.decoder.emb.weight
    n_params = sum(p.numel() for p in m.parameters())
    untied = tiny(tie=False)
    assert sum(p.numel() for p in untied.parameters()) - n_params == 20 * 12
    m = m.to(torch.float64)
    assert m.decoder.out.weight is m.decoder.emb.weight
    m2 = tiny(); m2.load_state_dict(m.to(torch.float32).state_dict())
    assert m2.decoder.out.weight is m2.decoder.emb.weight


def test_tie_with_mismatched_sizes_is_a_clear_error():
    with pytest.raises(ValueError, match='tied output layer needs n_hid_dec == emb_sz_tgt, got 9 and 12'):
        Seq2SeqConfig(10, 10, emb_sz_tgt=12, n_hid_dec=9)


def test_padding_in_the_source_does_not_change_the_output():
    m, (src, tgt) = tiny(bidir=True), batch()
    m.eval()
    longer = torch.cat([src, torch.ones(4, 3, dtype=torch.long)], 1)
    assert torch.allclose(m(src, tgt), m(longer, tgt), atol=1e-5)


def test_full_teacher_forcing_feeds_the_reference():
    m, (src, tgt) = tiny(), batch()
    m.train(); m.pr_force = 1.
    torch.manual_seed(1); a = m(src, tgt)
    tgt2 = tgt.clone(); tgt2[:, -1] = 4   # the last reference token is never an input
    torch.manual_seed(1); b = m(src, tgt2)
    assert torch.allclose(a, b)
    tgt3 = tgt.clone(); tgt3[:, 0] = (tgt[:, 0] + 1) % 20
    torch.manual_seed(1); c = m(src, tgt3)
    assert torch.allclose(a[:, 0], c[:, 0]) and not torch.allclose(a[:, 1:], c[:, 1:])


@pytest.mark.parametrize('after', [True, False])
def test_attention_is_kept_on_request(after):
    m, (src, tgt) = tiny(attend_after_rnn=after), batch()
    m.eval(); m.keep_attention = True
    m(src, tgt)
    assert m.attention.shape == (4, 5, 7)
    assert torch.allclose(m.attention.sum(-1), torch.ones(4, 5))
    assert (m.attention[3, :, 1:] == 0).all()
