"""`translate_chunks`: chunks translated by forked worker processes come back in order and as one process translates
them; one chunk stays in this process; a worker's error, or its death, reaches the caller."""
import copy
import multiprocessing
import os
import sys

import pytest

from fastseq.bundle import load_translator
from fastseq.errors import WorkerError
from fastseq.workers import translate_chunks

TEXTS = ['Je vois deux chats.', 'Où est la gare ?', '', 'Le chien est sous la table.', 'Qui a vu Marie ?']
CHUNKS = [TEXTS[:n] for n in (1, 5, 2, 4, 3)]       # chunks of other sizes: their order shows in the output


@pytest.fixture(scope='module')
def translator(trained, tmp_path_factory):
    return load_translator(trained.save_translator(tmp_path_factory.mktemp('workers') / 'translator'))


def wrapped(translator, translate):
    "A copy of the translator whose `translate(chunk, **kwargs)` is `translate(translator, chunk, kwargs)`."
    copied = copy.copy(translator)
    copied.translate = lambda chunk, **kwargs: translate(translator, chunk, kwargs)
    return copied


def with_pid(translator, chunk, kwargs): return translator.translate(chunk, **kwargs), os.getpid()


def test_workers_translate_in_order_as_one_process_does(translator):
    one = list(translate_chunks(translator, CHUNKS, workers=1, beam=2))
    assert [len(out) for out in one] == [1, 5, 2, 4, 3] and one[3] == translator.translate(CHUNKS[3], beam=2)
    outs, pids = zip(*translate_chunks(wrapped(translator, with_pid), CHUNKS, workers=2, beam=2))
    assert list(outs) == one
    assert os.getpid() not in pids and 1 <= len(set(pids)) <= 2
    assert multiprocessing.active_children() == []                     # the pool ended with the stream


def test_one_chunk_and_macos_stay_in_this_process(translator, monkeypatch):
    (out, pid), = translate_chunks(wrapped(translator, with_pid), CHUNKS[:1], workers=2)
    assert pid == os.getpid() and out == translator.translate(CHUNKS[0])
    monkeypatch.setattr(sys, 'platform', 'darwin')                     # where fork is not safe
    assert {pid for _, pid in translate_chunks(wrapped(translator, with_pid), CHUNKS, workers=2)} == {os.getpid()}
    with pytest.raises(ValueError, match='workers must be 1 or more, got 0'):
        list(translate_chunks(translator, CHUNKS, workers=0))


def failing(translator, chunk, kwargs):
    "Translations, but an error for a chunk with 'Qui', and a worker's death for one with 'chien'."
    if 'Qui a vu Marie ?' in chunk: raise ValueError('no Marie here')
    if 'Le chien est sous la table.' in chunk: os._exit(1)
    return translator.translate(chunk, **kwargs)


def test_a_workers_error_reaches_the_caller_and_a_dead_worker_is_an_error_not_a_wait(translator):
    chunks = [TEXTS[:2], TEXTS[:3], TEXTS[4:5], TEXTS[:2]]            # the third chunk fails in a worker
    with pytest.raises(ValueError, match='no Marie here'):
        list(translate_chunks(wrapped(translator, failing), chunks, workers=2))
    chunks[2] = TEXTS[3:4]                                             # now its worker dies
    with pytest.raises(WorkerError, match='ended without its result'):
        list(translate_chunks(wrapped(translator, failing), chunks, workers=2))
