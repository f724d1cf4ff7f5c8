"""Translating raw texts (batching by length, truncation, detokenizing) and the pickle-free `Translator` bundle."""
import json
import warnings

from fastcore.basics import chunked
from fastcore.xtras import Path

from .version import __version__
from .data import TextProcessor, pad_batch
from .decode import beam_search, greedy_decode
from .errors import ModelFileError
from .io import atomic_path
from .model import Ensemble, Seq2SeqConfig, Seq2SeqRNN
from .precision import decoding_dtype, projection_in
from .subword import SubwordTokenizer, tokenizer_from_meta, tokenizer_meta
from .vocab import Vocab

__all__ = ['MAX_SRC_LEN', 'translate_texts', 'decode_batch', 'Translator', 'load_translator', 'load_ensemble']

MAX_SRC_LEN = 256  # longer inputs are cut (with a warning) so one pasted page cannot exhaust memory


def _truncated(ids, max_len):
    n_long = sum(len(s) > max_len for s in ids)
    if n_long: warnings.warn(f"translate: {n_long} input(s) longer than {max_len} tokens were truncated", stacklevel=2)
    return [s[:max_len] for s in ids]


def translate_texts(model, processor, texts, bs=64, beam=1, n_best=1, alpha=0.6, max_src_len=MAX_SRC_LEN,
                    with_attention=False, copy_unk=True, precision='auto', **decode_kwargs):
    """Translations of `texts` in input order ('' for empty inputs): strings, or with `n_best` > 1 lists of
    (text, score), or with `with_attention` (text, output tokens, attention (out_len, src_len)) triples. With
    `copy_unk` (and attention), an unknown output word becomes the source word it attends to most (in the best
    translation). `precision` of the vocabulary projection on a CPU: 'auto' (bf16 where it measures faster), 'fp32' or
    'bf16' (`decoding_dtype`)."""
    if beam < 1: raise ValueError(f"beam must be 1 (greedy) or more, got {beam}")
    if n_best > 1 and with_attention: raise ValueError("with_attention returns the best translation only: use n_best=1")
    texts = [str(t) for t in texts]
    src_toks, ids = processor.src_tokens_ids(texts)
    ids = _truncated(ids, max_src_len)
    keep_attention = with_attention or (copy_unk and model.has_attention)
    empty = ('', [], None) if with_attention else ([] if n_best > 1 else '')
    results = [empty for _ in texts]
    order = sorted((i for i, s in enumerate(ids) if s), key=lambda i: -len(ids[i]))
    device, was_training, dtype = next(model.parameters()).device, model.training, decoding_dtype(model, precision)
    model.eval()
    try:
        with projection_in(dtype):
            for chunk in chunked(order, bs):
                src = pad_batch([ids[i] for i in chunk], processor.src_vocab.pad_idx).to(device)
                hyps, attn = decode_batch(model, src, beam, n_best, alpha, keep_attention, **decode_kwargs)
                for j, i in enumerate(chunk):
                    copy_from = src_toks[i][:max_src_len] if copy_unk and attn is not None else None
                    results[i] = _result(processor, hyps[j], attn, j, len(ids[i]), with_attention, n_best, copy_from)
    finally: model.train(was_training)
    return results


def decode_batch(model, src, beam=1, n_best=1, alpha=0.6, keep_attention=False, **kwargs):
    "Per sentence of src (bs, sl) a list of (tokens, score or None), and attention (bs, T, sl) when kept."
    if beam == 1:
        toks, attn = greedy_decode(model, src, keep_attention=keep_attention, **kwargs)
        return [[(t, None)] for t in toks.tolist()], attn
    return beam_search(model, src, beam, alpha, n_best, keep_attention=keep_attention, **kwargs)


def _result(processor, hyps, attn, j, src_len, with_attention, n_best, copy_from=None):
    best = lambda toks: processor.tgt_text(toks, attn[j] if copy_from else None, copy_from)
    if n_best > 1: return [(best(t) if r == 0 else processor.tgt_text(t), s) for r, (t, s) in enumerate(hyps)]
    toks = hyps[0][0]
    text = best(toks)
    if not with_attention: return text
    vocab = processor.tgt_vocab
    n = toks.index(vocab.eos_idx) + 1 if vocab.eos_idx in toks else sum(t != vocab.pad_idx for t in toks)
    return text, vocab.textify(toks[:n], strip_special=False), attn[j, :n, :src_len].cpu() if attn is not None else None


BUNDLE_FORMAT, BUNDLE_VERSION = 'fastseq-translator', 1
SUBWORD_VERSION = 2  # bundles with SentencePiece models: older readers would tokenize them as words
CONFIG_FILE, WEIGHTS_FILE = 'translator.json', 'model.safetensors'


class Translator:
    """A model with its tokenizers and vocabularies; saved and loaded as a pickle-free bundle (safetensors + JSON).
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
        bundle records the choice, so `Translator.load` quantizes again."""
        if self.int8: return self
        if next(self.model.parameters()).device.type != 'cpu':
            raise ValueError("int8 inference runs on the CPU: load the model with device='cpu'")
        self.float_model, self.model = self.model, _int8(self.model.eval())
        return self

    def translate(self, texts, beam=1, bs=64, **kwargs):
        "Translations of a string or a list of strings; the same options as `Seq2SeqLearner.translate`."
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

    def save(self, path):
        "Write `model.safetensors` and `translator.json` into the folder `path`, each atomically."
        from safetensors.torch import save_model
        if isinstance(self.model, Ensemble): raise ValueError("an ensemble is saved as its members' bundles, not one")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        with atomic_path(path / WEIGHTS_FILE) as tmp: save_model(self.float_model or self.model, str(tmp))
        meta = json.dumps(_bundle_meta(self), ensure_ascii=False)
        with atomic_path(path / CONFIG_FILE) as tmp: tmp.write_text(meta, encoding='utf-8')
        return path

    @classmethod
    def load(cls, path, device='cpu'):
        "Rebuild the model and its text processing from a bundle folder; nothing is unpickled."
        path = Path(path)
        meta = _read_meta(path)
        proc = TextProcessor(*(tokenizer_from_meta(meta[s]) for s in ('src', 'tgt')),
                             *(Vocab(meta[s]['itos']) for s in ('src', 'tgt')))
        config = Seq2SeqConfig(**{'attend_after_rnn': False, **meta['config']})  # older bundles: the lesson's order
        if (config.src_vocab, config.tgt_vocab) != (len(proc.src_vocab), len(proc.tgt_vocab)):
            raise ModelFileError(f"{path / CONFIG_FILE}: the model expects vocabularies of {config.src_vocab} and "
                                 f"{config.tgt_vocab} tokens, the bundle holds {len(proc.src_vocab)} and "
                                 f"{len(proc.tgt_vocab)}")
        model = _load_weights(Seq2SeqRNN(config), path / WEIGHTS_FILE).to(device).eval()
        translator = cls(model, proc, trained_in=meta.get('trained_in'))
        return translator.quantize() if meta.get('int8') else translator


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


def _bundle_meta(t):
    p = t.processor
    side = lambda tok, vocab: {**tokenizer_meta(tok), 'itos': vocab.itos}
    subword = any(isinstance(tok, SubwordTokenizer) for tok in (p.src_tok, p.tgt_tok))
    return {'format': BUNDLE_FORMAT, 'format_version': SUBWORD_VERSION if subword else BUNDLE_VERSION,
            'fastseq_version': __version__,
            'config': t.model.config.to_dict(), 'src': side(p.src_tok, p.src_vocab),
            'tgt': side(p.tgt_tok, p.tgt_vocab), 'int8': t.int8, 'trained_in': t.trained_in}


def _read_meta(path):
    "The bundle's JSON, checked for format and version, with errors naming the file."
    if not path.is_dir(): raise FileNotFoundError(f"translator bundle folder not found: {path}")
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (path / name).is_file(): raise ModelFileError(f"{path} is not a complete bundle: {name} is missing")
    try: meta = json.loads((path / CONFIG_FILE).read_text(encoding='utf-8'))
    except ValueError as e: raise ModelFileError(f"{path / CONFIG_FILE} is not valid JSON: {e}") from None
    if not isinstance(meta, dict) or meta.get('format') != BUNDLE_FORMAT:
        raise ModelFileError(f"{path / CONFIG_FILE} is not a fastseq translator bundle")
    if meta.get('format_version') not in (BUNDLE_VERSION, SUBWORD_VERSION):
        raise ModelFileError(f"{path / CONFIG_FILE} has bundle format version {meta.get('format_version')} (written by "
                             f"fastseq {meta.get('fastseq_version')}); this fastseq {__version__} reads versions "
                             f"{BUNDLE_VERSION} and {SUBWORD_VERSION}")
    return meta


def _load_weights(model, path):
    from safetensors.torch import load_model
    try: load_model(model, str(path))
    except Exception as e:  # safetensors raises several types for corrupt or mismatched files
        raise ModelFileError(f"{path}: cannot load the weights ({type(e).__name__}: {e})") from None
    return model


def load_translator(path, device='cpu', int8=False):
    """A bundle folder as a `Translator`, or a learner exported by `learn.export` (a pickle: loading it can run code,
    so load only exports you trust); clear errors for missing or unreadable files. Both have `translate`. With `int8`,
    always a quantized `Translator` (`Translator.quantize`)."""
    path = Path(path)
    if int8 and device != 'cpu': raise ValueError(f"int8 inference runs on the CPU, not on {device}")
    if int8:
        model = load_translator(path, device)
        return (model.translator() if hasattr(model, 'translator') else model).quantize()
    if path.is_dir(): return Translator.load(path, device)
    if not path.is_file(): raise FileNotFoundError(f"model file not found: {path}")
    from fastai.learner import load_learner
    try:
        with warnings.catch_warnings():  # fastai warns that exports are pickles; the caller named this file
            warnings.filterwarnings('ignore', message='load_learner` uses Python')
            learn = load_learner(path, cpu=(device == 'cpu'))
    except Exception as e:
        raise ModelFileError(f"{path} is not a fastseq learner export ({type(e).__name__}: {e})") from None
    if not hasattr(learn, 'translate'): raise ModelFileError(f"{path} holds a fastai learner, not a fastseq one")
    if device != 'cpu': learn.model.to(device)
    return learn


def load_ensemble(paths, device='cpu', int8=False):
    """One `Translator` decoding with every model in `paths` (bundles or exports, as `load_translator` reads them);
    a single path is that model alone."""
    translators = [_translator(load_translator(p, device, int8)) for p in paths]
    if len(translators) == 1: return translators[0]
    return Translator.ensemble(translators, names=[str(p) for p in paths])


def _translator(model): return model.translator() if hasattr(model, 'translator') else model
