"""Training recipes behind `fastseq train` and `fastseq demo`: data → learner → lr_find → fit → export."""
import subprocess
import sys
import time

from fastai.callback.progress import ProgressCallback
from fastai.torch_core import distrib_barrier, rank_distrib, set_seed
from fastcore.xtras import Path

from .callbacks import EpochPrinter, TeacherForcing, TimeBudget
from .checkpoint import CheckpointEveryEpoch, resume
from .data import Seq2SeqDataLoaders
from .datasets import phrasebook
from .distributed import distributed, init_distributed, is_distributed
from .interpret import save_figure
from .learner import seq2seq_learner
from .metrics import corpus_bleu, corpus_chrf, tokenized_bleu
from .stream import build_cache

__all__ = ['plain_progress', 'lr_find_plot', 'checkpoint_path', 'fit_with_frozen_embeddings', 'train_from_args',
           'evaluation_line', 'run_demo', 'demo_from_args', 'DEMO_ARCH', 'DEMO_SENTENCES']

# Small enough to reach good BLEU on the phrasebook in about three minutes on two CPU cores; light dropout,
# since 20k generated pairs underfit rather than overfit at this budget.
DEMO_ARCH = dict(emb_sz_src=128, emb_sz_tgt=128, n_hid_enc=128, n_hid_dec=128, att_sz=128, bidir=True,
                 emb_drop=0.05, enc_drop=0.1, dec_drop=0.1, out_drop=0.1)
DEMO_SENTENCES = ["Le chat noir est sous la table.", "Où est la voiture de Marie ?", "Qu'est-ce que tu vois ?",
                  "Nous avons vu trois petits chiens dans le jardin.", "Est-ce que tu aimes les fleurs rouges ?"]


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
    lr = max(found.valley, found.minimum)  # valley alone proved too timid for these GRUs (README: learning rate)
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
        if freeze_epochs: raise ValueError("--time-budget cannot be combined with --freeze-epochs")
        return learn.fit_one_cycle(epochs, lr, cbs=list(cbs or []) + [TimeBudget(minutes)])
    if not 0 <= freeze_epochs < epochs:
        raise ValueError(f"--freeze-epochs must be at least 0 and less than --epochs ({epochs}), got {freeze_epochs}")
    if freeze_epochs:
        learn.freeze()
        learn.fit_one_cycle(freeze_epochs, lr, cbs=cbs)
        learn.unfreeze()
    learn.fit_one_cycle(epochs - freeze_epochs, lr, cbs=cbs)


def _dls_from_args(a, path):
    "The DataLoaders the arguments describe; `path` (the output folder) is where corpus vectors get cached."
    if a.stream_cache: return _streamed_dls(a, path)
    kw = dict(bs=a.bs, valid_pct=a.valid_pct, seed=a.seed, max_len=a.max_len, min_freq=a.min_freq,
              normalize=not a.no_normalize, questions=a.questions, path=path, verbose=rank_distrib() == 0)
    if a.data == 'phrasebook':
        return Seq2SeqDataLoaders.from_df(phrasebook(a.n_pairs, a.seed), a.src, a.tgt, **kw)
    return Seq2SeqDataLoaders.from_tsv(a.data, a.src, a.tgt, valid=a.valid, skip_bad_lines=a.skip_bad_lines, **kw)


def _streamed_dls(a, path):
    "DataLoaders over a stream cache of --data (built by process 0 alone when there are several)."
    if a.data == 'phrasebook' or a.valid: raise ValueError("--stream-cache needs --data FILE and no --valid")
    build = lambda: build_cache(a.data, a.stream_cache, tgt_path=a.data_tgt, src=a.src, tgt=a.tgt,
                                questions=a.questions, valid_pct=a.valid_pct, seed=a.seed, min_freq=a.min_freq,
                                normalize=not a.no_normalize, n_workers=a.workers, verbose=rank_distrib() == 0)
    if is_distributed():   # not fastai's rank0_first: its DistributedTrainer lacks cpu=True
        init_distributed()
        if rank_distrib() == 0: build()
        distrib_barrier()
    folder = build()
    return Seq2SeqDataLoaders.from_cache(folder, bs=a.bs, max_len=a.max_len, path=path, verbose=rank_distrib() == 0)


def _save_attention_plots(learn, plot_dir, n=3):
    import matplotlib.pyplot as plt
    for i, (src, _) in enumerate(learn.valid_pairs()[:n]):
        fig = learn.show_attention(src, path=Path(plot_dir) / f"attention_{i}.png")
        plt.close(fig)


def train_from_args(a):
    "`fastseq train`: build data and learner from the arguments, train with one-cycle, export."
    if is_distributed() and (a.lr == 'auto' or a.time_budget or a.resume):
        raise ValueError("under torchrun / accelerate launch, --lr must be a number, and --time-budget and --resume "
                         "are not supported: each process would choose its own learning rate or schedule")
    set_seed(a.seed)  # the same seed in every process: the same data order, vocabulary and initial weights
    out, rank0 = Path(a.out).absolute(), rank_distrib() == 0
    dls = _dls_from_args(a, out.parent)
    sizes = {f'emb_sz_{side}': a.emb_sz for side, vecs in (('src', a.vecs_src), ('tgt', a.vecs_tgt)) if not vecs}
    learn = plain_progress(seq2seq_learner(
        dls, att_sz=a.emb_sz, n_hid_enc=a.n_hid, n_layers_enc=a.n_layers, n_layers_dec=a.n_layers, bidir=a.bidir,
        vecs_src=a.vecs_src, vecs_tgt=a.vecs_tgt, path=out.parent, **sizes))
    plot_dir = Path(a.plot_dir) if a.plot_dir and rank0 else None
    forcing, ckpt = TeacherForcing(a.tf_start, a.tf_end, warmup=a.tf_warmup), checkpoint_path(out)
    if a.resume:
        if a.freeze_epochs or a.time_budget:
            raise ValueError("--resume cannot continue a run with --freeze-epochs or --time-budget")
        state = resume(learn, ckpt, a.epochs, cbs=forcing)
        print(f"resumed from {ckpt} after epoch {state['epoch']}")
    else:
        lr = _choose_lr(learn, a.lr, plot_dir)
        t0 = time.time()
        with distributed(learn):
            fit_with_frozen_embeddings(learn, a.epochs, lr, a.freeze_epochs,
                                       cbs=[forcing, CheckpointEveryEpoch(ckpt, {'lr': lr})], minutes=a.time_budget)
        if rank0: print(f"trained for {(time.time() - t0) / 60:.1f} min")
    if not rank0: return learn                                             # one process writes files
    if plot_dir:
        _save_attention_plots(learn, plot_dir)
        learn.recorder.plot_loss(show_epochs=True)  # fastai draws on the current figure and returns nothing
        save_figure(_gcf(), plot_dir / 'losses.png')
    print(f"exported to {learn.export(out.name)}")
    if a.eval_beam: print(evaluation_line(learn, a.eval_beam, a.tgt))
    return learn


def evaluation_line(learn, beam, lang='en'):
    "BLEU (sacrebleu's default, and lowercased-tokenized) and chrF of beam decodes of the whole validation split."
    pairs = learn.valid_pairs()
    t0 = time.time()
    hyps, refs = learn.translate([s for s, _ in pairs], beam=beam), [r for _, r in pairs]
    return (f"valid ({len(pairs)} pairs, beam {beam}, {time.time() - t0:.0f} s): BLEU {corpus_bleu(hyps, refs):.1f} "
            f"(sacrebleu default, detokenized), {tokenized_bleu(hyps, refs, lang):.1f} (lowercased, tokenized); "
            f"chrF {corpus_chrf(hyps, refs):.1f}")


def checkpoint_path(out):
    "Where `fastseq train --out model.pkl` keeps its checkpoint: model.checkpoint.pth beside the export."
    return Path(out).with_name(Path(out).stem + '.checkpoint.pth')


def _choose_lr(learn, lr_arg, plot_dir):
    "--lr as given, or lr_find's suggestion for 'auto'; with --plot-dir the lr_find plot is drawn either way."
    lr = None if lr_arg == 'auto' else _positive_float(lr_arg, '--lr')
    if lr is None or plot_dir:
        suggested = lr_find_plot(learn, plot_dir / 'lr_find.png' if plot_dir else None)
        print(f"lr_find suggests {suggested:.2e}" + ('' if lr is None else f"; training at --lr {lr:.2e}"))
    return lr or suggested


def _gcf():
    import matplotlib.pyplot as plt
    return plt.gcf()


def _positive_float(text, name):
    try: value = float(text)
    except ValueError: raise ValueError(f"{name} must be a number or 'auto', got {text!r}") from None
    if value <= 0: raise ValueError(f"{name} must be positive, got {value}")
    return value


def run_demo(out='demo_out', epochs=8, n_pairs=20000, seed=0, lr=1e-2, tf_end=0.5, tf_warmup=0.5, valid_pct=0.05):
    "The README's main job: phrasebook → lr_find plot → fit → BLEU → attention plot → export → reload."
    t0, out = time.time(), Path(out).absolute()
    set_seed(seed)
    dls = Seq2SeqDataLoaders.from_df(phrasebook(n_pairs, seed), bs=64, valid_pct=valid_pct, seed=seed)
    dls.show_batch(max_n=4)
    learn = plain_progress(seq2seq_learner(dls, path=out, **DEMO_ARCH))
    print(f"lr_find suggests {lr_find_plot(learn, out / 'lr_find.png'):.2e} (plot: {out / 'lr_find.png'}); "
          f"training at {lr:.0e}")
    learn.fit_one_cycle(epochs, lr, cbs=TeacherForcing(1.0, tf_end, warmup=tf_warmup))
    pairs = learn.valid_pairs()
    bleu = corpus_bleu(learn.translate([s for s, _ in pairs]), [r for _, r in pairs])
    learn.show_attention(DEMO_SENTENCES[0], path=out / 'attention.png')
    learn.show_attention(DEMO_SENTENCES[0], kind='steps', path=out / 'attention_steps.png')
    path = learn.export('translator.pkl')
    print(f"reloading {path} in a new process:")
    lines = subprocess.run([sys.executable, '-m', 'fastseq.cli', 'translate', str(path), *DEMO_SENTENCES],
                           check=True, stdout=subprocess.PIPE, text=True, encoding='utf-8').stdout.splitlines()
    for src, translation in zip(DEMO_SENTENCES, lines): print(f"  {src}  →  {translation}")
    return learn, bleu, len(pairs), path, time.time() - t0


def demo_from_args(a):
    "`fastseq demo`: run the demo and print its summary line last."
    *_, bleu, n, path, secs = run_demo(a.out, a.epochs, a.n_pairs, tf_end=a.tf_end, tf_warmup=a.tf_warmup)
    print(f"(demo took {secs / 60:.1f} min)")
    print(f"demo: BLEU {bleu:.1f} on {n} held-out phrasebook pairs; exported to {path}")
