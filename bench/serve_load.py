"""Load test of `fastseq serve` on this machine: requests/s, sentences/s and p50/p99 latency at concurrency 1 and 32,
with request batching on (`--max-batch 64`) and off (`--max-batch 1`, one request decoded at a time).

    PYTHONPATH=. python bench/serve_load.py BUNDLE [SECONDS] [TEXTS_PER_REQUEST]

Each configuration starts its own server on 127.0.0.1 and a free port, sends requests of TEXTS_PER_REQUEST validation-
like phrasebook sentences from N client threads for SECONDS (after a short warm-up), and stops by itself; every
request goes to this machine only. Prints one JSON line per configuration."""
import json
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx

from fastseq.datasets import phrasebook


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start(bundle, max_batch):
    port = free_port()
    proc = subprocess.Popen([sys.executable, '-m', 'fastseq.cli', 'serve', bundle, '--port', str(port),
                             '--max-batch', str(max_batch)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + '/health', timeout=1); return proc, url
        except httpx.HTTPError: time.sleep(0.2)
    proc.kill(); raise TimeoutError(url)


def load(url, concurrency, seconds, per_request, sentences):
    "Client threads posting until the deadline; latencies of the requests that completed in the measured window."
    latencies, n_sent, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds
    def client(i):
        with httpx.Client(timeout=60) as c:
            j = i
            while time.perf_counter() < deadline:
                texts = [sentences[(j + k) % len(sentences)] for k in range(per_request)]
                t0 = time.perf_counter()
                r = c.post(url + '/translate', json={'texts': texts})
                r.raise_for_status()
                with lock: latencies.append(time.perf_counter() - t0); n_sent[0] += per_request
                j += concurrency
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {'requests_per_s': len(latencies) / wall, 'sentences_per_s': n_sent[0] / wall,
            'p50_ms': 1000 * q[49], 'p99_ms': 1000 * q[98], 'requests': len(latencies)}


def main(bundle, seconds=20., per_request=1):
    sentences = list(dict.fromkeys(phrasebook(3000, seed=11).fr))
    for max_batch in (64, 1):
        proc, url = start(bundle, max_batch)
        try:
            load(url, 4, 2., per_request, sentences)                       # warm-up
            for concurrency in (1, 32):
                result = load(url, concurrency, seconds, per_request, sentences)
                print(json.dumps({'batching': max_batch > 1, 'concurrency': concurrency,
                                  'texts_per_request': per_request, **{k: round(v, 1) for k, v in result.items()}}),
                      flush=True)
        finally: proc.terminate(); proc.wait()


if __name__ == '__main__': main(sys.argv[1], *(float(a) for a in sys.argv[2:3]), *(int(a) for a in sys.argv[3:4]))
