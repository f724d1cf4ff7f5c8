"""The device check, in about 8 minutes on a machine with a CUDA GPU; prints one JSON summary (and writes it to
$OUT/gpu_check.json when OUT is set). Steps: the device tests on cuda; `fastseq bench` throughput at batches of 125,
500 and 1000 sentences in fp32 and mixed precision; a 2-minute Tatoeba training with beam-5 evaluation; SIGKILL during
training, then --resume; two-process DDP when there are two GPUs.

    python bench/gpu_check.py [--data DIR]            # DIR: Tatoeba's train.tsv and valid.tsv (default: phrasebook)
    python bench/gpu_check.py --device cpu --quick    # the same steps, tiny, to check the script without a GPU
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

FASTSEQ = [sys.executable, '-m', 'fastseq.cli']


def run(cmd, timeout, **kw):
    "Run `cmd`; its exit code, seconds and output tail."
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
        rc, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = 'timeout', (e.stdout or b'').decode(errors='replace') + (e.stderr or b'').decode(errors='replace')
    return {'rc': rc, 'seconds': round(time.perf_counter() - t0, 1), 'tail': out[-1500:]}


def device_tests(a):
    r = run([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', 'tests/test_devices.py'], 300)
    found = re.findall(r'(\d+) (passed|failed|skipped|error)', r['tail'])
    return {**r, 'counts': {k: int(n) for n, k in found}}


def bench_sweep(a):
    "Training tokens/s per batch size and precision, in one process per precision (the data is built once each)."
    results = []
    for precision in ('fp32', 'auto'):
        for bs in a.batch_sizes:
            r = run(FASTSEQ + ['bench', '--json', '--device', a.device, '--bs', str(bs), '--precision', precision,
                               '--seconds', str(a.bench_seconds), '--n-pairs', str(a.bench_pairs)], 240)
            row = {'bs': bs, 'precision_asked': precision, 'rc': r['rc'], 'seconds': r['seconds']}
            if r['rc'] == 0:
                b = json.loads(r['tail'].strip().splitlines()[-1])
                row.update(precision=b['train']['precision'], tgt_tok_per_s=round(b['train']['tgt_tok_per_s']),
                           mfu=round(b['train']['mfu'], 3), peak_gpu_mem_mb=b['train'].get('peak_gpu_mem_mb'),
                           greedy_sent_per_s=round(b['decode']['greedy_sent_per_s']),
                           beam5_sent_per_s=round(b['decode']['beam5_sent_per_s']), device_name=b['device'])
            else: row['tail'] = r['tail']
            results.append(row)
    return results


def train_and_evaluate(a, out):
    data = ['--data', f'{a.data}/train.tsv', '--valid', f'{a.data}/valid.tsv', '--preset', 'tatoeba'] if a.data else \
        ['--data', 'phrasebook', '--n-pairs', str(a.bench_pairs)]
    r = run(FASTSEQ + ['train', *data, '--time-budget', str(a.train_minutes), '--eval-beam', '5', '--device', a.device,
                       '--out', str(out / 'tatoeba.pkl')], 60 * a.train_minutes + 300)
    times = re.findall(r'\b(\d\d):(\d\d)\s*$', r['tail'], re.M)        # fastai's epoch time column, mm:ss
    bleu = re.search(r'BLEU ([\d.]+) \(sacrebleu default.*?([\d.]+) \(lowercased', r['tail'])
    return {**r, 'epoch_seconds': [int(m) * 60 + int(s) for m, s in times],
            'bleu': float(bleu.group(1)) if bleu else None, 'bleu_lc_tok': float(bleu.group(2)) if bleu else None}


def kill_and_resume(a, out):
    "SIGKILL once the first checkpoint is written, then --resume to the end."
    args = FASTSEQ + ['train', '--data', 'phrasebook', '--n-pairs', str(a.bench_pairs), '--epochs', '3',
                      '--device', a.device, '--out', str(out / 'killed.pkl')]
    ckpt = out / 'killed.checkpoint.pth'
    proc, t0 = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), time.time()
    while not ckpt.exists() and proc.poll() is None and time.time() - t0 < 240: time.sleep(0.05)
    killed = proc.poll() is None
    if killed: proc.send_signal(signal.SIGKILL); proc.wait()
    r = run(args + ['--resume'], 300)
    return {**r, 'killed_mid_run': killed, 'resumed': 'resumed from' in r['tail'],
            'exported': (out / 'killed.pkl').exists()}


def ddp(a, out):
    import torch
    if torch.cuda.device_count() < 2: return {'skipped': f'{torch.cuda.device_count()} GPU(s)'}
    return run(['torchrun', '--nproc_per_node', '2', '-m', 'fastseq.cli', 'train', '--data', 'phrasebook',
                '--n-pairs', str(a.bench_pairs), '--epochs', '2', '--out', str(out / 'ddp.pkl')], 300)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', help="folder with Tatoeba's train.tsv and valid.tsv (default: the phrasebook)")
    p.add_argument('--device', default='cuda')
    p.add_argument('--out', default='/tmp/fastseq_gpu_check')
    p.add_argument('--quick', action='store_true', help='tiny sizes: to check this script on a CPU')
    a = p.parse_args()
    a.batch_sizes, a.bench_seconds, a.bench_pairs, a.train_minutes = (
        ([125], 6, 1500, 0.2) if a.quick else ([125, 500, 1000], 40, 20000, 2))
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    summary, t0 = {'device': a.device}, time.time()
    steps = [('tests', lambda: device_tests(a)), ('bench', lambda: bench_sweep(a)),
             ('train_2min', lambda: train_and_evaluate(a, out)), ('sigkill_resume', lambda: kill_and_resume(a, out)),
             ('ddp', lambda: ddp(a, out))]
    for name, step in steps:
        summary[name] = step()
        print(f"gpu_check: {name} done at {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    summary['total_seconds'] = round(time.time() - t0)
    text = json.dumps(summary)
    if os.environ.get('OUT'): Path(os.environ['OUT'], 'gpu_check.json').write_text(text)
    print(text)


if __name__ == '__main__': main()
