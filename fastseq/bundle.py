"""The pickle-free bundle (a folder: safetensors weights + JSON config, tokenizers and vocabularies), and the one loader
of models: a bundle or a learner export, always as a `Translator`."""
import json
import warnings

from fastcore.xtras import Path

from .data import TextProcessor
from .errors import ModelFileError
from .inference import Translator
from .io import atomic_path
from .lexical import LexicalShortlist
from .model import Ensemble, Seq2SeqConfig, Seq2SeqRNN
from .tokenize import tokenizer_from_meta
from .version import __version__
from .vocab import Vocab

__all__ = ['BUNDLE_FORMAT', 'BUNDLE_VERSION', 'CONFIG_FILE', 'WEIGHTS_FILE', 'SHORTLIST_FILE', 'save_bundle',
           'load_bundle', 'load_translator', 'load_ensemble']

BUNDLE_FORMAT, BUNDLE_VERSION = 'fastseq-translator', 2
CONFIG_FILE, WEIGHTS_FILE = 'translator.json', 'model.safetensors'
SHORTLIST_FILE = 'shortlist.safetensors'   # the lexical shortlist, where the model has one


def save_bundle(translator, path):
    """Write `model.safetensors`, `translator.json` and, where it has one, `shortlist.safetensors` (its lexical
    shortlist) of `translator` into the folder `path`, each atomically."""
    from safetensors.torch import save_file, save_model
    if isinstance(translator.model, Ensemble): raise ValueError("an ensemble is saved as its members' bundles, not one")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with atomic_path(path / WEIGHTS_FILE) as tmp: save_model(translator.float_model or translator.model, str(tmp))
    if translator.shortlist is not None:
        with atomic_path(path / SHORTLIST_FILE) as tmp: save_file(translator.shortlist.tensors(), str(tmp))
    elif (path / SHORTLIST_FILE).exists(): (path / SHORTLIST_FILE).unlink()       # another model's, overwritten
    meta = json.dumps(_bundle_meta(translator), ensure_ascii=False)
    with atomic_path(path / CONFIG_FILE) as tmp: tmp.write_text(meta, encoding='utf-8')
    return path


def load_bundle(path, device='cpu'):
    "The `Translator` of a bundle folder: the model and its text processing rebuilt; nothing is unpickled."
    path = Path(path)
    meta = _read_meta(path)
    proc = TextProcessor(*(tokenizer_from_meta(meta[s]) for s in ('src', 'tgt')),
                         *(Vocab(meta[s]['itos']) for s in ('src', 'tgt')))
    config = Seq2SeqConfig(**meta['config'])
    if (config.src_vocab, config.tgt_vocab) != (len(proc.src_vocab), len(proc.tgt_vocab)):
        raise ModelFileError(f"{path / CONFIG_FILE}: the model expects vocabularies of {config.src_vocab} and "
                             f"{config.tgt_vocab} tokens, the bundle holds {len(proc.src_vocab)} and "
                             f"{len(proc.tgt_vocab)}")
    model = _load_weights(Seq2SeqRNN(config), path / WEIGHTS_FILE).to(device).eval()
    translator = Translator(model, proc, trained_in=meta.get('trained_in'),
                            casual_learnt=meta.get('casual_learnt', False), recipe=meta.get('recipe'),
                            shortlist=_load_shortlist(path / SHORTLIST_FILE, config), beam=meta.get('beam', 1))
    return translator.quantize() if meta.get('int8') else translator


def _bundle_meta(t):
    p = t.processor
    side = lambda tok, vocab: {**tok.to_meta(), 'itos': vocab.itos}
    return {'format': BUNDLE_FORMAT, 'format_version': BUNDLE_VERSION, 'fastseq_version': __version__,
            'config': t.model.config.to_dict(), 'src': side(p.src_tok, p.src_vocab),
            'tgt': side(p.tgt_tok, p.tgt_vocab), 'int8': t.int8, 'trained_in': t.trained_in,
            'casual_learnt': t.casual_learnt, 'recipe': t.recipe, 'beam': t.beam}


def _read_meta(path):
    "The bundle's JSON, checked for format and version, with errors naming the file."
    if not path.is_dir(): raise FileNotFoundError(f"translator bundle folder not found: {path}")
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (path / name).is_file(): raise ModelFileError(f"{path} is not a complete bundle: {name} is missing")
    try: meta = json.loads((path / CONFIG_FILE).read_text(encoding='utf-8'))
    except ValueError as e: raise ModelFileError(f"{path / CONFIG_FILE} is not valid JSON: {e}") from None
    if not isinstance(meta, dict) or meta.get('format') != BUNDLE_FORMAT:
        raise ModelFileError(f"{path / CONFIG_FILE} is not a fastseq translator bundle")
    if meta.get('format_version') != BUNDLE_VERSION:
        raise ModelFileError(f"{path / CONFIG_FILE} has bundle format version {meta.get('format_version')} (written by "
                             f"fastseq {meta.get('fastseq_version')}); this fastseq {__version__} reads version "
                             f"{BUNDLE_VERSION}")
    return meta


def _load_weights(model, path):
    from safetensors.torch import load_model
    try: load_model(model, str(path))
    except Exception as e:  # safetensors raises several types for corrupt or mismatched files
        raise ModelFileError(f"{path}: cannot load the weights ({type(e).__name__}: {e})") from None
    return model


def _load_shortlist(path, config):
    "The bundle's `LexicalShortlist`, checked against the model's vocabularies; None where the bundle has none."
    if not path.is_file(): return None
    from safetensors.torch import load_file
    try: shortlist = LexicalShortlist(**load_file(str(path)))
    except Exception as e:  # safetensors raises several types for corrupt files
        raise ModelFileError(f"{path}: cannot load the shortlist ({type(e).__name__}: {e})") from None
    largest = max(int(t.max()) for t in shortlist.tensors().values())
    if shortlist.table.shape[0] != config.src_vocab or largest >= config.tgt_vocab:
        raise ModelFileError(f"{path}: the shortlist does not fit the model's vocabularies of {config.src_vocab} and "
                             f"{config.tgt_vocab} tokens")
    return shortlist


def load_translator(path, device='cpu', int8=False):
    """The `Translator` of a bundle folder, or of a learner exported by `learn.export` (a pickle: loading it can run
    code, so load only exports you trust; fastai's `load_learner` gives the Learner itself); clear errors for missing
    or unreadable files. With `int8`, quantized (`Translator.quantize`)."""
    path = Path(path)
    if int8 and device != 'cpu': raise ValueError(f"int8 inference runs on the CPU, not on {device}")
    if path.is_dir(): translator = load_bundle(path, device)
    elif path.is_file(): translator = _load_export(path, device)
    else: raise FileNotFoundError(f"model file not found: {path}")
    return translator.quantize() if int8 else translator


def _load_export(path, device):
    "The `Translator` of a fastseq learner export."
    from fastai.learner import load_learner
    try:
        with warnings.catch_warnings():  # fastai warns that exports are pickles; the caller named this file
            warnings.filterwarnings('ignore', message='load_learner` uses Python')
            learn = load_learner(path, cpu=(device == 'cpu'))
    except Exception as e:
        raise ModelFileError(f"{path} is not a fastseq learner export ({type(e).__name__}: {e})") from None
    if not hasattr(learn, 'translator'): raise ModelFileError(f"{path} holds a fastai learner, not a fastseq one")
    translator = learn.translator()
    translator.model.to(device).eval()
    return translator


def load_ensemble(paths, device='cpu', int8=False):
    """One `Translator` decoding with every model in `paths` (bundles or exports, as `load_translator` reads them);
    a single path is that model alone."""
    translators = [load_translator(p, device, int8) for p in paths]
    if len(translators) == 1: return translators[0]
    return Translator.ensemble(translators, names=[str(p) for p in paths])
