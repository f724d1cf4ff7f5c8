"""Attention plots: a heatmap of output × source tokens, and the lesson's one-line-plot-per-step grid."""
import math

from .io import atomic_path

__all__ = ['plot_attention', 'plot_attention_steps', 'attention_figures', 'save_figure']


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


def attention_figures(learn, texts, kind='heatmap'):
    "One figure per text: translate it with attention kept and plot (source tokens as the model saw them)."
    if kind not in ('heatmap', 'steps'): raise ValueError(f"kind must be 'heatmap' or 'steps', got {kind!r}")
    proc, figs = learn.dls.processor, []
    for text, (translation, out_toks, attn) in zip(texts, learn.translate(texts, with_attention=True)):
        if attn is None: raise ValueError("this model has no attention (it was built with attention=False)")
        src_toks = proc.src_vocab.textify(proc.src_ids([text])[0])
        plot = plot_attention if kind == 'heatmap' else plot_attention_steps
        figs.append(plot(attn.numpy(), src_toks, out_toks, title=f"{text} → {translation}"))
    return figs
