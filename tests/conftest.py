"""Shared fixtures: small corpora and a tiny trained-for-real learner, built once per session."""
import pytest
import torch
from fastai.torch_core import set_seed

from fastseq.data import Seq2SeqDataLoaders
from fastseq.datasets import phrasebook


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: trains a model for a minute or more')


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
