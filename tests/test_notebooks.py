"""Executes every notebook in nbs/ top to bottom, in one folder: 03 trains and exports the demo model (once, shared
with the learning test), 04 and 05 load it; a cell that raises fails the test."""
import pytest

from conftest import NBS, execute_notebook

NOTEBOOKS = sorted(NBS.glob('*.ipynb'))


@pytest.mark.parametrize('path', NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, demo_notebook):
    folder, nb03 = demo_notebook
    nb = nb03 if path.name == '03_training.ipynb' else execute_notebook(path, folder)
    assert any(c.get('outputs') for c in nb.cells if c.cell_type == 'code')


def test_there_are_notebooks(): assert '03_training.ipynb' in [p.name for p in NOTEBOOKS]
