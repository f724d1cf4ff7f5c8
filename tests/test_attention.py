import pytest
import torch

from fastseq.attention import AdditiveAttention, make_attention, tanh


@pytest.mark.parametrize('score', ['additive', 'concat', 'dot', 'general'])
def test_rows_sum_to_one_and_padding_gets_zero_weight(score):
    torch.manual_seed(0)
    att = make_attention(score, key_sz=6, query_sz=6 if score == 'dot' else 5, att_sz=4)
    values = torch.randn(3, 7, 6)
    mask = torch.ones(3, 7, dtype=torch.bool); mask[0, 4:] = False; mask[2, 1:] = False
    ctx, w = att(torch.randn(3, 6 if score == 'dot' else 5), att.project_keys(values), values, mask)
    assert ctx.shape == (3, 6) and w.shape == (3, 7)
    assert torch.allclose(w.sum(1), torch.ones(3))
    assert (w[~mask] == 0).all()
    assert torch.allclose(ctx[2], values[2, 0])           # one real position: all weight on it


def test_padding_values_do_not_change_the_context():
    torch.manual_seed(0)
    att = AdditiveAttention(4, 4, 4)
    values = torch.randn(1, 5, 4)
    mask = torch.tensor([[True, True, True, False, False]])
    values2 = values.clone(); values2[0, 3:] = 100.
    q = torch.randn(1, 4)
    a, _ = att(q, att.project_keys(values), values, mask)
    b, _ = att(q, att.project_keys(values2), values2, mask)
    assert torch.allclose(a, b)


def scores_of(att, q, values):
    "Log-weights up to a constant: what the softmax sees, for one step's query (bs, q) over values (bs, sl, k)."
    _, w = att(q, att.project_keys(values), values, torch.ones(values.shape[:2], dtype=torch.bool))
    return w.log()


def test_luong_scores_are_the_pytorch_tutorials_formulas():
    "dot: qᵀk; general: qᵀWk; concat: vᵀ tanh(W[q; k]) with one W over the concatenation (the chatbot tutorial's)."
    torch.manual_seed(0)
    q, values = torch.randn(2, 5), torch.randn(2, 4, 5)
    same = lambda a, b: torch.allclose(a - a.logsumexp(-1, keepdim=True), b.log_softmax(-1), atol=1e-5)
    assert same(scores_of(make_attention('dot', 5, 5, 3), q, values), torch.einsum('bq,bsq->bs', q, values))
    general = make_attention('general', 5, 5, 3)
    W = general.key_proj.weight                                                            # (q, k)
    assert same(scores_of(general, q, values), torch.einsum('bq,qk,bsk->bs', q, W, values))
    concat = make_attention('concat', 5, 5, 3)
    W = torch.cat([concat.query_proj.weight, concat.key_proj.weight], 1)                    # (att, q + k)
    energy = torch.tanh(torch.cat([q[:, None].expand(-1, 4, -1), values], -1) @ W.T + concat.query_proj.bias)
    assert same(scores_of(concat, q, values), (energy @ concat.v.weight.T).squeeze(-1))
    with pytest.raises(ValueError, match="score must be one of additive, concat, dot, general, got 'cosine'"):
        make_attention('cosine', 5, 5, 3)


def test_tanh_is_torchs_to_2e7_without_a_gradient_and_torchs_own_with_one():
    "Decoding's tanh (2·sigmoid(2x) − 1) against torch.tanh, over large, small and tiny values; training's is torch's."
    x = torch.cat([torch.randn(10_000) * 5, torch.linspace(-1e-3, 1e-3, 1001), torch.tensor([0., 30., -30.])])
    with torch.no_grad(): fast = tanh(x)
    assert (fast - torch.tanh(x)).abs().max() < 2e-7 and fast[-3:].tolist() == [0., 1., -1.]
    x.requires_grad_()
    y = tanh(x)
    assert torch.equal(y, torch.tanh(x)) and y.grad_fn is not None
