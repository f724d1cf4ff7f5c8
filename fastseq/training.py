"""The Python training API: `train(data, ...)` does everything `fastseq train` does (data, vectors, learning rate,
teacher forcing, checkpoints, time budget, resume, data-parallel, plots, export, evaluation); the presets live here;
`evaluate` scores a model on pairs; `run_demo` is the main job of `make demo`."""
import os
import subprocess
import sys
import time
from dataclasses import asdict, is_dataclass

import pandas as pd
import torch
from fastai.callback.progress import ProgressCallback
from fastai.torch_core import distrib_barrier, rank_distrib, set_seed
from fastcore.meta import delegates
from fastcore.xtras import Path

from .averaging import AverageWeights
from .bundle import load_translator
from .cache import build_cache
from .callbacks import EpochPrinter, TeacherForcing, TimeBudget
from .config import TrainConfig, learner_options
from .checkpoint import SaveCheckpoint, checkpoint_extra, resume as resume_fit
from .data import Seq2SeqDataLoaders
from .datasets import phrasebook, read_files, read_tsv
from .distributed import distributed, init_distributed, is_distributed
from .errors import OptionError
from .interpret import save_figure
from .learner import seq2seq_learner
from .metrics import corpus_bleu, corpus_chrf, tokenized_bleu
from .shortlist import shortlist_callback
from .precision import precision_callbacks, precision_label, prepare_device, resolve_precision
from .recipe import MIN_BUDGET, RecipeChoice, choose_recipe, default_speed, full_epoch_minutes, recipe_options
from .warm_start import warm_start, warm_start_line

__all__ = ['training_device', 'train', 'evaluate', 'evaluation_line', 'decoding_beam', 'GREEDY_MARGIN',
           'plain_progress', 'lr_find_plot', 'checkpoint_path', 'fit_with_frozen_embeddings', 'run_demo',
           'DEMO_SENTENCES']


def plain_progress(learn):
    "Without a terminal (logs, CI), print one line per epoch instead of redrawing progress bars."
    if not sys.stdout.isatty() and any(isinstance(cb, ProgressCallback) for cb in learn.cbs):
        learn.remove_cb(ProgressCallback)
        learn.add_cb(EpochPrinter())
    return learn


def lr_find_plot(learn, path=None):
    "Run `lr_find`, save its plot as PNG when `path` is given; suggest the larger of fastai's valley and minimum/10."
    import matplotlib.pyplot as plt
    from fastai.callback.schedule import minimum, valley
    found = learn.lr_find(show_plot=path is not None, suggest_funcs=(valley, minimum))
    lr = max(found.valley, found.minimum)  # valley alone proved too timid for these GRUs (docs/results.md)
    if path is not None:
        fig = plt.gcf()
        fig.axes[0].set_title(f"lr_find: suggested {lr:.2e}")
        save_figure(fig, path)
        plt.close(fig)
    return lr


def fit_with_frozen_embeddings(learn, epochs, lr, freeze_epochs=0, cbs=None, minutes=None):
    """One-cycle with the embedding group frozen for the first `freeze_epochs`, then everything trainable; with
    `minutes`, the schedule follows the clock and ends on time (`TimeBudget`), `epochs` being then only a ceiling."""
    if minutes is not None:
        if freeze_epochs: raise OptionError("time_budget cannot be combined with freeze_epochs", 'time_budget',
                                            'freeze_epochs')
        return learn.fit_one_cycle(epochs, lr, cbs=list(cbs or []) + [TimeBudget(minutes)])
    if not 0 <= freeze_epochs < epochs:
        raise OptionError(f"freeze_epochs must be at least 0 and less than epochs ({epochs}), got {freeze_epochs}",
                          'freeze_epochs', 'epochs')
    if freeze_epochs:
        learn.freeze()
        learn.fit_one_cycle(freeze_epochs, lr, cbs=cbs)
        learn.unfreeze()
    learn.fit_one_cycle(epochs - freeze_epochs, lr, cbs=cbs)


def _dataloaders(data, valid, c: TrainConfig, path, device):
    "The DataLoaders `data` and `valid` describe; `path` (the output folder) is where corpus vectors get cached."
    if c.stream_cache: return _streamed_dataloaders(data, valid, c, path, device)
    kw = dict(bs=c.bs, valid_pct=c.valid_pct, seed=c.data_seed, max_len=c.max_len, min_freq=c.min_freq,
              normalize=c.normalize, questions=c.questions, path=path, verbose=rank_distrib() == 0, device=device,
              tokenizer=c.tokenizer, vocab_sz=c.vocab_sz, joint_vocab=c.joint_vocab, casual_share=c.casual_share)
    frame = lambda x: x if x is None or isinstance(x, pd.DataFrame) else read_tsv(
        x, c.src, c.tgt, skip_bad_lines=c.skip_bad_lines)
    if str(data) == 'phrasebook': df = phrasebook(c.n_pairs, c.data_seed)
    elif c.data_tgt: df = read_files(data, c.data_tgt, c.src, c.tgt)
    else: df = frame(data)
    return Seq2SeqDataLoaders.from_df(df, c.src, c.tgt, valid_df=frame(valid), **kw)


def _streamed_dataloaders(data, valid, c: TrainConfig, path, device):
    "DataLoaders over a stream cache of `data` (built by process 0 alone when there are several)."
    if str(data) == 'phrasebook' or any(isinstance(x, pd.DataFrame) for x in (data, valid)):
        raise OptionError("stream_cache reads data (and valid) from files, not the phrasebook or a DataFrame",
                          'stream_cache', 'data', 'valid')
    build = lambda: build_cache(data, c.stream_cache, tgt_path=c.data_tgt, src=c.src, tgt=c.tgt,
                                questions=c.questions, valid_pct=c.valid_pct, seed=c.data_seed, min_freq=c.min_freq,
                                normalize=c.normalize, n_workers=c.workers, verbose=rank_distrib() == 0,
                                tokenizer=c.tokenizer, vocab_sz=c.vocab_sz, joint_vocab=c.joint_vocab,
                                skip_bad_lines=c.skip_bad_lines, valid=valid, casual_share=c.casual_share)
    if is_distributed():   # not fastai's rank0_first: its DistributedTrainer lacks cpu=True
        init_distributed()
        if rank_distrib() == 0: build()
        distrib_barrier()
    return Seq2SeqDataLoaders.from_cache(build(), bs=c.bs, max_len=c.max_len, path=path, verbose=rank_distrib() == 0,
                                         device=device)


def training_device(device=None):
    """The device this process trains on: `device` when given, else a GPU when there is one. Under a launcher each
    process takes the GPU of its local rank, chosen before any batch is built (else every rank would copy through
    GPU 0); TF32 is allowed on GPUs."""
    if device is None and torch.cuda.is_available():
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if is_distributed() else 'cuda'
    device = torch.device(device or 'cpu')
    if device.type == 'cuda' and device.index is not None: torch.cuda.set_device(device)
    prepare_device(device)
    return device


def _check_options(c: TrainConfig):
    "Refuse combinations that cannot work before any data is read."
    if is_distributed() and (c.lr == 'auto' or c.time_budget or c.resume):
        raise OptionError("under torchrun / accelerate launch, lr must be a number, and time_budget and resume are "
                          "not supported: each process would choose its own learning rate or schedule",
                          'lr', 'time_budget', 'resume')
    if c.resume and (c.freeze_epochs or c.time_budget):
        raise OptionError("resume cannot continue a run with freeze_epochs or time_budget", 'resume', 'freeze_epochs',
                          'time_budget')
    if c.shortlist < 0:
        raise OptionError(f"shortlist must be a number of words, or 0 for the whole vocabulary, got {c.shortlist}",
                          'shortlist')
    _learning_rate(c.lr)


@delegates(TrainConfig)   # the signature lists every option (help(), tab completion); passed ones override the preset
def train(data='phrasebook', valid=None, *, preset='default', choose_beam=False, **options):
    """Train a translator and return its Learner. `data`: a TSV/CSV file, the source file of two line-aligned files
    (with `data_tgt`), a DataFrame, or 'phrasebook'; `valid`: a file or DataFrame (default: a `valid_pct` split).
    `options` are `TrainConfig` fields over the values of `preset` ('default', 'lesson', 'demo', 'tatoeba', 'student').
    Process 0 exports to `out`, keeping a checkpoint beside it after every epoch (`resume=True` continues it). With
    `choose_beam` (`distill`'s students), the export decodes greedily by default only where greedy scores within
    `GREEDY_MARGIN` BLEU of `eval_beam` on `valid`, else at `eval_beam` (`decoding_beam`)."""
    c = _config(preset, options)
    _check_options(c)
    set_seed(c.seed)  # the same seed in every process: the same batch order and initial weights
    out, rank0 = Path(c.out).absolute(), rank_distrib() == 0
    dls = _dataloaders(data, valid, c, out.parent, training_device(c.device))
    recipe = _recipe_choice(c, options, preset, dls)
    if rank0 and (c.time_budget or c.recipe != 'auto'): print(recipe.line())
    if recipe.name != 'default' or recipe.measured_now:   # the measurement drew from the seeded generators
        c = _config(preset, {**options, 'recipe': recipe.name})
        set_seed(c.seed)
        dls = _dataloaders(data, valid, c, out.parent, dls.device)
    learn = plain_progress(seq2seq_learner(dls, path=out.parent, **learner_options(c)))
    learn.recipe = recipe.to_dict()
    if c.init: _warm_start(learn, c.init, rank0)
    plot_dir = Path(c.plot_dir) if c.plot_dir and rank0 else None
    precision = learn.trained_in = _run_precision(c, dls, checkpoint_path(out), learn.model.config)
    cbs = [TeacherForcing(c.tf_start, c.tf_end, warmup=c.tf_warmup),
           *precision_callbacks(precision, dls.device, c.shortlist)]
    if rank0: print(f"training on {dls.device} in {precision_label(precision, dls.device)}"
                    + (" (auto)" if c.precision == 'auto' else '') + _shortlist_note(cbs, learn.model.config.tgt_vocab))
    if c.average: cbs.append(AverageWeights(c.average))
    _fit(learn, c, cbs, checkpoint_path(out), plot_dir, precision)
    if not rank0: return learn                                             # one process writes files
    learn.add_shortlist()
    if plot_dir: _save_plots(learn, plot_dir)
    print(f"exported to {learn.export(out.name)}")
    bundle = _save_bundle(learn, c, out)
    if c.eval_beam:   # over the whole vocabulary, as every figure of docs/results.md
        scores = evaluate(learn, learn.valid_pairs(), tgt=c.tgt, beam=c.eval_beam, full_vocab=True)
        print(evaluation_line(scores))
        if choose_beam and c.eval_beam > 1: _choose_beam(learn, c, scores, out)
    if c.eval_beam and c.int8:
        print('int8 ' + evaluation_line(evaluate(load_translator(bundle), learn.valid_pairs(), tgt=c.tgt,
                                                 beam=c.eval_beam, full_vocab=True)))
    return learn


def _shortlist_note(cbs, vocab_sz):
    "What the training line says of a `ShortlistLoss` among `cbs` that leaves words of the vocabulary out."
    sl = shortlist_callback(cbs)
    if sl is None or sl.n_frequent >= vocab_sz: return ''
    return (f"; the loss's softmax over {sl.n_frequent:,} frequent target words of {vocab_sz:,}, each batch's and "
            f"{sl.n_sampled:,} drawn (--shortlist 0: all)")


def _config(preset, options):
    "The `TrainConfig` of `preset` with `options` over the values of the recipe they name (none: 'auto')."
    name = options.get('recipe', 'auto')
    return TrainConfig.from_preset(preset, **(options if name == 'auto' else recipe_options(name, options)))


# options of `train` that choose what a recipe would (and the model's sizes): given, they stand and the default trains
_RECIPE_OPTIONS = ('tokenizer', 'vocab_sz', 'joint_vocab', 'bs', 'init', 'stream_cache', 'epochs')


def _recipe_choice(c: TrainConfig, options, preset, dls):
    "The recipe to train: the one asked for, or with 'auto' the one `choose_recipe` takes at this machine's speed."
    if c.recipe != 'auto': return RecipeChoice(c.recipe, reason='asked for')
    given = _given_recipe_options(options)
    reason = ('no time budget' if not c.time_budget else 'the table is of CPUs' if dls.device.type != 'cpu' else
              f"budgets under {MIN_BUDGET} min keep it" if c.time_budget < MIN_BUDGET else
              f"the {preset} preset" if preset != 'default' else f"{', '.join(given)} given" if given else None)
    if reason: return RecipeChoice('default', reason=reason)
    precision = resolve_precision(c.precision, dls.device, vocab=len(dls.processor.tgt_vocab))   # the default's
    tok_per_s, measured_now = default_speed(dls, precision)
    choice = choose_recipe(full_epoch_minutes(dls, tok_per_s), c.time_budget, precision)
    choice.tok_per_s, choice.measured_now = tok_per_s, measured_now
    return choice


GREEDY_MARGIN = 0.3   # BLEU greedy search may lose to beam search and still be a student's decoding (docs/results.md)


def _choose_beam(learn, c: TrainConfig, beam_scores, out):
    "Score greedy search on valid, set the beam the export decodes at by default (`decoding_beam`) and save it again."
    greedy = evaluate(learn, learn.valid_pairs(), tgt=c.tgt, beam=1, full_vocab=True)
    print(evaluation_line(greedy))
    learn.beam = decoding_beam(beam_scores['bleu_lc_tok'], greedy['bleu_lc_tok'], c.eval_beam)
    print(f"decodes {'greedily' if learn.beam == 1 else f'at beam {learn.beam}'} by default: greedy scored "
          f"{beam_scores['bleu_lc_tok'] - greedy['bleu_lc_tok']:.2f} BLEU under beam {c.eval_beam} (lowercased, "
          f"tokenized; greedy is kept within {GREEDY_MARGIN})")
    if learn.beam != 1: learn.export(out.name); _save_bundle(learn, c, out)


def decoding_beam(beam_bleu, greedy_bleu, beam, margin=GREEDY_MARGIN):
    "The beam a model decodes at by default: greedy (1) where it scores within `margin` BLEU of `beam`, else `beam`."
    return 1 if greedy_bleu >= beam_bleu - margin else beam


def _given_recipe_options(options):
    "The flags among `options` that decide what a recipe would: the model's fields and `_RECIPE_OPTIONS`."
    model = options.get('model') or {}
    names = [*(asdict(model) if is_dataclass(model) else model), *(o for o in _RECIPE_OPTIONS if o in options)]
    return [f"--{name.replace('_', '-')}" for name in names]


def _warm_start(learn, path, verbose):
    "Start `learn`'s model from the weights of the export or bundle at `path`."
    copied = warm_start(learn.model, learn.dls.processor, load_translator(path))
    if verbose: print(warm_start_line(copied, learn.dls.processor, path))


def _save_bundle(learn, c: TrainConfig, out):
    "The bundle folder written when `bundle` or `int8` asks for one (int8: beside `out` by default), else None."
    if not (c.bundle or c.int8): return None
    path = learn.save_translator(c.bundle or out.with_suffix(''), c.int8)
    print(f"bundle{' (int8 weights)' if c.int8 else ''} saved to {path}")
    return path


def _run_precision(c: TrainConfig, dls, ckpt, model_config):
    "The precision to train in; a resumed 'auto' run keeps the one its checkpoint records (the table may have changed)."
    recorded = checkpoint_extra(ckpt).get('precision') if c.resume and c.precision == 'auto' else None
    return recorded or resolve_precision(c.precision, dls.device, model_config.n_hid_dec, model_config.tgt_vocab)


def _fit(learn, c: TrainConfig, cbs, ckpt, plot_dir, precision):
    "Resume from the checkpoint, or choose the learning rate and fit (data-parallel under a launcher)."
    if c.resume:
        state = resume_fit(learn, ckpt, c.n_epochs, cbs=cbs, minutes=c.checkpoint_every)
        where = (f"after batch {state['batch']} of epoch {state['epoch'] + 1}" if state['batch'] else
                 f"after epoch {state['epoch']}")
        print(f"resumed from {ckpt} {where}")
        return
    lr, t0 = _choose_lr(learn, c.lr, plot_dir), time.time()
    with distributed(learn):
        fit_with_frozen_embeddings(learn, c.n_epochs, lr, c.freeze_epochs,
                                   cbs=[*cbs, SaveCheckpoint(ckpt, {'lr': lr, 'precision': precision},
                                                                 c.checkpoint_every)],
                                   minutes=c.time_budget)
    if rank_distrib() == 0: print(f"trained for {(time.time() - t0) / 60:.1f} min" + _averaged(cbs))


def _averaged(cbs):
    "The note on weight averaging for the end-of-training line."
    n = next((getattr(cb, 'averaged', 0) for cb in cbs if isinstance(cb, AverageWeights)), 0)
    return f"; weights averaged over {n} snapshots" if n else ''


def _save_plots(learn, plot_dir, n=3):
    "Attention of the first `n` validation sentences and the loss curves, as PNGs in `plot_dir`."
    import matplotlib.pyplot as plt
    for i, (src, _) in enumerate(learn.valid_pairs()[:n]):
        plt.close(learn.show_attention(src, path=Path(plot_dir) / f"attention_{i}.png"))
    if not getattr(learn.recorder, 'losses', None): return   # nothing trained (a resume of a finished run)
    learn.recorder.plot_loss(show_epochs=True)  # fastai draws on the current figure and returns nothing
    save_figure(plt.gcf(), Path(plot_dir) / 'losses.png')
    plt.close(plt.gcf())


def evaluate(model, data, *, src='fr', tgt='en', beam=None, bs=64, copy_unk=True, precision='auto', split=True,
             full_vocab=False):
    """BLEU (sacrebleu's default on detokenized text, and lowercased-tokenized as NMT papers report it) and chrF of
    `model`'s decodes (a Translator or Learner) at `beam` (default: its own) of `data`: (source, reference) pairs, a
    DataFrame or a TSV file; each source split into sentences as `translate` does unless `split=False`; over the whole
    target vocabulary with `full_vocab`, else over the model's lexical shortlist where it has one."""
    if not isinstance(data, (pd.DataFrame, list, tuple)): data = read_tsv(data, src, tgt)
    pairs = list(zip(data[src], data[tgt])) if isinstance(data, pd.DataFrame) else list(data)
    t0, beam = time.time(), model.beam if beam is None else beam
    vocab = {'shortlist': None} if full_vocab else {}
    hyps = model.translate([s for s, _ in pairs], beam=beam, bs=bs, copy_unk=copy_unk, precision=precision, split=split,
                           **vocab)
    refs = [r for _, r in pairs]
    return dict(bleu=corpus_bleu(hyps, refs), bleu_lc_tok=tokenized_bleu(hyps, refs, tgt), chrf=corpus_chrf(hyps, refs),
                n=len(pairs), beam=beam, seconds=time.time() - t0)


def evaluation_line(scores):
    "One line of `evaluate`'s scores, for logs."
    return (f"valid ({scores['n']} pairs, beam {scores['beam']}, {scores['seconds']:.0f} s): BLEU {scores['bleu']:.1f} "
            f"(sacrebleu default, detokenized), {scores['bleu_lc_tok']:.1f} (lowercased, tokenized); "
            f"chrF {scores['chrf']:.1f}")


def checkpoint_path(out):
    "Where `train(out='model.pkl')` keeps its checkpoint: model.checkpoint.pth beside the export."
    return Path(out).with_name(Path(out).stem + '.checkpoint.pth')


def _learning_rate(lr):
    "A positive number, or None for 'auto'."
    if lr == 'auto': return None
    try: value = float(lr)
    except (TypeError, ValueError): raise OptionError(f"lr must be a number or 'auto', got {lr!r}", 'lr') from None
    if value <= 0: raise OptionError(f"lr must be positive, got {value}", 'lr')
    return value


def _choose_lr(learn, lr, plot_dir):
    "`lr` as given, or lr_find's suggestion for 'auto'; with a plot folder the lr_find plot is drawn either way."
    lr = _learning_rate(lr)
    if lr is None or plot_dir:
        suggested = lr_find_plot(learn, plot_dir / 'lr_find.png' if plot_dir else None)
        print(f"lr_find suggests {suggested:.2e}" + ('' if lr is None else f"; training at lr {lr:.2e}"))
    return lr or suggested


DEMO_SENTENCES = ["Le chat noir est sous la table.", "Où est la voiture de Marie ?", "Qu'est-ce que tu vois ?",
                  "Nous avons vu trois petits chiens dans le jardin.", "Est-ce que tu aimes les fleurs rouges ?"]


def run_demo(out='demo_out', **overrides):
    "`make demo`: phrasebook → lr_find plot → fit → BLEU → attention plots → export → reload in a new process."
    c, t0, out = TrainConfig.from_preset('demo', **overrides), time.time(), Path(out).absolute()
    set_seed(c.seed)
    dls = Seq2SeqDataLoaders.from_df(phrasebook(c.n_pairs, c.data_seed), bs=c.bs, valid_pct=c.valid_pct,
                                     seed=c.data_seed)
    dls.show_batch(max_n=4)
    learn = plain_progress(seq2seq_learner(dls, path=out, **learner_options(c)))
    print(f"lr_find suggests {lr_find_plot(learn, out / 'lr_find.png'):.2e} (plot: {out / 'lr_find.png'}); "
          f"training at {c.lr:.0e}")
    learn.fit_one_cycle(c.n_epochs, c.lr, cbs=TeacherForcing(c.tf_start, c.tf_end, warmup=c.tf_warmup))
    bleu = evaluate(learn, learn.valid_pairs())['bleu']
    learn.show_attention(DEMO_SENTENCES[0], path=out / 'attention.png')
    learn.show_attention(DEMO_SENTENCES[0], kind='steps', path=out / 'attention_steps.png')
    path = learn.export('translator.pkl')
    print(f"reloading {path} in a new process:")
    lines = subprocess.run([sys.executable, '-m', 'fastseq.cli', 'translate', str(path), *DEMO_SENTENCES],
                           check=True, stdout=subprocess.PIPE, text=True, encoding='utf-8').stdout.splitlines()
    for src, translation in zip(DEMO_SENTENCES, lines): print(f"  {src}  →  {translation}")
    return learn, bleu, len(learn.valid_pairs()), path, time.time() - t0

