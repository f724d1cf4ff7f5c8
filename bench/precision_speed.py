"""Training throughput of the lesson preset in each precision, alternating in one process on the same DataLoaders (so
drifts of the machine hit every variant alike): `fastseq.bench.bench_train`, as `fastseq bench` trains. A variant is a
precision, with `:logits` to train through logits instead of the loss fused with the projection.

    PYTHONPATH=. python bench/precision_speed.py ../shared/data/fra-eng/train.tsv 40 fp32 bf16 fp32 bf16
    PYTHONPATH=. python bench/precision_speed.py ../shared/data/fra-eng/train.tsv 40 bf16:logits bf16 bf16:logits bf16
"""
import sys

import torch

from fastseq.bench import bench_data, bench_train


def main(path, seconds, variants):
    torch.set_num_threads(2)
    dls, _ = bench_data(path, device=torch.device('cpu'))
    for variant in variants:
        precision, _, through = variant.partition(':')
        _, out = bench_train(dls, seconds, precision, fused_loss=through != 'logits')
        print(f"{variant}: {out['tgt_tok_per_s']:,.0f} target tok/s over {out['seconds']:.0f} s", flush=True)


if __name__ == '__main__': main(sys.argv[1], float(sys.argv[2]), sys.argv[3:])
