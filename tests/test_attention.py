import torch

from fastseq.attention import AdditiveAttention


def test_rows_sum_to_one_and_padding_gets_zero_weight():
    torch.manual_seed(0)
    att = AdditiveAttention(key_sz=6, query_sz=5, att_sz=4)
    values = torch.randn(3, 7, 6)
    mask = torch.ones(3, 7, dtype=torch.bool); mask[0, 4:] = False; mask[2, 1:] = False
    ctx, w = att(torch.randn(3, 5), att.project_keys(values), values, mask)
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
