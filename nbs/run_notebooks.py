"""Execute the notebooks top to bottom in one scratch folder, in order (03 exports the demo model that 04 and 05 load;
06 in its small mode, on a slice of Tatoeba), and write them back with their outputs, images narrowed to at most
`MAX_WIDTH` pixels, so that a repository browser shows the plots and tables. `make notebooks` runs it; the tests
execute the notebooks from scratch with `execute_notebook`.

    python nbs/run_notebooks.py [NAME ...]      # all notebooks, or those named (03 first when 04 or 05 are named)
"""
import base64
import io
import os
import sys
import tempfile
from pathlib import Path

NBS = Path(__file__).parent
MAX_WIDTH = 720  # pixels: every committed image is carried by the repository on each change


def execute_notebook(path, folder):
    "Run a notebook top to bottom in `folder` from cleared outputs (06 in its small mode); returns it with its outputs."
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == 'code': cell.outputs, cell.execution_count = [], None
    old = os.environ.get('FASTSEQ_NB_SMALL')
    os.environ['FASTSEQ_NB_SMALL'] = '1'         # 06_tatoeba: a small slice of the real data (or phrasebook TSVs)
    try: NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': str(folder)}}).execute()
    finally:
        if old is None: del os.environ['FASTSEQ_NB_SMALL']
        else: os.environ['FASTSEQ_NB_SMALL'] = old
    return nb


def shrink_images(nb, max_width=MAX_WIDTH):
    "Re-encode every PNG output no wider than `max_width` pixels (aspect kept), in a 256-colour palette."
    from PIL import Image
    for cell in nb.cells:
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if 'image/png' not in data: continue
            img = Image.open(io.BytesIO(base64.b64decode(data['image/png'])))
            if img.width > max_width: img = img.resize((max_width, round(img.height * max_width / img.width)))
            img = img.quantize(colors=256, method=Image.Quantize.FASTOCTREE)    # plots: a palette loses nothing seen
            buf = io.BytesIO()
            img.save(buf, format='PNG', optimize=True)
            data['image/png'] = base64.b64encode(buf.getvalue()).decode()
            out.get('metadata', {}).pop('image/png', None)             # width hints of the original size
    return nb


def strip_run_details(nb, folder):
    """Drop what changes on every run or names this machine rather than the notebook: timings, kernel versions,
    third-party warnings (their text holds the installation's paths) and the scratch folder's path."""
    for cell in nb.cells:
        cell.metadata.pop('execution', None)
        if cell.cell_type != 'code': continue
        cell.outputs = [o for o in cell.outputs if not (o.get('name') == 'stderr' and 'site-packages' in o.text)]
        for o in cell.outputs:
            if o.get('output_type') == 'stream': o.text = o.text.replace(f"{folder}/", '')
    nb.metadata.get('language_info', {}).pop('version', None)
    return nb


def main(names=()):
    import nbformat
    paths = sorted(NBS.glob('*.ipynb'))
    if names:
        needs_demo = {'04_attention.ipynb', '05_inference.ipynb'} & set(names)
        wanted = set(names) | ({'03_training.ipynb'} if needs_demo else set())
        paths = [p for p in paths if p.name in wanted]
    with tempfile.TemporaryDirectory() as folder:
        for path in paths:
            nb = strip_run_details(shrink_images(execute_notebook(path, folder)), folder)
            nbformat.write(nb, path)
            print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB with outputs", flush=True)


if __name__ == '__main__': main(sys.argv[1:])
