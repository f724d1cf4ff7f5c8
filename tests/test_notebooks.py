"""Executes every notebook in nbs/ top to bottom; a cell that raises fails the test."""
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NBS = sorted((pathlib.Path(__file__).parent.parent / 'nbs').glob('*.ipynb'))


@pytest.mark.parametrize('path', NBS, ids=[p.name for p in NBS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv('FASTSEQ_NB_SMALL', '1')   # 06_tatoeba: a small slice of the real data (or phrasebook TSVs)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}}).execute()
    assert any(c.get('outputs') for c in nb.cells if c.cell_type == 'code')


def test_there_are_notebooks(): assert NBS
