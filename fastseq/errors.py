"""Errors fastseq raises at its boundaries: each names the file, line or argument at fault."""
import errno

__all__ = ['CorpusError', 'CorpusNotFoundError', 'ModelFileError', 'NonFiniteLossError', 'OptionError', 'WorkerError']


class CorpusError(ValueError):
    "A corpus file or frame that cannot be read as parallel text; the message names the file and line."
    def __init__(self, msg, path=None, line=None):
        where = f"{path}" + (f", line {line}" if line is not None else "") if path is not None else None
        super().__init__(f"{where}: {msg}" if where else msg)
        self.path, self.line = path, line


class CorpusNotFoundError(FileNotFoundError):
    "A corpus path that does not exist."
    def __init__(self, path, what='corpus file'):
        super().__init__(errno.ENOENT, f"{what} not found", str(path))


class ModelFileError(ValueError):
    "A saved model file or bundle that cannot be loaded; the message says why."


class NonFiniteLossError(FloatingPointError):
    "The training loss became NaN or infinite; the message names the epoch and batch and suggests a remedy."


class OptionError(ValueError):
    "An option value or combination that cannot work; `params` names the options at fault, as the message does."
    def __init__(self, msg, *params):
        super().__init__(msg)
        self.params = params


class WorkerError(RuntimeError):
    "A worker process that ended before it gave its result back (killed by a signal, or by the system out of memory)."
