"""Streaming a corpus larger than memory into a fastseq cache: a generated two-file phrasebook corpus (not committed),
then `build_cache` with 1 and 2 tokenizing worker processes, each in a fresh process so that peak memory is its own.

    PYTHONPATH=. python bench/stream_corpus.py /tmp/stream 5000000          # folder, line pairs [workers ...]

Prints one JSON object per run: lines/s through filter + tokenize + numericalize, peak RSS of the main process and
of the largest worker, cache size on disk, seconds to build DataLoaders from the cache, seconds for a re-run that
finds the cache complete."""
import json
import resource
import shutil
import subprocess
import sys
import time

from fastcore.xtras import Path


def generate(folder, n_pairs, chunk=100_000):
    "Two line-aligned files of phrasebook pairs, written chunk by chunk (seed = chunk number)."
    from fastseq.phrasebook import phrasebook
    src, tgt = folder / 'corpus.fr', folder / 'corpus.en'
    if src.is_file() and sum(1 for _ in open(src, 'rb')) == n_pairs: return src, tgt
    with open(src, 'w', encoding='utf-8') as f_src, open(tgt, 'w', encoding='utf-8') as f_tgt:
        for i, start in enumerate(range(0, n_pairs, chunk)):
            df = phrasebook(min(chunk, n_pairs - start), seed=i)
            f_src.write('\n'.join(df.fr) + '\n'); f_tgt.write('\n'.join(df.en) + '\n')
    return src, tgt


def du(folder): return sum(f.stat().st_size for f in Path(folder).rglob('*') if f.is_file())


def one_run(folder, workers, questions):
    "Build the cache from scratch, load DataLoaders from it, re-run the build: figures as one JSON line."
    from fastseq.data import Seq2SeqDataLoaders
    from fastseq.cache import build_cache
    src, tgt = folder / 'corpus.fr', folder / 'corpus.en'
    cache = folder / f"cache_w{workers}{'_q' if questions else ''}"
    shutil.rmtree(cache, ignore_errors=True)
    t0 = time.perf_counter()
    build_cache(src, cache, tgt_path=tgt, n_workers=workers, questions=questions, min_freq=2)
    build_s = time.perf_counter() - t0
    rss_main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    t0 = time.perf_counter()
    dls = Seq2SeqDataLoaders.from_cache(cache, bs=125, max_len=30, device='cpu')
    dls_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_cache(src, cache, tgt_path=tgt, n_workers=workers, questions=questions, min_freq=2)
    rerun_s = time.perf_counter() - t0
    meta = json.loads((cache / 'cache.json').read_text())['stats']
    print(json.dumps(dict(workers=workers, questions=questions, lines=meta['lines'], n_train=meta['n_train'],
                          build_s=round(build_s, 1), lines_per_s=round(meta['lines'] / build_s),
                          peak_rss_main_mb=round(rss_main), peak_rss_worker_mb=round(rss_worker),
                          cache_mb=round(du(cache) / 2**20, 1), dataloaders_s=round(dls_s, 2),
                          rerun_s=round(rerun_s, 3), train_batches=len(dls.train))), flush=True)


def main(folder, n_pairs, workers=(1, 2)):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    generate(folder, n_pairs)
    size = sum((folder / f'corpus.{lang}').stat().st_size for lang in ('fr', 'en'))
    secs = time.perf_counter() - t0
    print(f"corpus: {n_pairs:,} line pairs, {size / 2**20:.0f} MB on disk ({secs:.0f} s)", flush=True)
    for w in workers:
        subprocess.run([sys.executable, __file__, '--one', str(folder), str(w)], check=True)


if __name__ == '__main__':
    if sys.argv[1] == '--one': one_run(Path(sys.argv[2]), int(sys.argv[3]), len(sys.argv) > 4)
    else: main(sys.argv[1], int(sys.argv[2]), [int(w) for w in sys.argv[3:]] or (1, 2))
