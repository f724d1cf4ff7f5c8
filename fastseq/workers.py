"""Translating a stream of texts in chunks with several worker processes of one thread each, forked from the process
that loaded the translator, as Marian's CPU workers do: a decoding step's products are too small to share well between
threads, and the text processing around them runs on one, so whole chunks per core use a CPU better
(docs/performance.md)."""
import gc
import multiprocessing
import signal
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice

import torch

from .errors import OptionError, WorkerError

__all__ = ['MAX_WORKERS', 'translate_chunks']

MAX_WORKERS = 8   # the command's default caps its workers here: each holds the pages it writes to (docs/performance.md)


def translate_chunks(translator, chunks, workers=1, **kwargs):
    """Yield `translator.translate(chunk, **kwargs)` for each chunk (a list of texts) of the iterable `chunks`, in
    order. With `workers` > 1, a model on the CPU and more than one chunk, that many forked processes of one thread
    each translate the chunks, at most two per worker ahead of the one yielded (a long stream is read as it is
    translated); one chunk, a model on a GPU, or macOS, stays in this process."""
    if workers < 1: raise OptionError(f"workers must be 1 or more, got {workers}", 'workers')
    chunks = iter(chunks)
    head = list(islice(chunks, 2))
    if workers == 1 or len(head) < 2 or not _forkable(translator):
        yield from (translator.translate(chunk, **kwargs) for chunk in chain(head, chunks))
        return
    _warm_up(translator, head, kwargs)
    yield from _pooled(translator, chain(head, chunks), workers, kwargs)


def _forkable(translator):
    """Whether worker processes can be forked to decode with `translator`: a CPU model, and a system that forks safely
    (not macOS, whose system libraries may start threads that a forked child lacks; Python's documentation)."""
    on_cpu = next(translator.model.parameters()).device.type == 'cpu'
    return on_cpu and sys.platform != 'darwin' and 'fork' in multiprocessing.get_all_start_methods()


def _warm_up(translator, chunks, kwargs):
    """Translate the first text of `chunks` that is not blank here, before the workers are forked: what `translate`
    builds on its first call (spaCy's tokenizer rules, seconds) is then built once, and the workers share its pages."""
    first = next((text for chunk in chunks for text in chunk if text.strip()), None)
    if first is not None: translator.translate([first], **kwargs)


def _pooled(translator, chunks, workers, kwargs):
    """The translations of `chunks` by `workers` forked processes, in order. The pool ends with the generator; a worker
    that dies ends it with a `WorkerError` (a pool of `multiprocessing` would wait for its result for ever)."""
    pool = ProcessPoolExecutor(workers, multiprocessing.get_context('fork'), _start_worker, (translator, kwargs))
    pending = deque()
    gc.freeze()     # the workers' collectors leave the objects made so far alone, so they share more of their pages
    try: pending.append(pool.submit(_translate, next(chunks)))         # the first task forks the workers
    finally: gc.unfreeze()
    try:
        for chunk in chunks:
            pending.append(pool.submit(_translate, chunk))
            if len(pending) > 2 * workers: yield pending.popleft().result()
        while pending: yield pending.popleft().result()
        pool.shutdown()
    except BrokenProcessPool:
        raise WorkerError(f"a translation worker ended without its result (killed, or out of memory?); try fewer "
                          f"workers than {workers}") from None
    finally: pool.shutdown(wait=False, cancel_futures=True)


_WORKER = {}   # in a worker process: the translator it was forked with and translate's options


def _start_worker(translator, kwargs):
    "A worker's set-up: one thread, Ctrl-C left to the parent (which ends the pool), the translator it decodes with."
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    _WORKER.update(translator=translator, kwargs=kwargs)


def _translate(chunk): return _WORKER['translator'].translate(chunk, **_WORKER['kwargs'])
