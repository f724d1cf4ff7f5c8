"""Training speed of the default recipe with parts of the model compiled by `torch.compile` (inductor, dynamic
shapes), against the same recipe uncompiled: the attention's scores (a fused scoring kernel), the decoder's teacher-
forced run, and that run with the encoder. As bench/recipe_speeds.py: `fastseq.bench.bench_train` at teacher forcing
1, no word vectors, variants in turn, in minutes per epoch of the corpus; 30 warm-up batches, so that compiling is
done before the clock starts. Run it with the environment of the CPU to imitate:

    PYTHONPATH=. python bench/compile_speeds.py ../shared/data/fra-eng/train.tsv --precision fp32
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 PYTHONPATH=. python ...
"""
import json
import time

import torch

import fastseq.bench
from fastseq.datasets import read_tsv
from fastseq.recipe import pass_minutes, speed_config
from recipe_speeds import dataloaders, speed_parser

PARTS = {'none': (), 'attention scores': ('scores',), 'decoder run': ('run',),
         'decoder run and encoder': ('run', 'enc')}


def compile_parts(model, parts):
    "Compile the named parts of `model` in place: 'scores' (the attention's), 'run' (the decoder's), 'enc'."
    if 'scores' in parts: model.decoder.attn.scores = torch.compile(model.decoder.attn.scores, dynamic=True)
    if 'run' in parts: model.decoder.run = torch.compile(model.decoder.run, dynamic=True)
    if 'enc' in parts: model.encoder.forward = torch.compile(model.encoder.forward, dynamic=True)
    return model


def compiling_learner(make_learner, parts):
    "`make_learner` whose learners come with `parts` of their model compiled."
    def make(*args, **kwargs):
        learn = make_learner(*args, **kwargs)
        compile_parts(learn.model, parts)
        return learn
    return make


def main(data, seconds, rounds, precision, names):
    df, c = read_tsv(data, 'fr', 'en'), speed_config()
    dls, plain = dataloaders(df, c, {}), fastseq.bench.seq2seq_learner
    print(json.dumps({'capability': torch.backends.cpu.get_cpu_capability(), 'threads': torch.get_num_threads()}))
    for r in range(rounds):
        for name in names:
            fastseq.bench.seq2seq_learner = compiling_learner(plain, PARTS[name])
            torch._dynamo.reset()
            start = time.time()
            try: _, out = fastseq.bench.bench_train(dls, seconds, precision, warmup=30, config=c)
            finally: fastseq.bench.seq2seq_learner = plain
            print(json.dumps({'round': r, 'variant': name, 'precision': out['precision'],
                              'tgt_tok_per_s': round(out['tgt_tok_per_s']),
                              'epoch_min': round(pass_minutes(dls, out['tgt_tok_per_s']), 2),
                              'wall_s': round(time.time() - start, 1)}), flush=True)


if __name__ == '__main__':
    a = speed_parser(__doc__, PARTS, seconds=45, rounds=1).parse_args()
    main(a.data, a.seconds, a.rounds, a.precision, a.variants)
