"""Greedy decoding as a plain function over a `Seq2SeqRNN`, batched, stopping per sentence at eos."""
import torch

__all__ = ['max_output_lens', 'greedy_decode']


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
