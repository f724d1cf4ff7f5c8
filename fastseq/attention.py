"""Masked attention scorers: additive (Bahdanau) and Luong's dot, general and concat. Keys are projected once per
batch; one query per decoder step, or the queries of several steps at once."""
import torch
from torch import nn

__all__ = ['tanh', 'Attention', 'AdditiveAttention', 'DotAttention', 'GeneralAttention', 'SCORES', 'make_attention']


def tanh(x):
    """`torch.tanh(x)`; without a gradient on a CPU as 2·sigmoid(2x) − 1, the same to 2e-7 and several times faster
    there, where torch's tanh runs at a tenth of its sigmoid's speed and took a seventh of a small model's decoding
    (docs/performance.md)."""
    if torch.is_grad_enabled() or x.device.type != 'cpu': return torch.tanh(x)
    return torch.sigmoid(x * 2).mul_(2).sub_(1)


class Attention(nn.Module):
    "What every scorer shares: masked softmax over the source and the weighted sum of the values."
    def project_keys(self, enc_out):
        "Keys for a whole batch, computed once before the decoder loop: enc_out (bs, sl, key_sz) → (bs, sl, ·)."
        return enc_out

    def forward(self, query, keys, values, mask):
        """Context (bs, [L,] val_sz) and weights (bs, [L,] sl) for query (bs, [L,] q_sz): one step's query or L steps';
        keys from `project_keys` (bs, sl, ·), values (bs, sl, val_sz), mask (bs, sl) True for real tokens. Padded
        source positions get exactly zero weight."""
        one_step = query.dim() == 2
        scores = self.scores(query[:, None] if one_step else query, keys)             # (bs, L, sl)
        weights = torch.softmax(scores.masked_fill(~mask[:, None], float('-inf')), dim=-1)
        ctx = torch.bmm(weights, values)                                               # (bs, L, val_sz)
        return (ctx[:, 0], weights[:, 0]) if one_step else (ctx, weights)


class AdditiveAttention(Attention):
    """score(q, k) = vᵀ tanh(W_k k + W_q q). Luong's 'concat' score, vᵀ tanh(W[q; k]), is the same function with W
    split into its query and key columns, so `score='concat'` builds this class."""
    def __init__(self, key_sz, query_sz, att_sz):
        super().__init__()
        self.key_proj = nn.Linear(key_sz, att_sz, bias=False)
        self.query_proj = nn.Linear(query_sz, att_sz)
        self.v = nn.Linear(att_sz, 1, bias=False)

    def project_keys(self, enc_out): return self.key_proj(enc_out)                   # (bs, sl, att_sz)

    def scores(self, query, keys):
        "query (bs, L, q_sz), keys (bs, sl, att_sz) → (bs, L, sl)."
        return self.v(tanh(keys[:, None] + self.query_proj(query)[:, :, None])).squeeze(-1)


class DotAttention(Attention):
    "Luong's dot score, score(q, k) = qᵀ k: no parameters; needs the query and key sizes equal."
    def __init__(self, key_sz, query_sz, att_sz=None):
        super().__init__()
        if key_sz != query_sz:
            raise ValueError(f"the dot score needs the encoder's output size ({key_sz}) equal to the decoder's hidden "
                             f"size ({query_sz}); use score='general', or change n_hid_enc / bidir / n_hid_dec")

    def scores(self, query, keys): return torch.bmm(query, keys.transpose(1, 2))    # (bs, L, sl)


class GeneralAttention(Attention):
    "Luong's general score, score(q, k) = qᵀ W k, with W k computed once per batch."
    def __init__(self, key_sz, query_sz, att_sz=None):
        super().__init__()
        self.key_proj = nn.Linear(key_sz, query_sz, bias=False)

    def project_keys(self, enc_out): return self.key_proj(enc_out)                   # (bs, sl, q_sz)
    def scores(self, query, keys): return torch.bmm(query, keys.transpose(1, 2))    # (bs, L, sl)


SCORES = {'additive': AdditiveAttention, 'concat': AdditiveAttention, 'dot': DotAttention, 'general': GeneralAttention}


def make_attention(score, key_sz, query_sz, att_sz):
    "The scorer named `score` (one of `SCORES`)."
    if score not in SCORES: raise ValueError(f"score must be one of {', '.join(SCORES)}, got {score!r}")
    return SCORES[score](key_sz, query_sz, att_sz)
