"""Load test of `fastseq serve` on this machine: requests/s, sentences/s, p50/p99 latency of the answered and of the
refused requests, and how many were refused (503), at several concurrencies, for 1 or more server processes; and the
memory each server process holds.

    PYTHONPATH=. python bench/serve_load.py BUNDLE [--seconds 20] [--texts 1] [--concurrency 1 32 300]
                                            [--workers 1 2] [--max-batch 64] [--max-queue 256]
                                            [--burst 300 [--rounds 3]]

Each configuration starts its own server on 127.0.0.1 and a free port; N clients (asyncio connections in this
process, each sending its next request when the last is answered) post TEXTS validation-like phrasebook sentences per
request for SECONDS after a short warm-up; with --burst, CLIENTS connections are opened first and post at the same
moment, ROUNDS times in a row. Prints one JSON line per configuration."""
import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import httpx

from fastseq.datasets import phrasebook


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start(bundle, workers, max_batch, max_queue):
    port = free_port()
    proc = subprocess.Popen([sys.executable, '-m', 'fastseq.cli', 'serve', bundle, '--port', str(port), '--workers',
                             str(workers), '--max-batch', str(max_batch), '--max-queue', str(max_queue),
                             '--no-access-log'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(url + '/ready', timeout=1).status_code == 200: return proc, url
        except httpx.HTTPError: pass
        time.sleep(0.25)
    proc.kill(); raise TimeoutError(url)


def rss_mb(pid):
    "Resident memory (MB) of `pid` and of each process below it: {pid: MB}."
    out, children = {}, {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try: children.setdefault(int(open(f'/proc/{entry}/stat').read().rsplit(')', 1)[1].split()[1]), []).append(
                int(entry))
            except OSError: pass
    todo = [pid]
    while todo:
        p = todo.pop()
        try: out[p] = int(next(x for x in open(f'/proc/{p}/status') if x.startswith('VmRSS')).split()[1]) / 1024
        except (OSError, StopIteration): continue
        todo += children.get(p, [])
    return out


async def exchange(reader, writer, body):
    "One POST /translate on an open connection: (status, seconds)."
    head = (f'POST /translate HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n'
            f'Content-Length: {len(body)}\r\n\r\n')
    start = time.perf_counter()
    writer.write(head.encode() + body)
    lines = (await reader.readuntil(b'\r\n\r\n')).decode().split('\r\n')
    size = next(int(line.split(':')[1]) for line in lines if line.lower().startswith('content-length'))
    await reader.readexactly(size)
    return int(lines[0].split()[1]), time.perf_counter() - start


async def load(url, concurrency, seconds, per_request, sentences):
    "N keep-alive clients posting until the deadline: (status, seconds) of every request, and the wall time."
    host, port = url.removeprefix('http://').split(':')
    deadline, seen = time.perf_counter() + seconds, []
    async def client(i):
        reader, writer = await asyncio.open_connection(host, int(port))
        j = i
        while time.perf_counter() < deadline:
            texts = [sentences[(j + k) % len(sentences)] for k in range(per_request)]
            status, took = await exchange(reader, writer, json.dumps({'texts': texts}).encode())
            seen.append((status, took))
            if status != 200: await asyncio.sleep(0.05)             # what a client told to retry would do
            j += concurrency
        writer.close()
    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return seen, time.perf_counter() - start


async def burst(url, clients, rounds, per_request, sentences):
    """`clients` connections opened first, then each posts at the same moment, `rounds` times in a row (a round starts
    when its client's last answer came): (status, seconds) of every request, and the wall time."""
    host, port = url.removeprefix('http://').split(':')
    conns = [await asyncio.open_connection(host, int(port)) for _ in range(clients)]
    bodies = [json.dumps({'texts': [sentences[(i * per_request + k) % len(sentences)] for k in range(per_request)]})
              .encode() for i in range(clients)]
    async def client(conn, body): return [await exchange(*conn, body) for _ in range(rounds)]
    start = time.perf_counter()
    seen = await asyncio.gather(*(client(conn, body) for conn, body in zip(conns, bodies)))
    wall = time.perf_counter() - start
    for _, writer in conns: writer.close()
    return [answer for answers in seen for answer in answers], wall


def summary(seen, wall, per_request):
    "Throughput and latency quantiles of the answered requests, and the refused ones counted and timed."
    ms = lambda xs, q: round(1000 * statistics.quantiles(xs, n=100)[q - 1], 1) if len(xs) > 1 else None
    ok, refused = [s for c, s in seen if c == 200], [s for c, s in seen if c != 200]
    return {'requests_per_s': round(len(ok) / wall, 1), 'sentences_per_s': round(len(ok) * per_request / wall, 1),
            'p50_ms': ms(ok, 50), 'p99_ms': ms(ok, 99), 'answered': len(ok), 'refused': len(refused),
            'refused_p50_ms': ms(refused, 50), 'refused_p99_ms': ms(refused, 99),
            'refused_max_ms': round(1000 * max(refused), 1) if refused else None}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('bundle')
    p.add_argument('--seconds', type=float, default=20.)
    p.add_argument('--texts', type=int, default=1, help='sentences per request')
    p.add_argument('--concurrency', type=int, nargs='+', default=[1, 32, 300])
    p.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    p.add_argument('--max-batch', type=int, nargs='+', default=[64])
    p.add_argument('--max-queue', type=int, default=256)
    p.add_argument('--burst', type=int, default=0, metavar='CLIENTS',
                   help='instead of a steady load: CLIENTS requests at the same moment, --rounds times')
    p.add_argument('--rounds', type=int, default=3)
    args = p.parse_args(argv)
    sentences = list(dict.fromkeys(phrasebook(3000, seed=11).fr))
    for workers in args.workers:
        for max_batch in args.max_batch:
            proc, url = start(args.bundle, workers, max_batch, args.max_queue)
            try:
                asyncio.run(load(url, 4, 2., args.texts, sentences))                   # warm-up
                if args.burst:
                    seen, wall = asyncio.run(burst(url, args.burst, args.rounds, args.texts, sentences))
                    print(json.dumps({'workers': workers, 'max_batch': max_batch, 'max_queue': args.max_queue,
                                      'burst': args.burst, 'rounds': args.rounds, 'texts_per_request': args.texts,
                                      **summary(seen, wall, args.texts), 'rss_mb': [round(m) for m in
                                                                                   rss_mb(proc.pid).values()]}))
                for concurrency in ([] if args.burst else args.concurrency):
                    seen, wall = asyncio.run(load(url, concurrency, args.seconds, args.texts, sentences))
                    memory = rss_mb(proc.pid)
                    print(json.dumps({'workers': workers, 'max_batch': max_batch, 'concurrency': concurrency,
                                      'texts_per_request': args.texts, **summary(seen, wall, args.texts),
                                      'rss_mb': [round(m) for m in memory.values()]}), flush=True)
            finally: proc.terminate(); proc.wait()


if __name__ == '__main__': main()
