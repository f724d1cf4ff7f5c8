"""Output helpers: atomic file writes (write beside, then rename: an interruption never leaves half a file), the cache
folder, tables shown as HTML in a notebook, as text elsewhere, and progress: a bar there, a line per tenth in logs."""
import hashlib
import json
import os
import sys
from contextlib import contextmanager

from fastcore.imports import IN_NOTEBOOK
from fastcore.xtras import Path
from fastprogress.fastprogress import progress_bar

__all__ = ['atomic_path', 'remove_stale_temporaries', 'cache_dir', 'file_key', 'show_table', 'Progress']


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


def remove_stale_temporaries(path):
    """Delete the temporary files `atomic_path` left next to `path` in processes that no longer run (a SIGKILL during
    a write leaves one; the file itself is whole, the old or the new)."""
    path = Path(path)
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:-len('.tmp')]
        if pid.isdigit() and not _running(int(pid)): tmp.unlink(missing_ok=True)


def _running(pid):
    "Whether process `pid` exists (signal 0 checks without sending; another user's process answers PermissionError)."
    try: os.kill(pid, 0)
    except ProcessLookupError: return False
    except PermissionError: pass
    return True


def cache_dir(*parts):
    """fastseq's cache folder (`parts` below it): `FASTSEQ_CACHE` where set, else `$XDG_CACHE_HOME/fastseq` or
    `~/.cache/fastseq`; what is cached there (corpus vectors) is rebuilt when missing, not left in a working folder."""
    env = os.environ.get('FASTSEQ_CACHE')
    root = Path(env) if env else Path(os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache') / 'fastseq'
    return root.expanduser().joinpath(*parts)


def file_key(paths, *parts):
    "A short hash of files (path, size, modification time) and JSON-able `parts`: a changed file or option changes it."
    stats = [(str(Path(p).absolute()), Path(p).stat().st_size, Path(p).stat().st_mtime_ns) for p in paths if p]
    return hashlib.sha1(json.dumps([stats, parts], sort_keys=True).encode()).hexdigest()[:16]


def show_table(df):
    "Display a DataFrame: rendered in a notebook, printed in full (no truncated cells) in a terminal or log."
    if IN_NOTEBOOK:
        from fastai.torch_core import display_df
        display_df(df)
    else: print(df.to_string(index=False))


class Progress:
    "fastprogress's bar in a terminal or notebook; in a log, a line at every tenth of the work."
    def __init__(self, total, what, verbose):
        self.total, self.what, self.verbose, self.bar, self.i = total, what, verbose, None, 0
        self.live = verbose and (IN_NOTEBOOK or sys.stdout.isatty())

    def __call__(self, items):
        if self.live: self.bar = items = progress_bar(items, total=self.total)
        for i, item in enumerate(items, 1):
            self.i = i
            yield item

    def comment(self, text):
        if self.bar is not None: self.bar.comment = text
        elif self.verbose and (self.i == self.total or self.i % max(1, self.total // 10) == 0):
            print(f"{self.what}: {text}", flush=True)
