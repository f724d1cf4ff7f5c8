"""Atomic file writes: write beside the target, then rename, so an interruption never leaves half a file."""
import os
from contextlib import contextmanager

from fastcore.xtras import Path

__all__ = ['atomic_path']


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
