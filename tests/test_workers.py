"""`translate_chunks`: chunks translated by forked worker processes come back in order and as one process translates
them; one chunk stays in this process; a worker's error reaches the caller."""
import copy
import multiprocessing
import os

import pytest

from fastseq.bundle import load_translator
from fastseq.workers import translate_chunks

TEXTS = ['Je vois deux chats.', 'Où est la gare ?', '', 'Le chien est sous la table.', 'Qui a vu Marie ?']
CHUNKS = [TEXTS[:n] for n in (1, 5, 2, 4, 3)]       # chunks of other sizes: their order shows in the output


@pytest.fixture(scope='module')
def translator(trained, tmp_path_factory):
    return load_translator(trained.save_translator(tmp_path_factory.mktemp('workers') / 'translator'))


def with_pid(translator):
    "A copy of the translator whose `translate` also answers with the id of the process that ran it."
    copied = copy.copy(translator)
    copied.translate = lambda chunk, **kwargs: (translator.translate(chunk, **kwargs), os.getpid())
    return copied


def test_workers_translate_in_order_as_one_process_does(translator):
    one = list(translate_chunks(translator, CHUNKS, workers=1, beam=2))
    assert [len(out) for out in one] == [1, 5, 2, 4, 3] and one[3] == translator.translate(CHUNKS[3], beam=2)
    outs, pids = zip(*translate_chunks(with_pid(translator), CHUNKS, workers=2, beam=2))
    assert list(outs) == one
    assert os.getpid() not in pids and 1 <= len(set(pids)) <= 2
    assert multiprocessing.active_children() == []                     # the pool ended with the stream


def test_one_chunk_stays_in_this_process_and_errors_reach_the_caller(translator):
    (out, pid), = translate_chunks(with_pid(translator), CHUNKS[:1], workers=2)
    assert pid == os.getpid() and out == translator.translate(CHUNKS[0])
    with pytest.raises(ValueError, match='beam must be 1'):
        list(translate_chunks(translator, CHUNKS, workers=2, beam=0))     # raised in a worker
    with pytest.raises(ValueError, match='workers must be 1 or more, got 0'):
        list(translate_chunks(translator, CHUNKS, workers=0))
