"""`seq2seq_learner`: a fastai `Learner` for `Seq2SeqRNN` with loss, metrics, splitter and translation."""
import copy
import inspect
from dataclasses import fields
from functools import partial

import torch
import fastai.callback.progress  # noqa: F401  (progress bars for fit and lr_find)
import fastai.callback.schedule  # noqa: F401  (Learner.fit_one_cycle, Learner.lr_find)
from fastai.callback.training import GradientClip
from fastai.learner import Learner
from fastai.optimizer import OptimWrapper
from fastai.torch_core import get_model
from fastcore.basics import noop
from fastcore.foundation import L
from fastcore.xtras import Path

from .bundle import save_bundle
from .callbacks import StopOnNonFiniteLoss
from .embeddings import side_matrix
from .inference import Translator
from .interpret import attention_figures, results_table, save_figure
from .io import atomic_path, show_table
from .lexical import N_FREQUENT, PER_WORD, lexical_shortlist
from .losses import Seq2SeqLoss
from .metrics import ChrF, CorpusBLEU, Perplexity, TokenAccuracy
from .model import Seq2SeqConfig, Seq2SeqRNN

__all__ = ['Seq2SeqLearner', 'seq2seq_learner', 'seq2seq_splitter', 'fused_adam']


def fused_adam(params, lr, mom=0.9, sqr_mom=0.99, eps=1e-5, wd=0.01, **kwargs):
    """fastai's `Adam` with its defaults (β 0.9 / 0.99, eps 1e-5, decoupled weight decay 0.01, biases included) as
    PyTorch's fused AdamW: one kernel over all parameters instead of fastai's element-wise ops per parameter (timed in
    docs/performance.md); fastai's schedules drive it (`OptimWrapper`)."""
    opt = partial(torch.optim.AdamW, betas=(mom, sqr_mom), eps=eps, weight_decay=wd, fused=True)
    return OptimWrapper(params, opt, lr=lr, **kwargs)


def seq2seq_splitter(model):
    "Two parameter groups: embeddings (with the tied output weight) first, everything else second."
    emb = list(model.encoder.emb.parameters()) + list(model.decoder.emb.parameters())
    ids = {id(p) for p in emb}
    return [emb, [p for p in model.parameters() if id(p) not in ids]]


class Seq2SeqLearner(Learner):
    """A `Learner` that can translate raw text and export atomically; `trained_in` is the precision `train` chose,
    `recipe` the recipe it trained (`RecipeChoice.to_dict`), `casual_learnt` whether its training pairs were retyped
    as people type (`augment_casual`), `shortlist` the `LexicalShortlist` its translator decodes over
    (`add_shortlist`), `beam` the beam its translator decodes at unless told (1: greedy)."""
    trained_in = recipe = shortlist = None
    beam = 1
    @property
    def casual_learnt(self): return getattr(self.dls, 'stats', {}).get('casual_share', 0) > 0

    def create_opt(self):
        """fastai's, with the model first moved to the data's device: an optimizer state loaded before fastai moves the
        model (a resumed checkpoint's) would otherwise stay on the CPU while the parameters go to the GPU."""
        self.model.to(self.dls.device)
        super().create_opt()

    def fit(self, n_epoch, lr=None, wd=None, cbs=None, **kwargs):
        "fastai's `fit`; callbacks that hold a context open across events (`Autocast`) close it however the fit ends."
        try: return super().fit(n_epoch, lr, wd, cbs, **kwargs)
        finally:
            for cb in [*self.cbs, *L(cbs)]: getattr(cb, 'close_context', noop)()

    def translator(self):
        "A `Translator` over this learner's model and text processing (it shares the model's weights)."
        return Translator(get_model(self.model), self.dls.processor, trained_in=self.trained_in,
                          casual_learnt=self.casual_learnt, recipe=self.recipe, shortlist=self.shortlist,
                          beam=self.beam)

    def add_shortlist(self, n_frequent=N_FREQUENT, per_word=PER_WORD):
        "Give the translator a lexical shortlist of the training pairs (`lexical_shortlist`), kept in the export."
        c = get_model(self.model).config
        self.shortlist = lexical_shortlist(self.dls.train_ds, c.src_vocab, c.tgt_vocab, n_frequent, per_word)
        return self.shortlist

    def translate(self, texts, beam=None, bs=64, **kwargs):
        """Translations of a string or a list of strings: greedy (beam=1) or beam search (default: `self.beam`); see
        `translate_texts`."""
        return self.translator().translate(texts, beam=beam, bs=bs, **kwargs)

    def show_attention(self, texts, kind='heatmap', path=None):
        "Attention figure(s) for a text or texts: 'heatmap' (output × source) or 'steps' (one plot per step)."
        single = isinstance(texts, str)
        figs = attention_figures(self.translator(), [texts] if single else list(texts), kind)
        if path is not None:
            path = Path(path)
            for i, fig in enumerate(figs): save_figure(fig, path if single else path.with_stem(f"{path.stem}_{i}"))
        return figs[0] if single else figs

    def show_results(self, max_n=6, beam=1, seed=0):
        "Display source, reference and free-running prediction for a seeded sample of validation pairs."
        show_table(results_table(self.translator(), self.valid_pairs(), max_n, beam, seed))

    def save_translator(self, path, int8=False):
        """Write a pickle-free bundle (safetensors weights + JSON config and vocabularies) that `load_translator` reads;
        with `int8`, one that decodes with int8 weights (a CPU copy of the model is quantized)."""
        translator = self.translator()
        if int8: translator.model = copy.deepcopy(translator.model).cpu(); translator.quantize()
        return save_bundle(translator, path)

    def valid_pairs(self):
        "The validation split's (source text, reference text) pairs as the metrics score them."
        return self.dls.valid_pairs()

    def export(self, fname='export.pkl', **kwargs):
        "fastai's export, written to a temporary file then renamed, so an interruption leaves no half file."
        path = self.path / fname
        with atomic_path(path) as tmp: super().export(tmp, **kwargs)
        return path


_FROM_VOCAB = ('src_vocab', 'tgt_vocab', 'pad_idx', 'bos_idx', 'eos_idx')  # set from `dls`, never passed
_LEARNER_OPTIONS = tuple(n for n in inspect.signature(Learner.__init__).parameters
                         if n not in ('self', 'dls', 'model', 'loss_func', 'metrics', 'cbs', 'splitter'))


def _split_kwargs(kwargs):
    "Model options and Learner options; anything else is a `TypeError` that lists the valid names."
    model_opts = tuple(f.name for f in fields(Seq2SeqConfig) if f.name not in _FROM_VOCAB)
    unknown = sorted(set(kwargs) - set(model_opts) - set(_LEARNER_OPTIONS))
    if unknown:
        raise TypeError(f"seq2seq_learner got unknown option(s) {', '.join(map(repr, unknown))}; model options: "
                        f"{', '.join(model_opts)}; Learner options: {', '.join(_LEARNER_OPTIONS)}")
    return ({k: v for k, v in kwargs.items() if k in model_opts},
            {k: v for k, v in kwargs.items() if k not in model_opts})


def _pretrained(dls, cfg_kwargs, vecs_src, vecs_tgt):
    "Embedding matrices from vectors; their dimension sets emb_sz_src / emb_sz_tgt (a given size must match)."
    mats = {}
    for side, vecs in (('src', vecs_src), ('tgt', vecs_tgt)):
        if vecs is None: continue
        key = f'emb_sz_{side}'
        mats[side], _ = side_matrix(dls, side, vecs, cfg_kwargs.get(key), cfg_kwargs.get('init_range', 0.1))
        cfg_kwargs[key] = mats[side].shape[1]
    return mats


def seq2seq_learner(dls, metrics=None, clip=5.0, cbs=None, vecs_src=None, vecs_tgt=None, label_smoothing=0.,
                    **kwargs):
    """Learner with a `Seq2SeqRNN` sized to `dls`' vocabularies; `Seq2SeqConfig` fields may be passed as kwargs.
    `vecs_src`/`vecs_tgt`: fastText .bin/.vec path, fasttext model, {word: vector} mapping or 'train';
    `label_smoothing`: of the training loss (the validation loss stays plain cross-entropy)."""
    cfg_kwargs, learn_kwargs = _split_kwargs(kwargs)
    src_vocab, tgt_vocab = dls.processor.src_vocab, dls.processor.tgt_vocab
    mats = _pretrained(dls, cfg_kwargs, vecs_src, vecs_tgt)
    config = Seq2SeqConfig(len(src_vocab), len(tgt_vocab), pad_idx=tgt_vocab.pad_idx, bos_idx=tgt_vocab.bos_idx,
                           eos_idx=tgt_vocab.eos_idx, **cfg_kwargs)
    model = Seq2SeqRNN(config)
    with torch.no_grad():
        if 'src' in mats: model.encoder.emb.weight.copy_(mats['src'])
        if 'tgt' in mats: model.decoder.emb.weight.copy_(mats['tgt'])   # the tied output weight with it
    if metrics is None:
        pad = tgt_vocab.pad_idx
        metrics = [TokenAccuracy(pad), Perplexity(pad), CorpusBLEU(n_items=300), ChrF(n_items=300)]
    cbs = list(cbs or []) + [StopOnNonFiniteLoss()] + ([GradientClip(clip)] if clip else [])
    learn_kwargs['path'] = Path(learn_kwargs.get('path', dls.path))
    learn_kwargs.setdefault('opt_func', fused_adam)
    loss_func = Seq2SeqLoss(tgt_vocab.pad_idx, smoothing=label_smoothing)
    return Seq2SeqLearner(dls, model, loss_func=loss_func, metrics=metrics, splitter=seq2seq_splitter, cbs=cbs,
                          **learn_kwargs)
