import pytest
import torch

from fastseq.model import Seq2SeqConfig, Seq2SeqRNN, forcing_segments


def tiny(**kw):
    cfg = dict(emb_sz_src=16, emb_sz_tgt=12, n_hid_enc=10, n_hid_dec=12, att_sz=8)
    return Seq2SeqRNN.from_sizes(30, 20, **{**cfg, **kw})


def batch():
    torch.manual_seed(0)
    src = torch.randint(4, 30, (4, 7)); src[1, 3:] = 1; src[3, 1:] = 1
    return src, torch.randint(4, 20, (4, 5))


@pytest.mark.parametrize('kw', [{}, {'bidir': True}, {'attention': False}, {'n_layers_enc': 3, 'n_layers_dec': 1},
                                {'tie': False, 'n_hid_dec': 9}, {'attend_after_rnn': False}, {'cell': 'lstm'},
                                {'cell': 'lstm', 'attend_after_rnn': False, 'bidir': True, 'n_layers_enc': 1},
                                {'score': 'general', 'bidir': True}, {'score': 'concat'},
                                {'score': 'dot', 'n_hid_enc': 12}, {'score': 'dot', 'n_hid_enc': 6, 'bidir': True}])
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


def test_unknown_cell_or_score_and_a_dot_score_of_unequal_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="cell must be one of gru, lstm, got 'rnn'"): tiny(cell='rnn')
    with pytest.raises(ValueError, match="score must be one of additive, concat, dot, general, got 'mlp'"):
        tiny(score='mlp')
    with pytest.raises(ValueError, match=r"dot score needs the encoder's output size \(20\) equal to the decoder's "
                                         r"hidden size \(12\)"):
        tiny(score='dot', bidir=True)


def test_an_lstm_model_carries_hidden_and_cell_states_and_bridges_both():
    m, (src, _) = tiny(cell='lstm', bidir=True), batch()
    assert isinstance(m.encoder.rnn, torch.nn.LSTM) and isinstance(m.decoder.rnn, torch.nn.LSTM)
    _, (h, c), _, _ = m.encode(src)
    assert h.shape == c.shape == (2, 4, 12) and not torch.allclose(h, c)
    assert {'encoder.to_dec.weight', 'encoder.to_dec_cell.weight'} <= set(m.state_dict())
    assert 'encoder.to_dec_cell.weight' not in tiny().state_dict()           # a GRU model's keys are unchanged


@pytest.mark.parametrize('kw', [dict(bidir=True), dict(bidir=True, cell='lstm'), dict(bidir=True, score='general')])
def test_padding_in_the_source_does_not_change_the_output(kw):
    m, (src, tgt) = tiny(**kw), batch()
    m.eval()
    longer = torch.cat([src, torch.ones(4, 3, dtype=torch.long)], 1)
    assert torch.allclose(m(src, tgt), m(longer, tgt), atol=1e-5)
    lens = tuple((src != 1).sum(1).tolist())                         # the host lengths a batch carries
    assert torch.allclose(m(src, tgt), m(longer, tgt, lens), atol=1e-5)


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


@pytest.mark.parametrize('plan,segments', [([True] * 4, [(0, 4)]), ([False] * 3, [(0, 1), (1, 2), (2, 3)]),
                                           ([True, False, True, True], [(0, 2), (2, 4)]),
                                           ([True, True, False], [(0, 3)])])
def test_forcing_segments_end_after_each_unforced_step(plan, segments):
    assert forcing_segments(plan) == segments


@pytest.mark.parametrize('after', [True, False])
def test_a_forced_segment_in_one_call_equals_stepping(after):
    "Decoder.run over L known inputs gives the outputs, state and attention of L single steps."
    m, (src, tgt) = tiny(attend_after_rnn=after), batch()
    m.eval()
    enc_out, h0, mask, keys = m.encode(src)
    out, h, w = m.decoder.run(tgt, h0, enc_out, keys, mask)
    h_step, outs, ws = h0, [], []
    for j in range(tgt.shape[1]):
        o, h_step, wj = m.decoder.step(tgt[:, j], h_step, enc_out, keys, mask)
        outs.append(o); ws.append(wj)
    torch.testing.assert_close(out, torch.stack(outs, 1))
    torch.testing.assert_close(h, h_step)
    torch.testing.assert_close(w, torch.stack(ws, 1))


def test_partial_forcing_feeds_the_models_own_guess_after_unforced_steps(monkeypatch):
    "With a plan of [forced, free, forced], step 3's input is the argmax of step 2's logits, not the reference."
    m, (src, tgt) = tiny(out_drop=0., dec_drop=0., emb_drop=0., enc_drop=0.), batch()
    m.train(); m.pr_force = 0.5
    monkeypatch.setattr(m, '_forcing_plan', lambda n, p=None: [True, False, True, True, True])
    logits = m(src, tgt)
    enc_out, h, mask, keys = m.encode(src)
    out, h, _ = m.decoder.run(torch.cat([torch.full((4, 1), 2), tgt[:, :1]], 1), h, enc_out, keys, mask)
    guess = m.decoder.project(out[:, -1]).argmax(-1)
    out2, _, _ = m.decoder.run(torch.cat([guess[:, None], tgt[:, 2:4]], 1), h, enc_out, keys, mask)
    torch.testing.assert_close(logits, m.decoder.project(torch.cat([out, out2], 1)))


