"""Greedy and beam-search decoding as plain functions over a `Seq2SeqRNN`, batched, stopping per sentence at eos."""
import torch

__all__ = ['max_output_lens', 'greedy_decode', 'beam_search', 'length_penalty', 'score_tokens']


def max_output_lens(src_lens, len_ratio=2.0, len_extra=10):
    "Per-sentence output limit that grows with the source length: ratio × length + extra."
    return (src_lens.float() * len_ratio).long() + len_extra


@torch.no_grad()
def greedy_decode(model, src, len_ratio=2.0, len_extra=10, check_every=4, keep_attention=False):
    "src (bs, sl) → tokens (bs, T) ending in eos or pad, and attention (bs, T, sl) when asked."
    cfg = model.config
    enc_out, h, mask, keys = model.encode(src)
    bs = src.shape[0]
    limits = max_output_lens(mask.sum(1), len_ratio, len_extra)              # (bs,)
    max_steps = int(limits.max())                                            # one host sync per batch
    inp = src.new_full((bs,), cfg.bos_idx)
    done = torch.zeros(bs, dtype=torch.bool, device=src.device)
    toks, attns = [], []
    for i in range(max_steps):
        out, h, weights = model.decoder.step(inp, h, enc_out, keys, mask)
        inp = model.decoder.project(out).argmax(-1).masked_fill(done, cfg.pad_idx)  # (bs,)
        toks.append(inp)
        if keep_attention and weights is not None: attns.append(weights)
        done = done | (inp == cfg.eos_idx) | (limits <= i + 1)
        if (i + 1) % check_every == 0 and bool(done.all()): break           # sync only every few steps
    return torch.stack(toks, 1), (torch.stack(attns, 1) if attns else None)


def length_penalty(lengths, alpha):
    "GNMT length penalty ((5 + len) / 6) ** alpha; alpha=0 turns it off."
    return ((5. + lengths.float()) / 6.) ** alpha


def _expand_for_beams(k, enc_out, h, mask, keys):
    "Repeat each sentence's encoder state k times: (bs, …) → (bs·k, …), beams of a sentence adjacent."
    rep = lambda t: None if t is None else t.repeat_interleave(k, 0)
    return rep(enc_out), h.repeat_interleave(k, 1), rep(mask), rep(keys)


def _freeze_finished(logp, done, pad_idx):
    "Finished beams may only continue with pad, at no cost, so their score stays fixed."
    frozen = torch.full_like(logp[:1], float('-inf'))
    frozen[0, pad_idx] = 0.
    return torch.where(done[:, None], frozen, logp)


def _select(scores, logp, k):
    "Best k continuations per sentence over all its beams: new scores (bs, k), origin beam (bs·k,), token (bs·k,)."
    bs, vocab = scores.shape[0], logp.shape[1]
    cand = (scores.reshape(-1, 1) + logp).view(bs, k * vocab)                 # (bs, k·V)
    new_scores, idx = cand.topk(k, dim=1)                                     # (bs, k)
    origin = (idx // vocab + torch.arange(bs, device=idx.device)[:, None] * k).view(-1)
    return new_scores, origin, (idx % vocab).view(-1)


def _best(toks, scores, k, alpha, n_best, pad_idx):
    "n_best (token list, score) per sentence ranked by score / length penalty, and each sentence's best row."
    lengths = (toks != pad_idx).sum(1)                                        # (bs·k,)
    final = (scores.view(-1) / length_penalty(lengths, alpha)).view(-1, k)    # (bs, k)
    order = final.argsort(dim=1, descending=True)[:, :n_best]
    hyps = [[(toks[i * k + j].tolist(), float(final[i, j])) for j in row.tolist()] for i, row in enumerate(order)]
    return hyps, order[:, 0] + torch.arange(len(order), device=order.device) * k


@torch.no_grad()
def beam_search(model, src, beam=5, alpha=0.6, n_best=1, len_ratio=2.0, len_extra=10, check_every=4,
                keep_attention=False):
    "Batched beam search: src (bs, sl) → per sentence n_best (tokens, score), and the best's attention (bs, T, sl)."
    cfg, k = model.config, beam
    if not 1 <= n_best <= k: raise ValueError(f"n_best must be between 1 and beam={k}, got {n_best}")
    enc_out, h, mask, keys = _expand_for_beams(k, *model.encode(src))
    bs = src.shape[0]
    limits = max_output_lens(mask.sum(1), len_ratio, len_extra)               # (bs·k,)
    scores = torch.full((bs, k), float('-inf'), device=src.device)
    scores[:, 0] = 0.                                                         # one live beam to start with
    inp, done = src.new_full((bs * k,), cfg.bos_idx), torch.zeros(bs * k, dtype=torch.bool, device=src.device)
    toks, attn = src.new_empty(bs * k, 0), None
    for t in range(int(limits.max())):
        out, h, weights = model.decoder.step(inp, h, enc_out, keys, mask)
        logp = _freeze_finished(torch.log_softmax(model.decoder.project(out).float(), -1), done, cfg.pad_idx)
        scores, origin, inp = _select(scores, logp, k)
        h, toks = h[:, origin], torch.cat([toks[origin], inp[:, None]], 1)
        if keep_attention and weights is not None:
            attn = weights[:, None] if attn is None else torch.cat([attn, weights[:, None]], 1)
            attn = attn[origin]
        done = done[origin] | (inp == cfg.eos_idx) | (limits <= t + 1)
        if (t + 1) % check_every == 0 and bool(done.all()): break
    hyps, best_rows = _best(toks, scores, k, alpha, n_best, cfg.pad_idx)
    return hyps, (attn[best_rows] if attn is not None else None)


@torch.no_grad()
def score_tokens(model, src, toks):
    "Log-probability under the model of each output toks (bs, T) given src, up to and including eos (pad ignored)."
    cfg = model.config
    enc_out, h, mask, keys = model.encode(src)
    inp, total = src.new_full((src.shape[0],), cfg.bos_idx), torch.zeros(src.shape[0], device=src.device)
    for t in range(toks.shape[1]):
        out, h, _ = model.decoder.step(inp, h, enc_out, keys, mask)
        logp = torch.log_softmax(model.decoder.project(out).float(), -1).gather(1, toks[:, t:t + 1]).squeeze(1)
        total += logp.masked_fill(toks[:, t] == cfg.pad_idx, 0.)
        inp = toks[:, t]
    return total
