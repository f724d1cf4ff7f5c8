"""Output helpers: atomic file writes (write beside, then rename: an interruption never leaves half a file) and
tables shown as HTML in a notebook, as text elsewhere."""
import os
from contextlib import contextmanager

from fastcore.imports import IN_NOTEBOOK
from fastcore.xtras import Path

__all__ = ['atomic_path', 'show_table']


@contextmanager
def atomic_path(path):
    "Yield a temporary path next to `path`; on success it replaces `path` in one rename, on failure it goes."
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists(): tmp.unlink()


def show_table(df):
    "Display a DataFrame: rendered in a notebook, printed in full (no truncated cells) in a terminal or log."
    if IN_NOTEBOOK:
        from fastai.torch_core import display_df
        display_df(df)
    else: print(df.to_string(index=False))
