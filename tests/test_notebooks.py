"""Executes every notebook in nbs/ top to bottom: 03 trains and exports the demo model (once, shared with the
learning test), 04 and 05 load it from 03's folder; the others run in folders of their own. A cell that raises fails
the test."""
import pytest

from conftest import NBS, execute_notebook

NOTEBOOKS = sorted(NBS.glob('*.ipynb'))
NEED_DEMO = ('03_training.ipynb', '04_attention.ipynb', '05_inference.ipynb')
PARAMS = [pytest.param(p, id=p.name, marks=[pytest.mark.xdist_group('demo')] if p.name in NEED_DEMO else [])
          for p in NOTEBOOKS]  # with the other users of the demo model, in the worker that trains it


@pytest.mark.parametrize('path', PARAMS)
def test_notebook_runs(path, request, tmp_path):
    if path.name in NEED_DEMO:
        folder, nb03 = request.getfixturevalue('demo_notebook')
        nb = nb03 if path.name == '03_training.ipynb' else execute_notebook(path, folder)
    else: nb = execute_notebook(path, tmp_path)
    assert any(c.get('outputs') for c in nb.cells if c.cell_type == 'code')


def test_there_are_notebooks(): assert '03_training.ipynb' in [p.name for p in NOTEBOOKS]


def test_the_committed_notebooks_show_their_plots_and_tables():
    "A repository browser shows 03's lr_find plot and epoch table and 04's attention per step (`make notebooks`)."
    import nbformat
    def outputs(name, code):
        cells = [c for c in nbformat.read(NBS / name, as_version=4).cells if c.cell_type == 'code' and code in c.source]
        assert cells, code
        return [o.get('data', {}) for c in cells for o in c.outputs]
    assert any('image/png' in d for d in outputs('03_training.ipynb', 'lr_find('))
    assert any('epoch' in d.get('text/html', '') for d in outputs('03_training.ipynb', 'fit_one_cycle('))
    assert any('image/png' in d for d in outputs('04_attention.ipynb', "kind='steps'"))
