import pytest
import torch

from fastseq.decode import beam_search, best_columns, greedy_decode, length_penalty, max_output_lens, score_tokens
from fastseq.model import Seq2SeqRNN


def model(**kw):
    torch.manual_seed(0)
    m = Seq2SeqRNN.from_sizes(30, 20, emb_sz_src=16, emb_sz_tgt=12, n_hid_enc=10, n_hid_dec=12, att_sz=8, **kw)
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


@pytest.mark.parametrize('cell', ['gru', 'lstm'])
def test_greedy_is_independent_of_batch_composition(cell):
    m = model(cell=cell)
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


@pytest.mark.parametrize('n', [64, 191, 256, 300])
def test_best_columns_are_the_first_highest_as_max_finds_them(n):
    torch.manual_seed(0)
    scores = torch.randn(9, n)
    scores[1, 3] = scores[1, n - 2] = scores[2, 70 % n] = scores[2, 130 % n] = scores[3, n - 1] = 9.   # ties, the end
    scores[4, :] = float('-inf')
    for x in (scores, scores.bfloat16()):
        assert torch.equal(best_columns(x), x.max(-1).indices)
    assert best_columns(scores)[:4].tolist() == [scores[0].argmax(), 3, min(70 % n, 130 % n), n - 1]


def test_length_penalty():
    assert length_penalty(torch.tensor([1, 7]), 0.).tolist() == [1., 1.]
    assert length_penalty(torch.tensor([1, 7]), 1.).tolist() == [1., 2.]


def test_beam_one_is_exactly_greedy():
    m = model()
    torch.manual_seed(2)
    src = torch.randint(4, 30, (6, 7)); src[3, 2:] = 1
    greedy, g_attn = greedy_decode(m, src, keep_attention=True)
    hyps, b_attn = beam_search(m, src, beam=1, alpha=0., keep_attention=True)
    unpad = lambda toks: [t for t in toks if t != 1]
    assert [h[0][0] for h in hyps] == [unpad(t) for t in greedy.tolist()]
    for i, (((toks, _),), a) in enumerate(zip(hyps, b_attn)):                      # up to each sentence's eos
        assert torch.allclose(g_attn[i, :len(toks)], a[:len(toks)]) and not a[len(toks):].any()


@pytest.mark.parametrize('kw', [{}, {'cell': 'lstm'}, {'cell': 'lstm', 'attend_after_rnn': False}])
def test_beam_is_independent_of_batch_composition_and_ranks_n_best(kw):
    m = model(**kw)
    torch.manual_seed(3)
    src = torch.randint(4, 30, (4, 6)); src[1, 4:] = 1
    together, _ = beam_search(m, src, beam=4, n_best=3)
    for i in range(4):
        alone, _ = beam_search(m, src[i:i + 1, :int((src[i] != 1).sum())], beam=4, n_best=3)
        unpad = lambda hyps: [[t for t in toks if t != 1] for toks, _ in hyps]
        assert unpad(alone[0]) == unpad(together[i])
    scores = [s for _, s in together[0]]
    assert scores == sorted(scores, reverse=True) and len(set(map(tuple, [t for t, _ in together[0]]))) == 3


def test_beam_finds_a_sequence_at_least_as_likely_as_greedy(trained):
    from fastseq.data import pad_batch
    m, proc = trained.model.eval(), trained.dls.processor
    ids = proc.src_ids([fr for fr, _ in trained.valid_pairs()[:64]])
    src = pad_batch(ids, 1)
    greedy, _ = greedy_decode(m, src)
    hyps, _ = beam_search(m, src, beam=5, alpha=0., min_len=0)         # greedy may end at once; so may beam here
    beam_toks = pad_batch([h[0][0] for h in hyps], 1)
    beam_lp, greedy_lp = score_tokens(m, src, beam_toks), score_tokens(m, src, greedy)
    assert torch.allclose(beam_lp, torch.tensor([h[0][1] for h in hyps]), atol=1e-4)   # scores are log-probs
    assert (beam_lp >= greedy_lp - 1e-4).all()


def test_n_best_larger_than_beam_is_an_error():
    import pytest
    with pytest.raises(ValueError, match='n_best must be between 1 and beam=2, got 3'):
        beam_search(model(), torch.randint(4, 30, (1, 3)), beam=2, n_best=3)


def _recording_steps(m):
    "Wrap the decoder's step to record the batch size of every call."
    sizes, step = [], m.decoder.step
    m.decoder.step = lambda inp, *a, **kw: sizes.append(inp.shape[0]) or step(inp, *a, **kw)   # an instance attribute
    return sizes


def test_finished_sentences_leave_the_batch():
    "A short sentence stops costing decoder work once it is done: greedy checks every 4 steps, beam every step."
    m = model()
    with torch.no_grad(): m.decoder.out.bias[[1, 3]] = -50.                           # run to the length limit
    src = torch.full((2, 10), 5); src[1, 2:] = 1                                      # limits 10 and 2
    sizes = _recording_steps(m)
    toks, _ = greedy_decode(m, src, len_ratio=1., len_extra=0)
    assert sizes == [2] * 4 + [1] * 6 and toks.shape == (2, 10) and (toks[1, 2:] == 1).all()
    sizes.clear()
    hyps, _ = beam_search(m, src, beam=3, len_ratio=1., len_extra=0)
    assert sizes == [2, 6] + [3] * 8 and [len(h[0][0]) for h in hyps] == [10, 2]   # step 1: one beam a sentence


def test_beam_stops_when_its_best_candidate_ends_and_refills():
    "OpenNMT-py's rule: a sentence ends at the step whose best candidate is eos; beams that end earlier are set aside."
    m = model()
    with torch.no_grad():
        m.decoder.out.weight.zero_(); m.decoder.out.bias.zero_()
        m.decoder.out.bias[[1, 2]] = -50.                                             # never pad or bos
        m.decoder.out.bias[3] = 0.5                                                   # eos the likeliest token
    sizes = _recording_steps(m)
    hyps, _ = beam_search(m, torch.full((1, 4), 5), beam=3, n_best=3, alpha=0., min_len=0)
    assert sizes == [1, 3]               # step 1: eos best but 1 of 3 ended; step 2: 2 more end, best ends: done
    assert [len(t) for t, _ in hyps[0]] == [1, 2, 2] and all(t[-1] == 3 for t, _ in hyps[0])
    scores = [s for _, s in hyps[0]]
    assert scores == sorted(scores, reverse=True)
    hyps, _ = beam_search(m, torch.full((1, 4), 5), beam=3, n_best=3, alpha=0.)     # min_len 1: never empty
    assert [len(t) for t, _ in hyps[0]] == [2, 2, 2] and all(t[-1] == 3 and t[0] != 3 for t, _ in hyps[0])


def test_eos_never_follows_a_case_marker(monkeypatch):
    "A case marker precedes a word: where eos is likelier than any word after it, the word comes, greedy or beam."
    from fastseq import decode
    def step(self, inp, group=1):                         # after bos the capital marker, then eos over word 7
        logits = torch.zeros(len(inp), 10)
        logits[:, 4], logits[:, 3], logits[:, 7] = (inp == 2).float() * 5, 3., 1.
        return logits, None
    monkeypatch.setattr(decode.ModelState, 'step', step)
    src = torch.full((2, 4), 5)
    assert greedy_decode(model(), src)[0][:, :3].tolist() == [[4, 7, 3]] * 2
    hyps, _ = beam_search(model(), src, beam=2, alpha=0.)
    assert [h[0][0] for h in hyps] == [[4, 7, 3]] * 2


def test_an_ensemble_decodes_with_the_mean_of_its_models_log_probabilities():
    "Of one model twice: that model's decodes. Of two: each step's argmax of the mean log-probabilities."
    from fastseq.decode import decoding_state
    from fastseq.model import Ensemble
    a, b = model(), model(cell='lstm', score='general')
    torch.manual_seed(4)
    src = torch.randint(4, 30, (4, 6)); src[2, 3:] = 1
    assert greedy_decode(Ensemble([a, a]), src)[0].tolist() == greedy_decode(a, src)[0].tolist()
    (twice, _), (once, _) = beam_search(Ensemble([a, a]), src, beam=3), beam_search(a, src, beam=3)
    assert [h[0][0] for h in twice] == [h[0][0] for h in once]
    assert [h[0][1] for h in twice] == pytest.approx([h[0][1] for h in once], abs=1e-4)
    pair, inp = decoding_state(Ensemble([a, b]), src), torch.full((4,), 2)
    logp, attn = pair.step(inp)
    sa, sb = decoding_state(a, src), decoding_state(b, src)
    (la, wa), (lb, wb) = sa.step(inp), sb.step(inp)
    assert torch.allclose(logp, (la.log_softmax(-1) + lb.log_softmax(-1)) / 2) and torch.allclose(attn, (wa + wb) / 2)
    together, _ = beam_search(Ensemble([a, b]), src, beam=3)
    for i in range(4):
        alone, _ = beam_search(Ensemble([a, b]), src[i:i + 1, :int((src[i] != 1).sum())], beam=3)
        assert [t for t in alone[0][0][0] if t != 1] == [t for t in together[i][0][0] if t != 1]


def test_an_ensemble_of_models_of_other_vocabularies_is_a_clear_error():
    from fastseq.model import Ensemble
    other = Seq2SeqRNN.from_sizes(30, 21, emb_sz_src=16, emb_sz_tgt=12, n_hid_enc=10, n_hid_dec=12, att_sz=8)
    with pytest.raises(ValueError, match='ensemble model 1 has vocabularies of 30 and 21 tokens, model 0 of 30 and 20'):
        Ensemble([model(), other])
    with pytest.raises(ValueError, match='an ensemble needs at least two models, got 1'): Ensemble([model()])
