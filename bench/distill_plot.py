"""The distillation figure of docs/results.md from `bench/translate_speed.py`'s JSON lines: beam-5 BLEU against the
CPU minutes each model cost (training of teachers and students, and the translation pass), and against its beam-5
sentences/s through `fastseq translate`, fp32 and int8.

    PYTHONPATH=. python bench/distill_plot.py SPEEDS.jsonl OUT.png MODEL=LABEL:MINUTES [MODEL=LABEL:MINUTES ...]
"""
import json
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from fastseq.interpret import save_figure  # noqa: E402


def main(speeds, out, *models):
    rows = [json.loads(line) for line in open(speeds) if line.strip()]
    fig, (by_cost, by_speed) = plt.subplots(1, 2, figsize=(11, 4.2))
    for spec in models:
        model, rest = spec.split('=', 1)
        label, minutes = rest.rsplit(':', 1)
        for int8, marker in ((False, 'o'), (True, 's')):
            row = next((r for r in rows if r['model'] == model and r['int8'] == int8 and r['beam'] == 5), None)
            if row is None: continue
            name = label + (' int8' if int8 else '')
            if not int8: by_cost.scatter(float(minutes), row['bleu_lc_tok'], marker=marker)
            if not int8: by_cost.annotate(label, (float(minutes), row['bleu_lc_tok']), fontsize=8,
                                          xytext=(4, 4), textcoords='offset points')
            by_speed.scatter(row['sent_per_s'], row['bleu_lc_tok'], marker=marker)
            by_speed.annotate(name, (row['sent_per_s'], row['bleu_lc_tok']), fontsize=8, xytext=(4, 4),
                              textcoords='offset points')
    by_cost.set(xlabel='CPU minutes (teachers, translation pass, student)', ylabel='BLEU, valid, beam 5 (lc-tok)',
                title='quality against what it cost')
    by_speed.set(xlabel='sentences/s at beam 5 through fastseq translate', title='quality against decoding speed')
    for ax in (by_cost, by_speed): ax.grid(alpha=.3)
    fig.tight_layout()
    save_figure(fig, out)


if __name__ == '__main__': main(*sys.argv[1:])
