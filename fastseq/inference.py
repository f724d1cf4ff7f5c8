"""Translating raw texts (sentence by sentence, entities protected, casual input normalised, batching by length,
truncation, detokenizing): `translate_texts`, and `Translator`, a model with its text processing."""
import warnings
from typing import NamedTuple

import torch
from fastcore.basics import chunked

from .casual import Casual, add_accents, normalize_casual, restore_style
from .data import pad_batch
from .decode import decode_batch
from .model import Ensemble
from .placeholders import Protected, copy_unknown, is_placeholder, placeholder, protect, required_positions, restore
from .precision import decoding_dtype
from .sentences import split_sentences
from .tokenize import TK_MAJ, TK_UP
from .vocab import EOS, UNK

__all__ = ['MAX_SRC_LEN', 'translate_texts', 'Info', 'Attended', 'Translator']

MAX_SRC_LEN = 256  # longer inputs are cut (with a warning) so one pasted page cannot exhaust memory


def _truncated(ids, max_len):
    n_long = sum(len(s) > max_len for s in ids)
    if n_long: warnings.warn(f"translate: {n_long} input(s) longer than {max_len} tokens were truncated", stacklevel=2)
    return [s[:max_len] for s in ids]


def translate_texts(model, processor, texts, bs=64, beam=1, n_best=1, alpha=0.6, max_src_len=MAX_SRC_LEN,
                    with_attention=False, copy_unk=True, precision='auto', split=True, casual=True,
                    casual_learnt=False, return_info=False, shortlist=None, **decode_kwargs):
    """Translations of `texts` in input order ('' for empty inputs): strings, or with `n_best` > 1 lists of
    (text, score), or with `with_attention` `Attended` tuples, or with `return_info` (text, `Info`) pairs. With
    `split` (the default; not with `n_best` > 1, which ranks whole texts), each text is cut into sentences
    (`split_sentences`), all sentences are decoded in the same batches, and each text's translations are put back
    between its separators; with attention, a text gives the list of its sentences' `Attended`. With `copy_unk` (and
    attention), entities come out verbatim (`fastseq.placeholders`) and an unknown output word becomes the source word
    it attends to most (in the best translation). With `casual`, input in capitals, without its first capital or final
    punctuation, or without accents is translated as if typed with care, and the translation given its style back
    (`fastseq.casual`); a model that learnt casual typing (`casual_learnt`) is left lower case and missing final
    punctuation, which it translates better as typed (docs/results.md). With `shortlist` (a `LexicalShortlist`), each
    batch is decoded over the target words it gives for the batch's source words alone (`fastseq.lexical`).
    `precision` of the vocabulary projection on a CPU: 'auto' (this CPU's choice, `resolve_precision`), 'fp32' or
    'bf16' (`decoding_dtype`)."""
    if beam < 1: raise ValueError(f"beam must be 1 (greedy) or more, got {beam}")
    if n_best > 1 and (with_attention or return_info):
        raise ValueError("with_attention and return_info describe the best translation only: use n_best=1")
    if with_attention and return_info: raise ValueError("use with_attention or return_info, not both")
    texts = [str(t) for t in texts]
    if split and n_best == 1:
        return _by_sentence(model, processor, texts, with_attention, return_info, bs=bs, beam=beam, alpha=alpha,
                            max_src_len=max_src_len, copy_unk=copy_unk, precision=precision, casual=casual,
                            casual_learnt=casual_learnt, shortlist=shortlist, **decode_kwargs)
    casual = casual and ('capitals' if casual_learnt else 'all')
    sources = _sources(processor, texts, copy_unk and model.has_attention, casual, max_src_len)
    results = [_empty(with_attention, n_best) for _ in texts]
    order = sorted((i for i, s in enumerate(sources) if s.ids), key=lambda i: -len(sources[i].ids))
    keep_attention = with_attention or (copy_unk and model.has_attention)
    device, was_training, dtype = next(model.parameters()).device, model.training, decoding_dtype(model, precision)
    model.eval()
    try:
        for chunk in chunked(order, bs):
            src = pad_batch([sources[i].ids for i in chunk], processor.src_vocab.pad_idx).to(device)
            rows = None if shortlist is None else shortlist.rows(src)
            hyps, attn = decode_batch(model, src, beam, n_best, alpha, keep_attention, dtype=dtype, rows=rows,
                                      **decode_kwargs)
            for j, i in enumerate(chunk):
                results[i] = _result(processor, hyps[j], attn, j, sources[i], with_attention, n_best, copy_unk)
    finally: model.train(was_training)
    return [(t, _info(text, t, s)) for text, t, s in zip(texts, results, sources)] if return_info else results


class Info(NamedTuple):
    """What a translation may have lost: the `sentences` decoded, the indices of those translated into far fewer words
    than their source has (`too_short`: under `SHORT_RATIO` of them, from `SHORT_MIN_WORDS` source words), and
    whether a sentence was cut at `max_src_len` tokens (`truncated`)."""
    sentences: int
    too_short: list
    truncated: bool

    @property
    def ok(self): return not self.too_short and not self.truncated


SHORT_RATIO, SHORT_MIN_WORDS = 0.5, 4   # a sound French→English translation has about 0.9 words per source word


def _info(text, translation, source):
    "The `Info` of one sentence's translation."
    n_src = len(text.split())
    short = n_src >= SHORT_MIN_WORDS and len(translation.split()) < SHORT_RATIO * n_src
    return Info(int(bool(source.ids)), [0] if short else [], source.truncated)


def _by_sentence(model, processor, texts, with_attention, return_info, **kwargs):
    """`translate_texts` of every sentence of `texts` at once, put back together per text (or listed, with attention;
    with `return_info`, with the text's `Info`); a text without a sentence (blank) gives ''."""
    segmented = [split_sentences(t, processor.src_tok.lang) for t in texts]
    outs = iter(translate_texts(model, processor, [s for seg in segmented for s in seg.sentences],
                                with_attention=with_attention, return_info=return_info, split=False, **kwargs))
    per_text = [[next(outs) for _ in seg.sentences] for seg in segmented]
    if with_attention: return per_text
    if not return_info: return [seg.join(t) if t else '' for seg, t in zip(segmented, per_text)]
    return [(seg.join([t for t, _ in outs]) if outs else '',
             Info(len(outs), [k for k, (_, info) in enumerate(outs) if info.too_short],
                  any(info.truncated for _, info in outs))) for seg, outs in zip(segmented, per_text)]


class Attended(NamedTuple):
    """A translation with its attention: the text, the source tokens as the model saw them (unknown words as xxunk,
    truncated), the output tokens (eos included) and their weights (out_len, src_len), or None without attention;
    `src_words` and `out_words`, per token, the word as the user wrote it and as the translation prints it (unknown
    words and entities as themselves, case applied), None at case markers and eos."""
    text: str
    src_tokens: list
    out_tokens: list
    weights: torch.Tensor
    src_words: list = None
    out_words: list = None


class _Source(NamedTuple):
    """One text as decoded: its ids, its tokens as tokenized (unknown words as written), its entities, its `Casual`
    style, and whether it was cut at `max_src_len` tokens."""
    ids: list
    tokens: list
    entities: list
    style: Casual
    truncated: bool

    def restore(self, translation): return restore(restore_style(translation, self.style), self.entities)


def _sources(processor, texts, copying, casual, max_src_len):
    "The `_Source` of each text (`_prepared`, tokenized, cut at `max_src_len` tokens with a warning)."
    protected, styles = _prepared(processor, texts, copying, casual)
    toks, ids = processor.src_tokens_ids([c.text for c in styles])
    cut = _truncated(ids, max_src_len)
    return [_Source(c, t[:max_src_len], p.entities, style, len(i) > max_src_len)
            for p, style, t, i, c in zip(protected, styles, toks, ids, cut)]


def _empty(with_attention, n_best):
    return Attended('', [], [], None, [], []) if with_attention else ([] if n_best > 1 else '')


def _prepared(processor, texts, copying, casual):
    """`texts` as the model gets them: accents added (with `casual`), entities replaced by placeholders (`protect`)
    where the model can carry them (it copies through attention, and the source tokenizer keeps a placeholder one
    unknown word), then in sentence case (with `casual`), with a first capital and final punctuation (with `casual`
    'all'); as `Protected` and `Casual` lists."""
    words = [t for t in processor.src_tokens_ids([placeholder(0)])[0][0] if t not in (TK_MAJ, TK_UP)]
    keeps = copying and len(words) == 1 and is_placeholder(words[0]) and words[0] not in processor.src_vocab.stoi
    known = processor.src_vocab.knows
    if casual:
        texts = [add_accents(t, known, processor.src_accents()) for t in texts]
    protected = [protect(t, known) if keeps else Protected(t, []) for t in texts]
    return protected, [normalize_casual(p.text, casual == 'all') if casual else Casual(p.text) for p in protected]


def _result(processor, hyps, attn, j, source, with_attention, n_best, copy_unk):
    """The result of sentence `j` of a batch: text, n-best (text, score) list, or `Attended`, with its input's style
    and entities back."""
    copy_from = source.tokens if copy_unk and attn is not None else None
    best = lambda toks: source.restore(_best_text(processor, toks, attn[j] if copy_from else None, copy_from))
    if n_best > 1:
        return [(best(t) if r == 0 else source.restore(processor.tgt_text(t)), s) for r, (t, s) in enumerate(hyps)]
    toks = hyps[0][0]
    text = best(toks)
    if not with_attention: return text
    out = processor.tgt_vocab.until_eos(toks, keep_eos=True)
    weights = attn[j, :len(out), :len(source.ids)].cpu() if attn is not None else None
    out_tokens = processor.tgt_vocab.textify(out, strip_special=False)
    copied = out_tokens if weights is None else [
        _attended_word(source.tokens, int(w.argmax())) if t == UNK else t for t, w in zip(out_tokens, weights)]
    return Attended(text, processor.src_vocab.textify(source.ids, strip_special=False), out_tokens, weights,
                    _printed(source.tokens, source.entities), _printed(copied, source.entities))


def _attended_word(tokens, j):
    "The source word at position `j`, or after it where `j` is its case marker."
    return tokens[j + 1] if tokens[j] in (TK_MAJ, TK_UP) and j + 1 < len(tokens) else tokens[j]


def _printed(tokens, entities):
    "Per token, the word it prints as: its case marker applied, a placeholder its entity; None at markers and eos."
    words, mark = [], None
    for t in tokens:
        if t in (TK_MAJ, TK_UP, EOS): words.append(None); mark = t; continue
        word = t.upper() if mark == TK_UP else (t[:1].upper() + t[1:] if mark == TK_MAJ else t)
        words.append(restore(word, entities)); mark = None
    return words


def _best_text(processor, toks, attn=None, src_tokens=None):
    """Text of target ids up to eos; given the attention (out_len, src_len) and the source tokens, unknown words are
    copied from the source (`copy_unknown`), and those it must carry (`required_positions`) are never left out."""
    words = processor.tgt_words(toks)
    if attn is not None and src_tokens is not None:
        unknown = [i == processor.src_vocab.unk_idx for i in processor.src_vocab.numericalize(src_tokens)]
        words = copy_unknown(words, attn, src_tokens, unknown, required_positions(src_tokens, unknown))
    return processor.tgt_tok.detokenize(words)


class Translator:
    """A model with its tokenizers and vocabularies (saved and loaded as a pickle-free bundle by `fastseq.bundle`).
    `copy_unk` and `precision` are the defaults of `translate` (`translate_texts`); `casual_learnt`, whether the model
    was trained on pairs retyped as people type, is passed to it; `trained_in` records the precision
    the model was trained in ('fp32', 'bf16', 'fp16'; None where unknown), `recipe` the recipe `train` chose;
    `shortlist` the `LexicalShortlist` of its training pairs, which `translate` decodes over unless told
    `shortlist=None` (None: the whole vocabulary); `beam` the beam `translate` uses unless told (1: greedy; `distill`
    chooses it for a student by measuring both, `decoding_beam`)."""
    def __init__(self, model, processor, copy_unk=True, precision='auto', trained_in=None, casual_learnt=False,
                 recipe=None, shortlist=None, beam=1):
        self.model, self.processor, self.float_model = model, processor, None
        self.copy_unk, self.precision, self.trained_in = copy_unk, precision, trained_in
        self.casual_learnt, self.recipe, self.shortlist, self.beam = casual_learnt, recipe, shortlist, beam

    @property
    def int8(self): return self.float_model is not None

    def quantize(self):
        """Decode with int8 weights in every `GRU`, `LSTM` and `Linear` of more than one output (PyTorch's dynamic
        quantisation, on the CPU): faster CPU inference for a small loss (docs/performance.md). The float model is
        kept for `save`, and the bundle records the choice, so `load_bundle` quantizes again."""
        if self.int8: return self
        if next(self.model.parameters()).device.type != 'cpu':
            raise ValueError("int8 inference runs on the CPU: load the model with device='cpu'")
        self.float_model, self.model = self.model, _int8(self.model.eval())
        return self

    def translate(self, texts, beam=None, bs=64, **kwargs):
        """Translations of a string or a list of strings, split into sentences unless `split=False` (`translate_texts`),
        at `beam` (default: the translator's own)."""
        single = isinstance(texts, str)
        beam = self.beam if beam is None else beam
        kwargs.setdefault('copy_unk', self.copy_unk)
        kwargs.setdefault('precision', self.precision)
        kwargs.setdefault('casual_learnt', self.casual_learnt)
        kwargs.setdefault('shortlist', self.shortlist)
        out = translate_texts(self.model, self.processor, [texts] if single else texts, bs=bs, beam=beam, **kwargs)
        return out[0] if single else out

    @classmethod
    def ensemble(cls, translators, names=None):
        """One translator decoding with several (`Ensemble`): the first's text processing, shortlist and beam, every
        one's model; their vocabularies must be the same (an error names the first that differs)."""
        translators = list(translators)
        names = list(names or (f"translator {i}" for i in range(len(translators))))
        first = translators[0].processor
        for t, name in zip(translators[1:], names[1:]):
            for side in ('src', 'tgt'):
                if getattr(t.processor, f'{side}_vocab') != getattr(first, f'{side}_vocab'):
                    raise ValueError(f"{name}'s {side} vocabulary differs from {names[0]}'s: an ensemble's models must "
                                     f"share their vocabularies (train them on the same corpus and options; --seed may "
                                     f"differ, not --data-seed)")
        return cls(Ensemble([t.model for t in translators]), first, copy_unk=translators[0].copy_unk,
                   casual_learnt=all(t.casual_learnt for t in translators), shortlist=translators[0].shortlist,
                   beam=translators[0].beam)


def _int8(model):
    """A copy of `model` with int8 `GRU`, `LSTM` and `Linear` layers, but those of one output (the additive attention's
    scorer, which runs three times faster in fp32 than quantized at every step: docs/performance.md). PyTorch marks
    `torch.ao.quantization` deprecated in favour of torchao, and warns on every use; it still runs (docs/design.md),
    so the warnings are not passed on."""
    from torch import nn
    try: from torch.ao.quantization import quantize_dynamic
    except ImportError: raise ValueError("int8 inference needs torch.ao.quantization.quantize_dynamic, which this "
                                         "PyTorch does not have") from None
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='torch.quantize_per_tensor')
        warnings.filterwarnings('ignore', message='torch.ao.quantization is deprecated')
        return quantize_dynamic(model, {name for name, m in model.named_modules() if isinstance(m, (nn.GRU, nn.LSTM))
                                        or isinstance(m, nn.Linear) and m.out_features > 1})
