"""Greedy and beam-search decoding as plain functions over a `Seq2SeqRNN` or an `Ensemble` of them, batched, stopping
per sentence at eos. Both drive a decoding state (`ModelState`, `EnsembleState`): encoder memory once per sentence,
recurrent state per decoded row. `decode_batch` picks one for a batch. Given `rows` (a lexical shortlist's target ids,
`fastseq.lexical`), a state projects onto those rows alone and the search maps its choices back to vocabulary ids."""
import warnings
import weakref

import torch
import torch.nn.functional as F

from .model import Ensemble, select_state
from .vocab import Vocab

__all__ = ['output_rows', 'ModelState', 'EnsembleState', 'decoding_state', 'token_ids', 'token_column',
           'max_output_lens', 'greedy_decode', 'beam_search', 'length_penalty', 'after_marker', 'score_tokens',
           'decode_batch', 'best_columns', 'MIN_LEN']

MIN_LEN = 1   # beam search's fewest tokens before eos: no empty translation (docs/results.md)


def after_marker(inp):
    """Rows (rows,) whose last token is a case marker, which always precedes a word: eos is no candidate there, or
    'xxmaj xxeos' would be an empty translation."""
    return (inp == Vocab.marker_idxs[0]) | (inp == Vocab.marker_idxs[1])


def output_rows(out, rows, dtype=None):
    """The output layer `out` (a `Linear`, or its int8 form) restricted to the target ids `rows`, as a function of the
    step outputs (..., n_hid) → (..., len(rows)): its rows taken once for a batch, cast to `dtype` (where autocast
    would cast them at every step) or packed as the int8 layer packs its weights."""
    if callable(out.weight):                                    # int8 (dynamic quantisation): weight() and bias()
        weight, values, bias = _int8_weights(out)
        packed = torch.ops.quantized.linear_prepack(_quantized_rows(weight, values, rows),
                                                    None if bias is None else bias[rows])
        return lambda x: torch.ops.quantized.linear_dynamic(x, packed, reduce_range=True)   # as the layer calls it
    weight, bias = out.weight[rows], (None if out.bias is None else out.bias[rows])
    if dtype is not None: weight, bias = weight.to(dtype), (None if bias is None else bias.to(dtype))
    return lambda x: F.linear(x.to(weight.dtype), weight, bias)


_UNPACKED = weakref.WeakKeyDictionary()   # int8 output layer → its (weight, float values or None, bias)


def _int8_weights(out):
    """The int8 layer `out`'s weight, its float values where it is quantized per output row (taking its rows needs
    them; None per tensor) and its bias, unpacked once per layer: each of `weight()` and `bias()` unpacks the whole
    matrix anew, which cost more than taking a batch's rows (docs/performance.md). A decoding layer's weights do not
    change."""
    if out not in _UNPACKED:
        weight = out.weight()
        values = None if weight.qscheme() == torch.per_tensor_affine else weight.dequantize()
        _UNPACKED[out] = weight, values, out.bias()
    return _UNPACKED[out]


def _quantized_rows(w, values, rows):
    """The rows `rows` of the int8 weight `w`, the same integers and scales: taken as they are where `w` is quantized
    per tensor (as `quantize_dynamic` does), else quantized again from their float values `values[rows]`."""
    if values is None: return w.index_select(0, rows)
    with warnings.catch_warnings():          # torch marks its quantized tensors deprecated in favour of torchao
        warnings.filterwarnings('ignore', message='torch.quantize_per_tensor')
        return torch.quantize_per_channel(values[rows], w.q_per_channel_scales()[rows],
                                          w.q_per_channel_zero_points()[rows], 0, w.dtype)


class ModelState:
    """One model decoding a batch: its encoder memory (one row per sentence) and recurrent state (one per decoded row);
    with `rows`, its output layer's rows of those target ids, taken once for the batch."""
    def __init__(self, model, src, dtype=None, rows=None):
        self.model, self.rows, dec = model, rows, model.decoder
        self.enc_out, self.h, self.mask, self.keys = model.encode(src)
        rows_of = None if rows is None else output_rows(dec.out, rows, dtype)
        self.project = ((lambda out: dec.project(out, dtype)) if rows_of is None else
                        (lambda out: rows_of(dec.out_drop(out))))     # (rows, n_hid) → (rows, vocab or len(rows))

    def step(self, inp, group=1):
        """inp (rows,) → logits (rows, vocab) or, with `rows`, (rows, len(rows)), and attention (rows, sl) or None;
        `group` decoded rows share each memory row (a sentence's beams)."""
        out, self.h, weights = self.model.decoder.step(inp, self.h, self.enc_out, self.keys, self.mask, group)
        return self.project(out), weights

    def reorder(self, rows): self.h = select_state(self.h, rows)        # decoded rows: beams follow their origin

    def keep(self, sents):
        "Keep only the memory rows `sents` (a bool mask or indices): finished sentences cost nothing more."
        memory = (self.enc_out, self.mask, self.keys)
        self.enc_out, self.mask, self.keys = (None if x is None else x[sents] for x in memory)


class EnsembleState:
    """Several models decoding together: each step's scores are the mean of the models' log-probabilities (as
    OpenNMT-py's ensembles), its attention the mean of theirs."""
    def __init__(self, models, src, dtype=None, rows=None):
        self.states, self.rows = [ModelState(m, src, dtype, rows) for m in models], rows

    @property
    def mask(self): return self.states[0].mask

    def step(self, inp, group=1):
        outs = [s.step(inp, group) for s in self.states]
        logp = torch.stack([torch.log_softmax(logits.float(), -1) for logits, _ in outs]).mean(0)   # (rows, vocab)
        weights = [w for _, w in outs if w is not None]
        return logp, (torch.stack(weights).mean(0) if weights else None)

    def reorder(self, rows):
        for s in self.states: s.reorder(rows)

    def keep(self, sents):
        for s in self.states: s.keep(sents)


def decoding_state(model, src, dtype=None, rows=None):
    """The decoding state of `model` (a `Seq2SeqRNN` or an `Ensemble`) over src (bs, sl); `dtype` of the vocabulary
    projection (None: the weights' own; `precision.decoding_dtype`); `rows` (n,): the sorted target ids to decode
    over (None: all)."""
    if isinstance(model, Ensemble): return EnsembleState(model.models, src, dtype, rows)
    return ModelState(model, src, dtype, rows)


def token_ids(state, cols):
    "The vocabulary ids of the columns `cols` of a state's scores (the same ids without `rows`)."
    return cols if state.rows is None else state.rows[cols]


def token_column(state, idx):
    "The column of vocabulary id `idx` in a state's scores (with `rows`, which always hold the specials)."
    return idx if state.rows is None else int(torch.searchsorted(state.rows, idx))


def max_output_lens(src_lens, len_ratio=2.0, len_extra=10):
    "Per-sentence output limit that grows with the source length: ratio × length + extra."
    return (src_lens.float() * len_ratio).long() + len_extra


@torch.no_grad()
def greedy_decode(model, src, len_ratio=2.0, len_extra=10, check_every=4, keep_attention=False, dtype=None,
                  rows=None):
    """src (bs, sl) → tokens (bs, T) ending in eos or pad, and attention (bs, T, sl) when asked (zero once a sentence
    has left the batch). Every `check_every` steps (one host sync) finished sentences are dropped from the batch.
    `dtype` and `rows`: of the vocabulary projection, as in `decoding_state`."""
    cfg, state = model.config, decoding_state(model, src, dtype, rows)
    eos = token_column(state, cfg.eos_idx)
    (bs, sl), dev = src.shape, src.device
    limits = max_output_lens(state.mask.sum(1), len_ratio, len_extra)        # (bs,)
    max_steps = int(limits.max())                                            # one host sync per batch
    toks = src.new_full((bs, max_steps), cfg.pad_idx)
    attns = src.new_zeros(bs, max_steps, sl, dtype=torch.float) if keep_attention and model.has_attention else None
    rows, inp = torch.arange(bs, device=dev), src.new_full((bs,), cfg.bos_idx)
    done = torch.zeros(bs, dtype=torch.bool, device=dev)
    for i in range(max_steps):
        scores, weights = state.step(inp)
        scores[:, eos].masked_fill_(after_marker(inp), float('-inf'))
        best = best_columns(scores)                                          # (live,)
        inp = token_ids(state, best).masked_fill(done, cfg.pad_idx)
        toks[rows, i] = inp
        if attns is not None: attns[rows, i] = weights.float()
        done = done | (inp == cfg.eos_idx) | (limits <= i + 1)
        if (i + 1) % check_every: continue
        live = ~done
        n_live = int(live.sum())                                             # sync only every few steps
        if n_live == 0: break
        if n_live < len(rows):
            rows, inp, done, limits = rows[live], inp[live], done[live], limits[live]
            state.reorder(live); state.keep(live)
    return toks[:, :i + 1], (attns[:, :i + 1] if attns is not None else None)


def best_columns(scores, block=64):
    """scores (rows, n) → the column of each row's highest score (the first among equals), as `max(-1)` finds it. Over
    fp32 scores on a CPU, in two passes: each `block` columns' highest score (a vectorised reduction), then the best
    block's columns, twice as fast as `max`'s one pass there (docs/performance.md); bf16 scores gain nothing and keep
    `max` (argmax is slower there)."""
    rows, n = scores.shape
    n_blocks = n // block
    if scores.dtype != torch.float32 or scores.device.type != 'cpu' or n_blocks < 2: return scores.max(-1).indices
    blocks = scores[:, :n_blocks * block].view(rows, n_blocks, block)
    block_best = blocks.amax(-1).max(-1)                                     # (rows,) each row's best block, its score
    inside = blocks[torch.arange(rows, device=scores.device), block_best.indices].max(-1).indices    # (rows,)
    cols = block_best.indices * block + inside
    if n_blocks * block == n: return cols
    rest = scores[:, n_blocks * block:].max(-1)                                       # the columns after the last block
    return torch.where(rest.values > block_best.values, rest.indices + n_blocks * block, cols)


def length_penalty(lengths, alpha):
    "GNMT length penalty ((5 + len) / 6) ** alpha; alpha=0 turns it off."
    return ((5. + lengths.float()) / 6.) ** alpha


def _candidates(logits, scores, k, eos, no_eos):
    """Each beam's k best continuations and their total log-probabilities (rows, k): one fused log-softmax and one
    top-k pass over (rows, vocab) (measured faster than top-k on the logits plus a logsumexp: docs/performance.md).
    In the rows `no_eos` (rows,), `eos` is no candidate; the others keep their log-probabilities under the model."""
    logp = torch.log_softmax(logits.float(), 1)
    logp[:, eos].masked_fill_(no_eos, float('-inf'))
    top, tok = logp.topk(min(k, logits.shape[1]), dim=1)                                # (rows, k)
    return top + scores.reshape(-1, 1), tok


def _select(total, tok, k):
    "Best k of each sentence's beams' candidates, best first: scores (bs, k), origin beam (bs·k,), token (bs·k,)."
    bs, per_beam = total.shape[0] // k, total.shape[1]
    new_scores, idx = total.view(bs, k * per_beam).topk(k, dim=1)             # (bs, k)
    origin = (idx // per_beam + torch.arange(bs, device=idx.device)[:, None] * k).view(-1)
    return new_scores, origin, tok.view(bs, k * per_beam).gather(1, idx).view(-1)


class _Finished:
    "Each sentence's finished hypotheses (tokens, length-normalised score, attention), set aside as they end."
    def __init__(self, bs, alpha): self.hyps, self.alpha = [[] for _ in range(bs)], alpha

    def add(self, sents, rows, toks, scores, attn):
        "Record rows (beam rows that just ended) of the sentences `sents` (original indices)."
        lp = length_penalty(torch.tensor(toks.shape[1]), self.alpha).item()
        for s, r, t, sc in zip(sents.tolist(), rows.tolist(), toks[rows].tolist(), scores[rows].tolist()):
            self.hyps[s].append((t, sc / lp, None if attn is None else attn[r]))

    def count(self, sents): return torch.tensor([len(self.hyps[s]) for s in sents.tolist()])

    def best(self, n_best):
        "Per sentence the n_best (tokens, score), best first, and the best's attention."
        ranked = [sorted(h, key=lambda x: -x[1])[:n_best] for h in self.hyps]
        return [[(t, sc) for t, sc, _ in r] for r in ranked], [r[0][2] for r in ranked]


@torch.no_grad()
def beam_search(model, src, beam=5, alpha=0.6, n_best=1, len_ratio=2.0, len_extra=10, keep_attention=False,
                dtype=None, min_len=MIN_LEN, rows=None):
    """Batched beam search: src (bs, sl) → per sentence n_best (tokens, score), and the best's attention (bs, T, sl).
    OpenNMT-py's rule: a hypothesis that ends (eos or the length limit) is set aside and the next step refills the beam
    from the live ones; a sentence is done once its best candidate of a step has ended and n_best have; done sentences
    leave the batch at once. Encoder memory stays one row per sentence (`Decoder.step`'s `group`). `dtype` and `rows`:
    of the vocabulary projection, as in `decoding_state`. `min_len`: the fewest tokens a hypothesis has before its eos;
    the default 1 rules out the empty translation, which otherwise wins long sentences the model is unsure of
    (docs/results.md); nor does eos follow a case marker (`after_marker`)."""
    cfg, k = model.config, beam
    if not 1 <= n_best <= k: raise ValueError(f"n_best must be between 1 and beam={k}, got {n_best}")
    state = decoding_state(model, src, dtype, rows)
    (bs, sl), dev, eos = src.shape, src.device, token_column(state, cfg.eos_idx)
    limits = max_output_lens(state.mask.sum(1), len_ratio, len_extra).repeat_interleave(k)  # (bs·k,)
    inp, toks, attn = src.new_full((bs,), cfg.bos_idx), src.new_empty(bs * k, 0), None
    sents, finished = torch.arange(bs), _Finished(bs, alpha)
    for t in range(int(limits.max())):
        no_eos = after_marker(inp) | (t < min_len)
        if t == 0:                                   # one beam per sentence yet: bs rows, its k best start the beams
            logits, weights = state.step(inp)
            scores, inp = _candidates(logits, torch.zeros(bs, device=dev), k, eos, no_eos)
            origin, inp = torch.arange(bs, device=dev).repeat_interleave(k), inp.reshape(-1)
        else:
            logits, weights = state.step(inp, group=k)
            scores, origin, inp = _select(*_candidates(logits, scores, k, eos, no_eos), k)
        inp = token_ids(state, inp)
        state.reorder(origin)
        toks = torch.cat([toks[origin], inp[:, None]], 1)
        if keep_attention and weights is not None:
            weights = weights.float()
            attn = torch.cat([attn[origin], weights[origin, None]], 1) if attn is not None else weights[origin, None]
        ended = ((inp == cfg.eos_idx) | (limits <= t + 1)) & scores.view(-1).isfinite()
        ended_rows = ended.nonzero().view(-1).cpu()                # a step's host sync (a few more when one ended)
        if not len(ended_rows): continue
        finished.add(sents[ended_rows // k], ended_rows, toks, scores.view(-1), attn)
        scores = scores.masked_fill(ended.view(-1, k), float('-inf'))          # ended beams are never extended
        top_ended = ended.view(-1, k)[:, 0].cpu()
        done = (top_ended & (finished.count(sents) >= n_best)) | ~scores.isfinite().any(1).cpu()
        if bool(done.all()): break
        if not bool(done.any()): continue
        sents, keep = sents[~done], (~done).to(dev)
        rows = keep.repeat_interleave(k)
        scores, inp, limits, toks = scores[keep], inp[rows], limits[rows], toks[rows]
        state.reorder(rows); state.keep(keep)
        attn = attn[rows] if attn is not None else None
    hyps, attns = finished.best(n_best)
    return hyps, (_stack_attention(attns, sl) if keep_attention and attns[0] is not None else None)


def _stack_attention(attns, sl):
    "Per-sentence attention matrices (T_i, sl) → one (bs, max T_i, sl) tensor, zero past each sentence's end."
    out = attns[0].new_zeros(len(attns), max(a.shape[0] for a in attns), sl)
    for i, a in enumerate(attns): out[i, :a.shape[0]] = a
    return out


@torch.no_grad()
def score_tokens(model, src, toks):
    """Log-probability (bs,) under the model of each output toks (bs, T) given src (bs, sl), up to and including eos
    (pad ignored): the model's own forward pass with every step fed the given token."""
    logp = torch.log_softmax(model(src, toks, pr_force=1.).float(), -1)             # (bs, T, vocab)
    logp = logp.gather(2, toks[..., None]).squeeze(-1)                              # (bs, T)
    return logp.masked_fill(toks == model.config.pad_idx, 0.).sum(1)


def decode_batch(model, src, beam=1, n_best=1, alpha=0.6, keep_attention=False, **kwargs):
    "Per sentence of src (bs, sl) a list of (tokens, score or None), and attention (bs, T, sl) when kept."
    if beam == 1:
        toks, attn = greedy_decode(model, src, keep_attention=keep_attention, **kwargs)
        return [[(t, None)] for t in toks.tolist()], attn
    return beam_search(model, src, beam, alpha, n_best, keep_attention=keep_attention, **kwargs)
