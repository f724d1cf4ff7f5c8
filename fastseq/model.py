"""`Seq2SeqRNN`: GRU or LSTM encoder (optionally bidirectional), decoder with attention (additive, or Luong's dot,
general or concat score), tied output. Attention comes after the decoder's RNN by default (Luong's order; why:
docs/results.md)."""
import random
from contextlib import nullcontext
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .attention import SCORES, make_attention, tanh
from .options import option

__all__ = ['Architecture', 'Seq2SeqConfig', 'CELLS', 'run_rnn', 'select_state', 'top_state', 'Encoder', 'Decoder',
           'LuongDecoder', 'BahdanauDecoder', 'make_decoder', 'Seq2SeqRNN', 'Ensemble', 'forcing_segments']


CELLS = {'gru': nn.GRU, 'lstm': nn.LSTM}


@dataclass(kw_only=True)
class Architecture:
    """The shape and dropouts of a `Seq2SeqRNN`, everything but its vocabularies: the model options of
    `seq2seq_learner`, `TrainConfig.model` and `fastseq train`'s model flags, under the same names. The defaults are
    the lesson's sizes, with attention after the decoder GRU; None sizes follow from others (`Seq2SeqConfig`)."""
    emb_sz_src: int = option(None, "source embedding size (default: the vectors' dimension, else 300)")
    emb_sz_tgt: int = option(None, "target embedding size, also the tied output's (default: the vectors' dimension, "
                             "else 300)")
    n_hid_enc: int = option(256, 'encoder hidden size (per direction)')
    n_layers_enc: int = option(2, 'encoder recurrent layers')
    bidir: bool = option(False, 'bidirectional encoder')
    n_hid_dec: int = option(None, 'decoder hidden size (default: the target embedding size, as the tied output needs)')
    n_layers_dec: int = option(2, 'decoder recurrent layers')
    attention: bool = option(True, 'attention over the encoder outputs')
    attend_after_rnn: bool = option(True, "Luong's order, the context mixed into the GRU's output; off: the "
                                    "lesson's, into its input (docs/results.md)")
    score: str = option('additive', "attention score: additive, or Luong's dot, general or concat", choices=SCORES)
    cell: str = option('gru', 'recurrent cell of encoder and decoder', choices=tuple(CELLS))
    att_sz: int = option(None, 'attention size (default: the decoder hidden size)')
    tie: bool = option(True, 'tie the output layer to the target embedding')
    emb_drop: float = option(0.15, 'dropout on the embeddings')
    enc_drop: float = option(0.25, 'dropout between encoder layers')
    dec_drop: float = option(0.1, 'dropout between decoder layers')
    out_drop: float = option(0.35, 'dropout before the output layer')
    init_range: float = option(0.1, 'initial weights uniform in ±this')


@dataclass
class Seq2SeqConfig(Architecture):
    "An `Architecture` with its vocabulary sizes and special indices: all a `Seq2SeqRNN` is built from."
    src_vocab: int
    tgt_vocab: int
    pad_idx: int = 1
    bos_idx: int = 2
    eos_idx: int = 3

    def __post_init__(self):
        if self.cell not in CELLS: raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {self.cell!r}")
        if self.score not in SCORES: raise ValueError(f"score must be one of {', '.join(SCORES)}, got {self.score!r}")
        self.emb_sz_src, self.emb_sz_tgt = self.emb_sz_src or 300, self.emb_sz_tgt or 300
        self.n_hid_dec = self.n_hid_dec or self.emb_sz_tgt
        self.att_sz = self.att_sz or self.n_hid_dec
        if self.tie and self.n_hid_dec != self.emb_sz_tgt:
            raise ValueError(f"a tied output layer needs n_hid_dec == emb_sz_tgt, got {self.n_hid_dec} and "
                             f"{self.emb_sz_tgt}; set one to the other or pass tie=False")

    def to_dict(self): return asdict(self)


def select_state(h, idx):
    "Rows `idx` of a recurrent state: h (n_layers, bs, n_hid), or an LSTM's (h, c) pair of such tensors."
    return tuple(x[:, idx] for x in h) if isinstance(h, tuple) else h[:, idx]


def top_state(h):
    "The last layer's hidden state (bs, n_hid) of a GRU's h or an LSTM's (h, c)."
    return (h[0] if isinstance(h, tuple) else h)[-1]


def _float_state(h): return None if h is None else tuple(x.float() for x in h) if isinstance(h, tuple) else h.float()


def run_rnn(rnn, x, h=None):
    """`rnn(x, h)` in fp32 even under autocast: CUDA autocast runs cuDNN's GRU in fp16 whatever dtype was asked (with
    no gradient scaler under bf16), and recurrent states drift in low precision over many steps (docs/design.md)."""
    device = (x.data if isinstance(x, PackedSequence) else x).device.type
    if not torch.is_autocast_enabled(device): return rnn(x, h)
    with torch.autocast(device, enabled=False): return rnn(x.float(), _float_state(h))


class Encoder(nn.Module):
    "Embedding → dropout → GRU or LSTM over packed sequences; final state mapped to the decoder's size."
    def __init__(self, c: Seq2SeqConfig):
        super().__init__()
        self.pad_idx, self.n_layers, self.n_dirs = c.pad_idx, c.n_layers_enc, 2 if c.bidir else 1
        self.emb = nn.Embedding(c.src_vocab, c.emb_sz_src, padding_idx=c.pad_idx)
        self.emb_drop = nn.Dropout(c.emb_drop)
        self.rnn = CELLS[c.cell](c.emb_sz_src, c.n_hid_enc, c.n_layers_enc, batch_first=True,
                                 dropout=c.enc_drop if c.n_layers_enc > 1 else 0., bidirectional=c.bidir)
        self.to_dec = nn.Linear(c.n_hid_enc * self.n_dirs, c.n_hid_dec, bias=False)
        if c.cell == 'lstm': self.to_dec_cell = nn.Linear(c.n_hid_enc * self.n_dirs, c.n_hid_dec, bias=False)
        self.out_sz, self.n_layers_dec = c.n_hid_enc * self.n_dirs, c.n_layers_dec

    def forward(self, src, src_lens=None):
        """Outputs (bs, sl, out_sz), decoder's initial state (n_layers_dec, bs, n_hid_dec) (an LSTM's: a pair of them),
        mask (bs, sl). Packing needs the lengths on the host: from `src_lens` (ints, as the batch carries them), else
        read back from `src`."""
        mask = src != self.pad_idx                                         # (bs, sl)
        lens = torch.as_tensor(src_lens) if src_lens is not None else mask.sum(1).cpu()
        lens = lens.clamp(min=1)
        x = self.emb_drop(self.emb(src))                                   # (bs, sl, emb)
        out, h = run_rnn(self.rnn, pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])  # (bs, sl, out_sz)
        if isinstance(h, tuple):                                           # an LSTM's (h, c), each bridged
            return out, (self._bridge(h[0], self.to_dec), self._bridge(h[1], self.to_dec_cell)), mask
        return out, self._bridge(h, self.to_dec), mask

    def _bridge(self, h, proj):
        "Final states (n_layers·n_dirs, bs, n_hid_enc) → the decoder's initial ones (n_layers_dec, bs, n_hid_dec)."
        bs = h.shape[1]
        h = h.view(self.n_layers, self.n_dirs, bs, -1).transpose(1, 2).reshape(self.n_layers, bs, -1)
        h = proj(h).float()                             # (n_layers_enc, bs, n_hid_dec); fp32 even under autocast
        h = h[-self.n_layers_dec:] if self.n_layers >= self.n_layers_dec else h[-1:].expand(self.n_layers_dec, -1, -1)
        return h.contiguous()


class Decoder(nn.Module):
    """What both attention orders share: target embedding, attention, the mixing layer, GRU or LSTM, tied output.
    `step` decodes one step, `run` several steps whose inputs are all known (teacher-forced), `project` maps step
    outputs to vocabulary logits."""
    def __init__(self, c: Seq2SeqConfig, enc_out_sz, mix_sz):
        super().__init__()  # parameters registered in this order: reset_parameters draws them in it
        self.emb = nn.Embedding(c.tgt_vocab, c.emb_sz_tgt, padding_idx=c.pad_idx)
        self.attn = make_attention(c.score, enc_out_sz, c.n_hid_dec, c.att_sz) if c.attention else None
        self.mix = nn.Linear(mix_sz + enc_out_sz, mix_sz) if c.attention else nn.Identity()
        self.rnn = CELLS[c.cell](c.emb_sz_tgt, c.n_hid_dec, c.n_layers_dec, batch_first=True,
                                 dropout=c.dec_drop if c.n_layers_dec > 1 else 0.)
        self.out_drop = nn.Dropout(c.out_drop)
        self.out = nn.Linear(c.n_hid_dec, c.tgt_vocab)
        if c.tie: self.out.weight = self.emb.weight  # one Parameter: the tie survives .to(), export and loading

    def step(self, inp, h, enc_out, keys, mask, group=1):
        """inp (bs,), h (n_layers, bs, n_hid) → step output (bs, n_hid), new h, attention (bs, sl) or None. With
        `group` g, the memory (enc_out, keys, mask) has bs / g rows, each serving g consecutive rows (a sentence's
        beams), so beam search keeps one copy of it per sentence."""
        out, h, weights = self.run(inp[:, None], h, enc_out, keys, mask, group)
        return out[:, 0], h, (None if weights is None else weights[:, 0])

    def attend(self, query, keys, values, mask, group=1):
        "Context and weights for query (n·group, L, q) against a memory of n rows, each serving `group` query rows."
        if group == 1: return self.attn(query, keys, values, mask)
        (rows, L, _), n = query.shape, query.shape[0] // group
        ctx, weights = self.attn(query.reshape(n, group * L, -1), keys, values, mask)
        return ctx.reshape(rows, L, -1), weights.reshape(rows, L, -1)

    def project(self, out, dtype=None):
        "(..., n_hid) step outputs → (..., vocab) logits, output dropout included; `dtype` as in `logits`."
        return self.logits(self.out_drop(out), dtype)

    def logits(self, hidden, dtype=None):
        "(..., n_hid) after dropout → (..., vocab), the product autocast to `dtype` when given (bf16 on a CPU)."
        with nullcontext() if dtype is None else torch.autocast(hidden.device.type, dtype=dtype):
            return self.out(hidden)


class LuongDecoder(Decoder):
    """Luong's order: the GRU runs first, and the context attended with its output is mixed into the step's output
    before the tied softmax (`tanh(W[out; context])`); attention then carries word identity (docs/results.md)."""
    def __init__(self, c: Seq2SeqConfig, enc_out_sz): super().__init__(c, enc_out_sz, c.n_hid_dec)

    def run(self, inp, h, enc_out, keys, mask, group=1):
        """inp (bs, L) → outputs (bs, L, n_hid), new h, attention (bs, L, sl) or None: one GRU call and one attention
        call cover all L steps."""
        out, h = run_rnn(self.rnn, self.emb(inp), h)                       # (bs, L, n_hid)
        if self.attn is None: return out, h, None
        ctx, weights = self.attend(out, keys, enc_out, mask, group)        # (bs, L, enc_out_sz), (bs, L, sl)
        return tanh(self.mix(torch.cat([out, ctx], -1))), h, weights


class BahdanauDecoder(Decoder):
    "The lesson's order: attend with the previous state and mix the context into the GRU's input."
    def __init__(self, c: Seq2SeqConfig, enc_out_sz): super().__init__(c, enc_out_sz, c.emb_sz_tgt)

    def step(self, inp, h, enc_out, keys, mask, group=1):
        "inp (bs,), h (n_layers, bs, n_hid) → step output (bs, n_hid), new h, attention (bs, sl); `group` as above."
        x = self.emb(inp)                                                  # (bs, emb)
        ctx, weights = self.attend(top_state(h)[:, None], keys, enc_out, mask, group)  # (bs, 1, enc), (bs, 1, sl)
        out, h = run_rnn(self.rnn, self.mix(torch.cat([x, ctx[:, 0]], 1))[:, None], h)  # (bs, 1, n_hid)
        return out[:, 0], h, weights[:, 0]

    def run(self, inp, h, enc_out, keys, mask, group=1):
        "inp (bs, L) → outputs (bs, L, n_hid), new h, attention (bs, L, sl): each step attends with the last state."
        outs, ws = [], []
        for j in range(inp.shape[1]):
            out, h, w = self.step(inp[:, j], h, enc_out, keys, mask, group)
            outs.append(out); ws.append(w)
        return torch.stack(outs, 1), h, torch.stack(ws, 1)


def make_decoder(c: Seq2SeqConfig, enc_out_sz):
    "The decoder of the configured attention order (without attention the two orders are the same model)."
    return BahdanauDecoder(c, enc_out_sz) if c.attention and not c.attend_after_rnn else LuongDecoder(c, enc_out_sz)


class Seq2SeqRNN(nn.Module):
    """Encoder–decoder with attention; `forward(src, tgt)` runs exactly tgt's length and returns logits. Callbacks set
    two attributes in training: `pr_force` (`TeacherForcing`) and `projection_dtype` (`ProjectionAutocast`)."""
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = make_decoder(config, self.encoder.out_sz)
        self.pr_force, self.projection_dtype, self.keep_attention, self.attention = 0., None, False, None
        self.reset_parameters()

    @classmethod
    def from_sizes(cls, src_vocab, tgt_vocab, **kwargs): return cls(Seq2SeqConfig(src_vocab, tgt_vocab, **kwargs))

    @property
    def has_attention(self): return self.decoder.attn is not None

    def reset_parameters(self):
        "Uniform ±init_range everywhere (as OpenNMT-py), padding embeddings zero."
        r = self.config.init_range
        for p in self.parameters(): nn.init.uniform_(p, -r, r)
        with torch.no_grad():
            for emb in (self.encoder.emb, self.decoder.emb): emb.weight[emb.padding_idx].zero_()

    def encode(self, src, src_lens=None):
        "Encoder outputs, decoder state, source mask and attention keys for src (bs, sl)."
        enc_out, h, mask = self.encoder(src, src_lens)
        keys = self.decoder.attn.project_keys(enc_out) if self.decoder.attn is not None else None
        return enc_out, h, mask, keys

    def _forcing_plan(self, n_steps, pr_force=None):
        "Per step, whether the next input is the reference token: sampled on the host, no device sync."
        p = pr_force if pr_force is not None else self.pr_force if self.training else 0.
        return [p >= 1 or (p > 0 and random.random() < p) for _ in range(n_steps)]

    def forward(self, src, tgt, src_lens=None, pr_force=None, project=True):
        """src (bs, sl), tgt (bs, tl), optional source lengths on the host → logits (bs, tl, vocab); with
        `project=False`, the step outputs after dropout (bs, tl, n_hid) that the projection would take, for a loss
        fused with it (`fastseq.fused`). Each step feeds the reference token with probability `pr_force` (default: the
        `pr_force` attribute that `TeacherForcing` sets in training, 0 in eval mode; 1 scores a given output). Steps
        run in segments: a segment ends at a step whose next input is the model's own guess, so forced steps share one
        GRU, attention and projection call, and only segment ends need an argmax."""
        enc_out, h, mask, keys = self.encode(src, src_lens)
        bs, tl = tgt.shape
        inp, dec, dtype = tgt.new_full((bs, 1), self.config.bos_idx), self.decoder, self.projection_dtype
        pieces, attns = [], []
        for start, end in forcing_segments(self._forcing_plan(tl, pr_force)):
            out, h, weights = dec.run(torch.cat([inp, tgt[:, start:end - 1]], 1), h, enc_out, keys, mask)
            pieces.append(dec.project(out, dtype) if project else dec.out_drop(out))  # (bs, L, vocab) or (bs, L, n_hid)
            if self.keep_attention and weights is not None: attns.append(weights)
            if end < tl: inp = self._guess(pieces[-1][:, -1:], project)
        self.attention = torch.cat(attns, 1) if attns else None               # (bs, tl, sl)
        return pieces[0] if len(pieces) == 1 else torch.cat(pieces, 1)

    def _guess(self, last, projected):
        """The model's own next input (bs, 1) from the last step's logits, or from its step output when not
        `projected`; `max` rather than `argmax`, slower over bf16 logits on a CPU (docs/performance.md). No gradient."""
        if projected: return last.max(-1).indices
        with torch.no_grad(): return self.decoder.logits(last, self.projection_dtype).max(-1).indices


class Ensemble(nn.Module):
    """Several `Seq2SeqRNN`s over the same vocabularies, decoded together by `fastseq.decode` (the mean of their
    per-step log-probabilities); any mix of sizes, cells and scorers."""
    def __init__(self, models):
        super().__init__()
        models = list(models)
        if len(models) < 2: raise ValueError(f"an ensemble needs at least two models, got {len(models)}")
        ids = lambda c: (c.src_vocab, c.tgt_vocab, c.pad_idx, c.bos_idx, c.eos_idx)
        for i, m in enumerate(models[1:], 1):
            if ids(m.config) != ids(models[0].config):
                c, c0 = m.config, models[0].config
                raise ValueError(f"ensemble model {i} has vocabularies of {c.src_vocab} and {c.tgt_vocab} tokens, "
                                 f"model 0 of {c0.src_vocab} and {c0.tgt_vocab}: an ensemble's models must share "
                                 f"their vocabularies")
        self.models = nn.ModuleList(models)

    @property
    def config(self): return self.models[0].config             # vocabulary sizes and special indices, shared

    @property
    def has_attention(self): return any(m.has_attention for m in self.models)


def forcing_segments(plan):
    "(start, end) step ranges: a range ends after each step whose next input is not forced, or at the last step."
    ends = [i + 1 for i, forced in enumerate(plan) if not forced and i + 1 < len(plan)] + [len(plan)]
    return list(zip([0] + ends[:-1], ends))
