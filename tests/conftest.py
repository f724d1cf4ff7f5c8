"""Shared fixtures: small corpora and a tiny trained-for-real learner, built once per session (per worker under
pytest-xdist); `call` runs the `fastseq` command in this process."""
import importlib.util
import io
import os
import pathlib
import sys
from contextlib import redirect_stderr, redirect_stdout
from types import SimpleNamespace

import pytest
import torch
from fastai.torch_core import set_seed

from fastseq.cli import main
from fastseq.data import Seq2SeqDataLoaders
from fastseq.datasets import phrasebook


NBS = pathlib.Path(__file__).parent.parent / 'nbs'  # markers are registered in pytest.ini (--strict-markers)

if os.environ.get('PYTEST_XDIST_WORKER'):  # workers share the cores: one thread each, and so the processes they start
    os.environ.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    torch.set_num_threads(1)


@pytest.fixture(scope='session', autouse=True)
def cache_folder(tmp_path_factory):
    "fastseq's cache (corpus vectors) in a temporary folder, for this process and the processes it starts."
    os.environ['FASTSEQ_CACHE'] = str(tmp_path_factory.mktemp('cache'))
    return os.environ['FASTSEQ_CACHE']


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(items):
    "Under pytest-xdist, the tests that use the demo model run in one worker, which trains it once."
    for item in items:
        if 'demo_notebook' in item.fixturenames: item.add_marker(pytest.mark.xdist_group('demo'))


def execute_notebook(path, folder):
    "Run a notebook top to bottom in `folder`, from cleared outputs (small settings for 06), as `make notebooks` does."
    spec = importlib.util.spec_from_file_location('run_notebooks', NBS / 'run_notebooks.py')
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    return runner.execute_notebook(path, folder)


@pytest.fixture(scope='session')
def demo_notebook(tmp_path_factory):
    """nbs/03_training run once: it trains the demo model step by step and exports `demo.pkl` into the returned
    folder, where notebooks 04 and 05 load it and the learning test scores it."""
    folder = tmp_path_factory.mktemp('nbs')
    return folder, execute_notebook(NBS / '03_training.ipynb', folder)


@pytest.fixture(scope='session')
def small_df(): return phrasebook(600, seed=3)


@pytest.fixture(scope='session')
def small_dls(small_df, tmp_path_factory):
    "Phrasebook DataLoaders whose path (where vector caches go) is a temporary folder, not the working directory."
    set_seed(0)
    return Seq2SeqDataLoaders.from_df(small_df, bs=32, valid_pct=0.2, seed=0, device=torch.device('cpu'), verbose=False,
                                      path=tmp_path_factory.mktemp('data'))


@pytest.fixture
def tiny_arch(): return dict(emb_sz_src=32, emb_sz_tgt=32, n_hid_enc=24, n_hid_dec=32, att_sz=16, bidir=True)


@pytest.fixture(scope='session')
def trained(small_dls, tmp_path_factory):
    "A tiny learner trained for two epochs on 480 phrasebook pairs: real weights, not a good translator."
    from fastseq.callbacks import TeacherForcing
    from fastseq.learner import seq2seq_learner
    torch.manual_seed(0)
    learn = seq2seq_learner(small_dls, path=tmp_path_factory.mktemp('learn'), emb_sz_src=32, emb_sz_tgt=32,
                            n_hid_enc=24, n_hid_dec=32, att_sz=16, bidir=True)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(2, 1e-2, cbs=TeacherForcing())
    return learn


def call(*args, stdin=None):
    "`fastseq ARGS` in this process, with `stdin` as its standard input: returncode, stdout and stderr."
    out, err, old_stdin = io.StringIO(), io.StringIO(), sys.stdin
    if stdin is not None: sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode('utf-8')), encoding='utf-8')
    try:
        with redirect_stdout(out), redirect_stderr(err): code = main(list(map(str, args)))
    finally: sys.stdin = old_stdin
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())
