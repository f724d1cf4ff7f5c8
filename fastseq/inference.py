"""Translating raw texts with a model and its `TextProcessor`: batching by length, truncation, detokenizing."""
import warnings

from fastcore.basics import chunked

from .data import pad_batch
from .decode import greedy_decode

__all__ = ['MAX_SRC_LEN', 'translate_texts']

MAX_SRC_LEN = 256  # longer inputs are cut (with a warning) so one pasted page cannot exhaust memory


def _truncated(ids, max_len):
    n_long = sum(len(s) > max_len for s in ids)
    if n_long: warnings.warn(f"translate: {n_long} input(s) longer than {max_len} tokens were truncated", stacklevel=2)
    return [s[:max_len] for s in ids]


def translate_texts(model, processor, texts, bs=64, max_src_len=MAX_SRC_LEN, with_attention=False, **decode_kwargs):
    "Translations of `texts` in input order; empty inputs give ''; with_attention adds (tokens, attention)."
    texts = [str(t) for t in texts]
    ids = _truncated(processor.src_ids(texts), max_src_len)
    results = [('', [], None) if with_attention else '' for _ in texts]
    order = sorted((i for i, s in enumerate(ids) if s), key=lambda i: -len(ids[i]))
    device, was_training = next(model.parameters()).device, model.training
    model.eval()
    try:
        for chunk in chunked(order, bs):
            src = pad_batch([ids[i] for i in chunk], processor.src_vocab.pad_idx).to(device)
            toks, attn = greedy_decode(model, src, keep_attention=with_attention, **decode_kwargs)
            for j, i in enumerate(chunk): results[i] = _result(processor, toks[j], attn, j, len(ids[i]), with_attention)
    finally: model.train(was_training)
    return results


def _result(processor, toks, attn, j, src_len, with_attention):
    text = processor.tgt_text(toks.tolist())
    if not with_attention: return text
    out_toks = processor.tgt_vocab.textify(toks.tolist(), strip_special=False)
    n = out_toks.index('xxeos') + 1 if 'xxeos' in out_toks else len(out_toks)
    return text, out_toks[:n], attn[j, :n, :src_len].cpu() if attn is not None else None
