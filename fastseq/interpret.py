"""Looking at a trained model: attention plots (heatmap, the lesson's per-step grid), results, worst translations."""
import math

import pandas as pd
import torch

from .data import pad_batch
from .decode import score_tokens
from .io import atomic_path, show_table
from .metrics import valid_subset

__all__ = ['plot_attention', 'plot_attention_steps', 'attention_figures', 'save_figure', 'results_table',
           'sentence_losses', 'Seq2SeqInterpretation']


def save_figure(fig, path):
    "Save a matplotlib figure as PNG atomically."
    with atomic_path(path) as tmp: fig.savefig(tmp, format='png', dpi=110, bbox_inches='tight')
    return path


def plot_attention(attn, src_toks, out_toks, ax=None, title=None):
    "Heatmap of attention (out_len, src_len) with tokens as tick labels; returns the figure."
    import matplotlib.pyplot as plt
    if ax is None: _, ax = plt.subplots(figsize=(0.5 * len(src_toks) + 2, 0.4 * len(out_toks) + 1.5))
    im = ax.imshow(attn, cmap='viridis', vmin=0., vmax=1., aspect='auto')
    ax.set_xticks(range(len(src_toks)), src_toks, rotation=60, ha='right')
    ax.set_yticks(range(len(out_toks)), out_toks)
    ax.set_xlabel('source token'); ax.set_ylabel('output token')
    if title: ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, fraction=0.04)
    return ax.figure


def plot_attention_steps(attn, src_toks, out_toks, ncols=4, title=None):
    "The lesson's view: per output step, attention over source positions as a line, titled with the output token."
    import matplotlib.pyplot as plt
    n = len(out_toks)
    nrows = math.ceil(n / ncols)
    fig, axs = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.2 * nrows), squeeze=False, sharey=True)
    for i, ax in enumerate(axs.flat):
        if i >= n: ax.axis('off'); continue
        ax.plot(range(len(src_toks)), attn[i], marker='o')
        ax.set_title(f"step {i}: {out_toks[i]}", fontsize=9)
        ax.set_xticks(range(len(src_toks)), src_toks, rotation=60, ha='right', fontsize=7)
        ax.set_ylim(0, 1)
    if title: fig.suptitle(title)
    fig.tight_layout()
    return fig


def attention_figures(translator, texts, kind='heatmap'):
    "One figure per text, as one sentence: translate it with attention kept and plot (the tokens the model saw)."
    if kind not in ('heatmap', 'steps'): raise ValueError(f"kind must be 'heatmap' or 'steps', got {kind!r}")
    figs = []
    for text, res in zip(texts, translator.translate(texts, with_attention=True, split=False)):
        if res.weights is None: raise ValueError("this model has no attention (it was built with attention=False)")
        plot = plot_attention if kind == 'heatmap' else plot_attention_steps
        figs.append(plot(res.weights.numpy(), res.src_tokens, res.out_tokens, title=f"{text} → {res.text}"))
    return figs


def results_table(translator, pairs, max_n=6, beam=1, seed=0):
    "A DataFrame of source, reference and free-running prediction for a seeded sample of `pairs` (all: max_n=None)."
    pairs = valid_subset(pairs, max_n, seed)
    srcs, refs = [s for s, _ in pairs], [r for _, r in pairs]
    return pd.DataFrame(dict(source=srcs, reference=refs, prediction=translator.translate(srcs, beam=beam)))


@torch.no_grad()
def sentence_losses(model, processor, srcs, refs, bs=64):
    "Per pair, the mean cross-entropy per reference token (eos included) under the model, teacher-forced."
    src_ids, tgt_ids = processor.src_ids(srcs), processor.tgt_ids(refs)
    out, device = [0.] * len(srcs), next(model.parameters()).device
    order = sorted(range(len(srcs)), key=lambda i: -len(src_ids[i]))
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(order), bs):
            chunk = [i for i in order[start:start + bs] if src_ids[i]]
            if not chunk: continue
            src = pad_batch([src_ids[i] for i in chunk], processor.src_vocab.pad_idx).to(device)
            tgt = pad_batch([tgt_ids[i] for i in chunk], processor.tgt_vocab.pad_idx).to(device)
            logp = score_tokens(model, src, tgt).cpu()
            for j, i in enumerate(chunk): out[i] = -float(logp[j]) / len(tgt_ids[i])
    finally: model.train(was_training)
    return out


class Seq2SeqInterpretation:
    "Validation pairs with their prediction, sentence loss and sentence BLEU, to find the worst translations."
    def __init__(self, translator, table): self.translator, self.table = translator, table

    @classmethod
    def from_translator(cls, translator, pairs, n_items=None, beam=1, seed=0):
        "Decode (free-running) and score (source, reference) `pairs`, or a seeded subset of `n_items`."
        import sacrebleu
        t = results_table(translator, pairs, n_items, beam, seed)
        t['loss'] = sentence_losses(translator.model, translator.processor, list(t.source), list(t.reference))
        t['bleu'] = [sacrebleu.sentence_bleu(h, [r]).score for h, r in zip(t.prediction, t.reference)]
        return cls(translator, t)

    @classmethod
    def from_learner(cls, learn, n_items=None, beam=1, seed=0):
        "All validation pairs of `learn`, or a seeded subset of `n_items`, as `from_translator`."
        return cls.from_translator(learn.translator(), learn.valid_pairs(), n_items, beam, seed)

    def top_losses(self, k=10, by='loss'):
        "The k worst pairs: highest sentence loss (`by='loss'`) or lowest sentence BLEU (`by='bleu'`)."
        if by not in ('loss', 'bleu'): raise ValueError(f"by must be 'loss' or 'bleu', got {by!r}")
        return self.table.sort_values(by, ascending=(by == 'bleu'), kind='stable').head(k)

    def show_worst(self, k=5, by='loss', attention=False, kind='heatmap'):
        "Display the k worst pairs; with `attention`, also return their attention figures."
        worst = self.top_losses(k, by)
        show_table(worst)
        return attention_figures(self.translator, list(worst.source), kind) if attention else None
