"""The device check on a machine with a CUDA GPU, within `--budget` minutes (default 7, inside one 10-minute device
command with room to spare). Each step's result is written to gpu_check.json (in $OUT when set, else in --out) as soon
as it finishes, so a run cut short keeps what it measured. Steps, in order: the device tests on cuda; `fastseq bench`
throughput at batches of 125 and 1000 sentences in fp32 and in `auto` (bf16 where supported); a short Tatoeba training
with beam-5 evaluation; SIGKILL during training, then --resume; two-process DDP when there are two GPUs. A step that the
budget left cannot hold is recorded as skipped; warnings on stderr never spoil a result (JSON is read from stdout).

    python bench/gpu_check.py [--data DIR]            # DIR: Tatoeba's train.tsv and valid.tsv (default: phrasebook)
    python bench/gpu_check.py --device cpu --quick    # the same steps, tiny, to check the script without a GPU

Tatoeba on the GPU machine: only the repository travels there, so first write a subset into the ignored folder
.gpu_data/ (`python bench/gpu_check.py --subset 40000 --data ../shared/data/fra-eng` writes its first 40,000 training
pairs and all of valid.tsv), name `.gpu_data` in the device run's `carry`, and run `bash bench/gpu_check.sh --data
.gpu_data` there.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

FASTSEQ = [sys.executable, '-m', 'fastseq.cli']
STEPS = ('tests', 'bench', 'train', 'sigkill_resume', 'ddp')


class Budget:
    "Seconds left of the check's budget: each step's time limit is the smaller of its own and what is left."
    def __init__(self, minutes): self.end = time.perf_counter() + 60 * minutes
    def left(self): return self.end - time.perf_counter()
    def limit(self, seconds): return max(0., min(seconds, self.left()))


def run(cmd, timeout, **kw):
    "Run `cmd` with stdout and stderr apart: its exit code, seconds, stdout and the tail of both."
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = 'timeout', _text(e.stdout), _text(e.stderr)
    return {'rc': rc, 'seconds': round(time.perf_counter() - t0, 1), 'stdout': out, 'tail': (out + err)[-1500:]}


def _text(b): return b.decode(errors='replace') if isinstance(b, bytes) else (b or '')


def last_json(text):
    "The last line of `text` that parses as a JSON object, or None."
    for line in reversed(text.strip().splitlines()):
        try: value = json.loads(line)
        except ValueError: continue
        if isinstance(value, dict): return value
    return None


def device_tests(a, budget):
    r = run([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-n', '0', 'tests/test_devices.py'],
            budget.limit(240))
    found = re.findall(r'(\d+) (passed|failed|skipped|error)', r.pop('stdout'))
    return {**r, 'counts': {k: int(n) for n, k in found}}


def bench_sweep(a, budget):
    "Training tokens/s per batch size and precision, one process each; a run the budget cannot hold is skipped."
    results = []
    for precision in a.precisions:
        for bs in a.batch_sizes:
            row = {'bs': bs, 'precision_asked': precision}
            if budget.left() < a.bench_seconds + 30: results.append({**row, 'skipped': 'budget'}); continue
            r = run(FASTSEQ + ['bench', '--json', '--device', a.device, '--bs', str(bs), '--precision', precision,
                               '--seconds', str(a.bench_seconds), '--n-pairs', str(a.bench_pairs)],
                    budget.limit(4 * a.bench_seconds + 60))
            results.append({**row, **_bench_row(r)})
    return results


def _bench_row(r):
    "The figures of one `fastseq bench --json` run, or its exit code and output tail."
    b = last_json(r['stdout']) if r['rc'] == 0 else None
    if b is None: return {'rc': r['rc'], 'seconds': r['seconds'], 'tail': r['tail']}
    t, d = b['train'], b['decode']
    return {'rc': 0, 'seconds': r['seconds'], 'precision': t['precision'], 'tgt_tok_per_s': round(t['tgt_tok_per_s']),
            'mfu': round(t['mfu'], 3), 'peak_gpu_mem_mb': t.get('peak_gpu_mem_mb'),
            'greedy_sent_per_s': round(d['greedy_sent_per_s']), 'beam5_sent_per_s': round(d['beam5_sent_per_s']),
            'device_name': b['device']}


def train_and_evaluate(a, budget, out):
    data = ['--data', f'{a.data}/train.tsv', '--valid', f'{a.data}/valid.tsv'] if a.data else \
        ['--data', 'phrasebook', '--n-pairs', str(a.bench_pairs)]
    minutes = min(a.train_minutes, (budget.left() - 90) / 60)        # the evaluation and start-up need the rest
    if minutes <= 0.05: return {'skipped': 'budget'}
    r = run(FASTSEQ + ['train', *data, '--time-budget', f'{minutes:.2f}', '--eval-beam', '5', '--device', a.device,
                       '--out', str(out / 'tatoeba.pkl')], budget.limit(60 * minutes + 150))
    text = r.pop('stdout')
    times = re.findall(r'\b(\d\d):(\d\d)\s*$', text, re.M)            # fastai's epoch time column, mm:ss
    bleu = re.search(r'BLEU ([\d.]+) \(sacrebleu default.*?([\d.]+) \(lowercased', text)
    precision = re.search(r'training on \S+ in (.+)', text)
    return {**r, 'minutes': round(minutes, 2), 'precision': precision.group(1) if precision else None,
            'epoch_seconds': [int(m) * 60 + int(s) for m, s in times],
            'bleu': float(bleu.group(1)) if bleu else None, 'bleu_lc_tok': float(bleu.group(2)) if bleu else None}


def kill_and_resume(a, budget, out):
    "SIGKILL once the first checkpoint is written, then --resume to the end."
    if budget.left() < 60: return {'skipped': 'budget'}
    args = FASTSEQ + ['train', '--data', 'phrasebook', '--n-pairs', str(a.bench_pairs), '--epochs', '3',
                      '--vecs-src', 'none', '--vecs-tgt', 'none', '--eval-beam', '0', '--device', a.device,
                      '--out', str(out / 'killed.pkl')]
    ckpt, wait = out / 'killed.checkpoint.pth', budget.limit(120)
    proc, t0 = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), time.time()
    while not ckpt.exists() and proc.poll() is None and time.time() - t0 < wait: time.sleep(0.05)
    killed = proc.poll() is None
    if killed: proc.send_signal(signal.SIGKILL); proc.wait()
    r = run(args + ['--resume'], budget.limit(180))
    resumed = 'resumed from' in r.pop('stdout')
    return {**r, 'killed_mid_run': killed, 'resumed': resumed, 'exported': (out / 'killed.pkl').exists()}


def ddp(a, budget, out):
    import torch
    if torch.cuda.device_count() < 2: return {'skipped': f'{torch.cuda.device_count()} GPU(s)'}
    if budget.left() < 90: return {'skipped': 'budget'}
    r = run(['torchrun', '--nproc_per_node', '2', '-m', 'fastseq.cli', 'train', '--data', 'phrasebook',
             '--n-pairs', str(a.bench_pairs), '--epochs', '2', '--out', str(out / 'ddp.pkl')], budget.limit(240))
    r.pop('stdout')
    return r


def write_subset(src, n, dest=Path('.gpu_data')):
    "The first `n` training pairs and the whole validation file of `src` in `dest`, to carry to the GPU machine."
    dest.mkdir(exist_ok=True)
    with open(Path(src) / 'train.tsv', encoding='utf-8') as f:
        (dest / 'train.tsv').write_text(''.join(islice(f, n + 1)), encoding='utf-8')   # the header line too
    (dest / 'valid.tsv').write_text((Path(src) / 'valid.tsv').read_text(encoding='utf-8'), encoding='utf-8')
    print(f"wrote {dest}/train.tsv ({n} pairs) and {dest}/valid.tsv; carry {dest} to the GPU machine")


def write_summary(summary, path):
    "Write the summary so far, atomically: a check cut short keeps every finished step."
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(summary))
    os.replace(tmp, path)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', help="folder with Tatoeba's train.tsv and valid.tsv (default: the phrasebook)")
    p.add_argument('--device', default='cuda')
    p.add_argument('--out', default='/tmp/fastseq_gpu_check', help='folder for models and, without $OUT, the JSON')
    p.add_argument('--budget', type=float, default=7., help='minutes for the whole check (default 7)')
    p.add_argument('--steps', default=','.join(STEPS), help=f"comma-separated subset of {', '.join(STEPS)}")
    p.add_argument('--quick', action='store_true', help='tiny sizes: to check this script on a CPU')
    p.add_argument('--subset', type=int, metavar='N', help="only write N training pairs of --data into .gpu_data/")
    a = p.parse_args(argv)
    unknown = set(a.steps.split(',')) - set(STEPS)
    if unknown: p.error(f"unknown step(s) {', '.join(sorted(unknown))}; valid: {', '.join(STEPS)}")
    a.batch_sizes, a.precisions, a.bench_seconds, a.bench_pairs, a.train_minutes = (
        ([125], ['auto'], 4, 1500, 0.2) if a.quick else ([125, 1000], ['fp32', 'auto'], 20, 20000, 1.5))
    return a


def main(argv=None):
    a = parse_args(argv)
    if a.subset: return write_subset(a.data, a.subset)
    out, budget = Path(a.out), Budget(a.budget)
    out.mkdir(parents=True, exist_ok=True)
    path = Path(os.environ.get('OUT') or out) / 'gpu_check.json'
    summary, t0 = {'device': a.device, 'budget_minutes': a.budget}, time.time()
    steps = {'tests': lambda: device_tests(a, budget), 'bench': lambda: bench_sweep(a, budget),
             'train': lambda: train_and_evaluate(a, budget, out),
             'sigkill_resume': lambda: kill_and_resume(a, budget, out), 'ddp': lambda: ddp(a, budget, out)}
    for name in a.steps.split(','):
        summary[name] = steps[name]() if budget.left() > 10 else {'skipped': 'budget'}
        summary['total_seconds'] = round(time.time() - t0)
        write_summary(summary, path)
        print(f"gpu_check: {name} done at {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    print(json.dumps(summary))


if __name__ == '__main__': main()
