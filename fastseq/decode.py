"""Greedy and beam-search decoding as plain functions over a `Seq2SeqRNN`, batched, stopping per sentence at eos."""
import torch

__all__ = ['max_output_lens', 'greedy_decode', 'beam_search', 'length_penalty', 'score_tokens']


def max_output_lens(src_lens, len_ratio=2.0, len_extra=10):
    "Per-sentence output limit that grows with the source length: ratio × length + extra."
    return (src_lens.float() * len_ratio).long() + len_extra


def _keep(rows, enc_out, h, mask, keys):
    "The decoder's inputs for the rows still decoding: finished sentences leave the batch and cost nothing more."
    pick = lambda t: None if t is None else t[rows]
    return pick(enc_out), h[:, rows], pick(mask), pick(keys)


@torch.no_grad()
def greedy_decode(model, src, len_ratio=2.0, len_extra=10, check_every=4, keep_attention=False):
    """src (bs, sl) → tokens (bs, T) ending in eos or pad, and attention (bs, T, sl) when asked (zero once a sentence
    has left the batch). Every `check_every` steps (one host sync) finished sentences are dropped from the batch."""
    cfg = model.config
    enc_out, h, mask, keys = model.encode(src)
    (bs, sl), dev = src.shape, src.device
    limits = max_output_lens(mask.sum(1), len_ratio, len_extra)              # (bs,)
    max_steps = int(limits.max())                                            # one host sync per batch
    toks = src.new_full((bs, max_steps), cfg.pad_idx)
    attns = enc_out.new_zeros(bs, max_steps, sl) if keep_attention and model.decoder.attn is not None else None
    rows, inp = torch.arange(bs, device=dev), src.new_full((bs,), cfg.bos_idx)
    done = torch.zeros(bs, dtype=torch.bool, device=dev)
    for i in range(max_steps):
        out, h, weights = model.decoder.step(inp, h, enc_out, keys, mask)
        inp = model.decoder.project(out).argmax(-1).masked_fill(done, cfg.pad_idx)  # (live,)
        toks[rows, i] = inp
        if attns is not None: attns[rows, i] = weights
        done = done | (inp == cfg.eos_idx) | (limits <= i + 1)
        if (i + 1) % check_every: continue
        live = ~done
        n_live = int(live.sum())                                             # sync only every few steps
        if n_live == 0: break
        if n_live < len(rows):
            rows, inp, done, limits = rows[live], inp[live], done[live], limits[live]
            enc_out, h, mask, keys = _keep(live, enc_out, h, mask, keys)
    return toks[:, :i + 1], (attns[:, :i + 1] if attns is not None else None)


def length_penalty(lengths, alpha):
    "GNMT length penalty ((5 + len) / 6) ** alpha; alpha=0 turns it off."
    return ((5. + lengths.float()) / 6.) ** alpha


def _expand_for_beams(k, enc_out, h, mask, keys):
    "Repeat each sentence's encoder state k times: (bs, …) → (bs·k, …), beams of a sentence adjacent."
    rep = lambda t: None if t is None else t.repeat_interleave(k, 0)
    return rep(enc_out), h.repeat_interleave(k, 1), rep(mask), rep(keys)


def _candidates(logits, scores, done, k, pad_idx):
    """Each beam's k best continuations and their total log-probabilities (bs·k, k), with no full log-softmax: adding
    a constant keeps a row's order, so topk runs on the logits and score − logsumexp is added to k values only.
    A finished beam has one candidate, pad at no cost, so its score stays fixed."""
    logits = logits.float()
    top, tok = logits.topk(min(k, logits.shape[1]), dim=1)                   # (bs·k, k)
    total = top + (scores.reshape(-1, 1) - torch.logsumexp(logits, 1, keepdim=True))
    frozen = torch.full_like(total, float('-inf'))
    frozen[:, 0] = scores.reshape(-1)
    return torch.where(done[:, None], frozen, total), tok.masked_fill(done[:, None], pad_idx)


def _select(total, tok, k):
    "Best k of each sentence's beams' candidates: new scores (bs, k), origin beam (bs·k,), token (bs·k,)."
    bs, per_beam = total.shape[0] // k, total.shape[1]
    new_scores, idx = total.view(bs, k * per_beam).topk(k, dim=1)             # (bs, k)
    origin = (idx // per_beam + torch.arange(bs, device=idx.device)[:, None] * k).view(-1)
    return new_scores, origin, tok.view(bs, k * per_beam).gather(1, idx).view(-1)


def _best(toks, scores, k, alpha, n_best, pad_idx):
    "n_best (token list, score) per sentence ranked by score / length penalty, and each sentence's best row."
    lengths = (toks != pad_idx).sum(1)                                        # (bs·k,)
    final = (scores.view(-1) / length_penalty(lengths, alpha)).view(-1, k)    # (bs, k)
    order = final.argsort(dim=1, descending=True)[:, :n_best]
    hyps = [[(toks[i * k + j].tolist(), float(final[i, j])) for j in row.tolist()] for i, row in enumerate(order)]
    return hyps, order[:, 0] + torch.arange(len(order), device=order.device) * k


def _settled(scores, toks, done, k, alpha, pad_idx, n_best, early_stop):
    """Sentences (bs,) that are finished: all their beams have ended, or with `early_stop` their n_best beams ranked
    highest by score / length penalty have (OpenNMT-py's and JoeyNMT's rule: faster, but a lower-ranked live beam may
    still have overtaken them; docs/design.md)."""
    d = done.view(-1, k)
    if not early_stop: return d.all(1)
    ranked = (scores.view(-1) / length_penalty((toks != pad_idx).sum(1), alpha)).view(-1, k)
    return d.gather(1, ranked.topk(n_best, dim=1).indices).all(1)


@torch.no_grad()
def beam_search(model, src, beam=5, alpha=0.6, n_best=1, len_ratio=2.0, len_extra=10, check_every=4,
                keep_attention=False, early_stop=False):
    """Batched beam search: src (bs, sl) → per sentence n_best (tokens, score), and the best's attention (bs, T, sl).
    Every `check_every` steps (one host sync) finished sentences (`_settled`) leave the batch."""
    cfg, k = model.config, beam
    if not 1 <= n_best <= k: raise ValueError(f"n_best must be between 1 and beam={k}, got {n_best}")
    enc_out, h, mask, keys = _expand_for_beams(k, *model.encode(src))
    (bs, sl), dev = src.shape, src.device
    limits = max_output_lens(mask.sum(1), len_ratio, len_extra)               # (bs·k,)
    max_steps = int(limits.max())
    scores = torch.full((bs, k), float('-inf'), device=dev)
    scores[:, 0] = 0.                                                         # one live beam to start with
    inp, done = src.new_full((bs * k,), cfg.bos_idx), torch.zeros(bs * k, dtype=torch.bool, device=dev)
    toks, attn, sents = src.new_empty(bs * k, 0), None, torch.arange(bs, device=dev)
    final_toks, final_scores = src.new_full((bs * k, max_steps), cfg.pad_idx), scores.clone()
    final_attn = None
    for t in range(max_steps):
        out, h, weights = model.decoder.step(inp, h, enc_out, keys, mask)
        scores, origin, inp = _select(*_candidates(model.decoder.project(out), scores, done, k, cfg.pad_idx), k)
        h, toks = h[:, origin], torch.cat([toks[origin], inp[:, None]], 1)
        if keep_attention and weights is not None:
            attn = weights[:, None] if attn is None else torch.cat([attn, weights[:, None]], 1)
            attn = attn[origin]
        done = done[origin] | (inp == cfg.eos_idx) | (limits <= t + 1)
        if (t + 1) % check_every and t + 1 < max_steps: continue
        settled = _settled(scores, toks, done, k, alpha, cfg.pad_idx, n_best, early_stop)
        if not bool(settled.any()): continue                                  # sync only every few steps
        out_rows = (sents[settled, None] * k + torch.arange(k, device=dev)).view(-1)
        rows = settled.repeat_interleave(k)
        final_toks[out_rows, :t + 1], final_scores[sents[settled]] = toks[rows], scores[settled]
        if attn is not None:
            if final_attn is None: final_attn = attn.new_zeros(bs * k, max_steps, sl)
            final_attn[out_rows, :t + 1] = attn[rows]
        if bool(settled.all()): break
        live, rows = ~settled, ~rows
        sents, scores, inp, done, limits = sents[live], scores[live], inp[rows], done[rows], limits[rows]
        toks, attn = toks[rows], (attn[rows] if attn is not None else None)
        enc_out, h, mask, keys = _keep(rows, enc_out, h, mask, keys)
    hyps, best_rows = _best(final_toks[:, :t + 1], final_scores, k, alpha, n_best, cfg.pad_idx)
    return hyps, (final_attn[best_rows, :t + 1] if final_attn is not None else None)


@torch.no_grad()
def score_tokens(model, src, toks):
    """Log-probability (bs,) under the model of each output toks (bs, T) given src (bs, sl), up to and including eos
    (pad ignored): the model's own forward pass with every step fed the given token."""
    logp = torch.log_softmax(model(src, toks, pr_force=1.).float(), -1)             # (bs, T, vocab)
    logp = logp.gather(2, toks[..., None]).squeeze(-1)                              # (bs, T)
    return logp.masked_fill(toks == model.config.pad_idx, 0.).sum(1)
