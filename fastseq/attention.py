"""Masked additive (Bahdanau) attention: keys projected once per batch; one query per decoder step, or the queries
of several steps at once."""
import torch
from torch import nn

__all__ = ['AdditiveAttention']


class AdditiveAttention(nn.Module):
    "score(q, k) = vᵀ tanh(W_k k + W_q q); padded source positions get exactly zero weight."
    def __init__(self, key_sz, query_sz, att_sz):
        super().__init__()
        self.key_proj = nn.Linear(key_sz, att_sz, bias=False)
        self.query_proj = nn.Linear(query_sz, att_sz)
        self.v = nn.Linear(att_sz, 1, bias=False)

    def project_keys(self, enc_out):
        "Keys for a whole batch, computed once before the decoder loop."
        return self.key_proj(enc_out)  # (bs, sl, att_sz)

    def forward(self, query, keys, values, mask):
        """Context (bs, [L,] val_sz) and weights (bs, [L,] sl) for query (bs, [L,] q_sz): one step's query or L steps';
        keys (bs, sl, att), values (bs, sl, val_sz), mask (bs, sl) True for real tokens."""
        one_step = query.dim() == 2
        q = self.query_proj(query[:, None] if one_step else query)                     # (bs, L, att)
        scores = self.v(torch.tanh(keys[:, None] + q[:, :, None])).squeeze(-1)        # (bs, L, sl)
        weights = torch.softmax(scores.masked_fill(~mask[:, None], float('-inf')), dim=-1)
        ctx = torch.bmm(weights, values)                                               # (bs, L, val_sz)
        return (ctx[:, 0], weights[:, 0]) if one_step else (ctx, weights)
