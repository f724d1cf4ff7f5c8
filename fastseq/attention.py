"""Masked additive (Bahdanau) attention: keys projected once per batch, one query per decoder step."""
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
        "Context (bs, val_sz) and weights (bs, sl) for query (bs, q_sz), keys (bs, sl, att), mask (bs, sl) True=real."
        scores = self.v(torch.tanh(keys + self.query_proj(query)[:, None])).squeeze(2)  # (bs, sl)
        weights = torch.softmax(scores.masked_fill(~mask, float('-inf')), dim=1)      # (bs, sl)
        return torch.bmm(weights[:, None], values).squeeze(1), weights                 # (bs, val_sz), (bs, sl)
