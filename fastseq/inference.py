"""Translating raw texts (batching by length, truncation, detokenizing): `translate_texts`, and `Translator`, a model
with its text processing."""
import warnings
from typing import NamedTuple

import torch
from fastcore.basics import chunked

from .data import pad_batch
from .decode import decode_batch
from .model import Ensemble
from .placeholders import Protected, copy_unknown, is_placeholder, placeholder, protect, restore
from .precision import decoding_dtype
from .tokenize import TK_MAJ, TK_UP
from .sentences import split_sentences

__all__ = ['MAX_SRC_LEN', 'translate_texts', 'Attended', 'Translator']

MAX_SRC_LEN = 256  # longer inputs are cut (with a warning) so one pasted page cannot exhaust memory


def _truncated(ids, max_len):
    n_long = sum(len(s) > max_len for s in ids)
    if n_long: warnings.warn(f"translate: {n_long} input(s) longer than {max_len} tokens were truncated", stacklevel=2)
    return [s[:max_len] for s in ids]


def translate_texts(model, processor, texts, bs=64, beam=1, n_best=1, alpha=0.6, max_src_len=MAX_SRC_LEN,
                    with_attention=False, copy_unk=True, precision='auto', split=True, **decode_kwargs):
    """Translations of `texts` in input order ('' for empty inputs): strings, or with `n_best` > 1 lists of
    (text, score), or with `with_attention` `Attended` tuples (text, source and output tokens, attention). With
    `split` (the default; not with `n_best` > 1, which ranks whole texts), each text is cut into sentences
    (`split_sentences`), all sentences are decoded in the same batches, and each text's translations are put back
    between its separators; with attention, a text gives the list of its sentences' `Attended`. With `copy_unk` (and
    attention), an unknown output word becomes the source word it attends to most (in the best translation).
    `precision` of the vocabulary projection on a CPU: 'auto' (this CPU's choice, `resolve_precision`), 'fp32' or
    'bf16' (`decoding_dtype`)."""
    if beam < 1: raise ValueError(f"beam must be 1 (greedy) or more, got {beam}")
    if n_best > 1 and with_attention: raise ValueError("with_attention returns the best translation only: use n_best=1")
    texts = [str(t) for t in texts]
    if split and n_best == 1:
        return _by_sentence(model, processor, texts, with_attention, bs=bs, beam=beam, alpha=alpha,
                            max_src_len=max_src_len, copy_unk=copy_unk, precision=precision, **decode_kwargs)
    keep_attention = with_attention or (copy_unk and model.has_attention)
    protected = _protected(processor, texts, copy_unk and model.has_attention)
    src_toks, ids = processor.src_tokens_ids([p.text for p in protected])
    ids = _truncated(ids, max_src_len)
    empty = Attended('', [], [], None) if with_attention else ([] if n_best > 1 else '')
    results = [empty for _ in texts]
    order = sorted((i for i, s in enumerate(ids) if s), key=lambda i: -len(ids[i]))
    device, was_training, dtype = next(model.parameters()).device, model.training, decoding_dtype(model, precision)
    model.eval()
    try:
        for chunk in chunked(order, bs):
            src = pad_batch([ids[i] for i in chunk], processor.src_vocab.pad_idx).to(device)
            hyps, attn = decode_batch(model, src, beam, n_best, alpha, keep_attention, dtype=dtype, **decode_kwargs)
            for j, i in enumerate(chunk):
                copy_from = src_toks[i][:max_src_len] if copy_unk and attn is not None else None
                results[i] = _result(processor, hyps[j], attn, j, ids[i], with_attention, n_best, copy_from,
                                     protected[i].entities)
    finally: model.train(was_training)
    return results


def _by_sentence(model, processor, texts, with_attention, **kwargs):
    """`translate_texts` of every sentence of `texts` at once, put back together per text (or listed, with attention);
    a text without a sentence (blank) gives ''."""
    segmented = [split_sentences(t, processor.src_tok.lang) for t in texts]
    outs = iter(translate_texts(model, processor, [s for seg in segmented for s in seg.sentences],
                                with_attention=with_attention, split=False, **kwargs))
    per_text = [[next(outs) for _ in seg.sentences] for seg in segmented]
    return per_text if with_attention else [seg.join(t) if t else '' for seg, t in zip(segmented, per_text)]


class Attended(NamedTuple):
    """A translation with its attention: the text, the source tokens as the model saw them (unknown words as xxunk,
    truncated), the output tokens (eos included) and their weights (out_len, src_len), or None without attention."""
    text: str
    src_tokens: list
    out_tokens: list
    weights: torch.Tensor


def _protected(processor, texts, copying):
    """`texts` with their entities replaced by placeholders (`protect`) where the model can carry them (it copies
    through attention, and the source tokenizer keeps a placeholder one unknown word); else as they are."""
    words = [t for t in processor.src_tokens_ids([placeholder(0)])[0][0] if t not in (TK_MAJ, TK_UP)]
    keeps = copying and len(words) == 1 and is_placeholder(words[0]) and words[0] not in processor.src_vocab.stoi
    known = processor.src_vocab.stoi.__contains__
    return [protect(t, known) if keeps else Protected(t, []) for t in texts]


def _result(processor, hyps, attn, j, src_ids, with_attention, n_best, copy_from=None, entities=()):
    "The result of sentence `j` of a batch: text, n-best (text, score) list, or `Attended`; its entities restored."
    best = lambda toks: restore(_best_text(processor, toks, attn[j] if copy_from else None, copy_from), entities)
    if n_best > 1:
        return [(best(t) if r == 0 else restore(processor.tgt_text(t), entities), s) for r, (t, s) in enumerate(hyps)]
    toks = hyps[0][0]
    text = best(toks)
    if not with_attention: return text
    out = processor.tgt_vocab.until_eos(toks, keep_eos=True)
    weights = attn[j, :len(out), :len(src_ids)].cpu() if attn is not None else None
    return Attended(text, processor.src_vocab.textify(src_ids, strip_special=False),
                    processor.tgt_vocab.textify(out, strip_special=False), weights)


def _best_text(processor, toks, attn=None, src_tokens=None):
    """Text of target ids up to eos; given the attention (out_len, src_len) and the source tokens, unknown words are
    copied from the source (`copy_unknown`)."""
    words = processor.tgt_words(toks)
    if attn is not None and src_tokens is not None:
        unknown = [i == processor.src_vocab.unk_idx for i in processor.src_vocab.numericalize(src_tokens)]
        placeholders = [k for k, t in enumerate(src_tokens) if is_placeholder(t)]
        words = copy_unknown(words, attn, src_tokens, unknown, placeholders)
    return processor.tgt_tok.detokenize(words)


class Translator:
    """A model with its tokenizers and vocabularies (saved and loaded as a pickle-free bundle by `fastseq.bundle`).
    `copy_unk` and `precision` are the defaults of `translate` (`translate_texts`); `trained_in` records the precision
    the model was trained in ('fp32', 'bf16', 'fp16'; None where unknown)."""
    def __init__(self, model, processor, copy_unk=True, precision='auto', trained_in=None):
        self.model, self.processor, self.float_model = model, processor, None
        self.copy_unk, self.precision, self.trained_in = copy_unk, precision, trained_in

    @property
    def int8(self): return self.float_model is not None

    def quantize(self):
        """Decode with int8 weights in every `Linear`, `GRU` and `LSTM` (PyTorch's dynamic quantisation, on the CPU):
        faster CPU inference for a small loss (docs/performance.md). The float model is kept for `save`, and the
        bundle records the choice, so `load_bundle` quantizes again."""
        if self.int8: return self
        if next(self.model.parameters()).device.type != 'cpu':
            raise ValueError("int8 inference runs on the CPU: load the model with device='cpu'")
        self.float_model, self.model = self.model, _int8(self.model.eval())
        return self

    def translate(self, texts, beam=1, bs=64, **kwargs):
        "Translations of a string or a list of strings, split into sentences unless `split=False` (`translate_texts`)."
        single = isinstance(texts, str)
        kwargs.setdefault('copy_unk', self.copy_unk)
        kwargs.setdefault('precision', self.precision)
        out = translate_texts(self.model, self.processor, [texts] if single else texts, bs=bs, beam=beam, **kwargs)
        return out[0] if single else out

    @classmethod
    def ensemble(cls, translators, names=None):
        """One translator decoding with several (`Ensemble`): the first's text processing, every one's model; their
        vocabularies must be the same (an error names the first that differs)."""
        translators = list(translators)
        names = list(names or (f"translator {i}" for i in range(len(translators))))
        first = translators[0].processor
        for t, name in zip(translators[1:], names[1:]):
            for side in ('src', 'tgt'):
                if getattr(t.processor, f'{side}_vocab') != getattr(first, f'{side}_vocab'):
                    raise ValueError(f"{name}'s {side} vocabulary differs from {names[0]}'s: an ensemble's models must "
                                     f"share their vocabularies (train them on the same corpus and options)")
        return cls(Ensemble([t.model for t in translators]), first, copy_unk=translators[0].copy_unk)


def _int8(model):
    """A copy of `model` with int8 `Linear`, `GRU` and `LSTM` layers. PyTorch marks `torch.ao.quantization`
    deprecated in favour of torchao, and warns on every use; it still runs (docs/design.md), so the warnings are not
    passed on."""
    from torch import nn
    try: from torch.ao.quantization import quantize_dynamic
    except ImportError: raise ValueError("int8 inference needs torch.ao.quantization.quantize_dynamic, which this "
                                         "PyTorch does not have") from None
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='torch.quantize_per_tensor')
        warnings.filterwarnings('ignore', message='torch.ao.quantization is deprecated')
        return quantize_dynamic(model, {nn.Linear, nn.GRU, nn.LSTM})
