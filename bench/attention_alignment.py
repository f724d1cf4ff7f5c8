"""Does attention align? Train the demo recipe with a model variant, then measure held-out BLEU and, on generated
"<det> <noun> <colour> est sous la table." probes, how often the English adjective and noun attend most to their
French translations (the crossing 'chat noir' → 'black cat').

    python bench/attention_alignment.py                                   # Luong's order (the default)
    python bench/attention_alignment.py '{"attend_after_rnn": false}'     # the lesson's order
    python bench/attention_alignment.py '{"attend_after_rnn": false, "bidir": false}'

Prints one JSON object: the overrides, BLEU on the 1,000 held-out pairs, alignment accuracy, mean peak weight.
"""
import json
import random
import sys

from fastai.torch_core import set_seed

from fastseq.callbacks import TeacherForcing
from fastseq.data import Seq2SeqDataLoaders
from fastseq.datasets import phrasebook
from fastseq.learner import seq2seq_learner
from fastseq.phrasebook import COLOURS, NOUNS
from fastseq.metrics import corpus_bleu
from fastseq.config import TrainConfig, learner_options
from fastseq.training import plain_progress


def probes(n=40, seed=1):
    "(French sentence, French noun, French adjective, English noun, English adjective) with agreement."
    rng, out = random.Random(seed), []
    for _ in range(n):
        noun_fr, gender, noun_en = rng.choice(NOUNS)[:3]
        colour = rng.choice(COLOURS)
        adj_fr = colour[0] if gender == 'm' else colour[1]
        det = "L'" if noun_fr[0] in 'aeéiouhâ' else ('Le ' if gender == 'm' else 'La ')
        out.append((f"{det}{noun_fr} {adj_fr} est sous la table.", noun_fr, adj_fr, noun_en, colour[2]))
    return out


def alignment(learn, n=40):
    "Share of probe words whose most-attended source token is their translation, and the mean peak weight."
    hits, peaks = [], []
    cases = probes(n)
    for (_, noun_fr, adj_fr, noun_en, adj_en), (_, src_toks, out_toks, attn, *_) in zip(
            cases, learn.translate([c[0] for c in cases], with_attention=True, split=False)):
        for en, want in ((adj_en, adj_fr), (noun_en, noun_fr)):
            if en not in out_toks: continue
            row = attn[out_toks.index(en)]
            hits.append(src_toks[int(row.argmax())] == want); peaks.append(float(row.max()))
    return sum(hits) / max(len(hits), 1), sum(peaks) / max(len(peaks), 1), len(hits)


def main(overrides):
    set_seed(0)
    dls = Seq2SeqDataLoaders.from_df(phrasebook(20000, 0), bs=64, valid_pct=0.05, seed=0)
    learn = plain_progress(seq2seq_learner(dls, **{**learner_options(TrainConfig.from_preset('demo')), **overrides}))
    learn.fit_one_cycle(8, 1e-2, cbs=TeacherForcing(1.0, 0.5, warmup=0.5))
    pairs = learn.valid_pairs()
    bleu = corpus_bleu(learn.translate([s for s, _ in pairs]), [r for _, r in pairs])
    acc, peak, n = alignment(learn)
    print(json.dumps({'overrides': overrides, 'bleu': round(bleu, 1), 'alignment': round(acc, 3),
                      'mean_peak_weight': round(peak, 3), 'n_words': n}))


if __name__ == '__main__': main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
