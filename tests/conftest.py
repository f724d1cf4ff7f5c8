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
def small_dls(small_df):
    set_seed(0)
    return Seq2SeqDataLoaders.from_df(small_df, bs=32, valid_pct=0.2, seed=0, device=torch.device('cpu'), verbose=False)


@pytest.fixture
def tiny_arch(): return dict(emb_sz_src=32, emb_sz_tgt=32, n_hid_enc=24, n_hid_dec=32, att_sz=16, bidir=True)
