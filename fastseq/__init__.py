"""fastseq: fastai-style neural machine translation with recurrent sequence-to-sequence models."""
from importlib import import_module

from .version import __version__

_HOMES = {'TeacherForcing': 'callbacks', 'Seq2SeqDataLoaders': 'data', 'phrasebook': 'datasets',
          'CorpusError': 'errors', 'CorpusNotFoundError': 'errors', 'ModelFileError': 'errors', 'OptionError': 'errors',
          'Translator': 'inference', 'load_translator': 'bundle', 'Seq2SeqLearner': 'learner',
          'seq2seq_learner': 'learner', 'Seq2SeqConfig': 'model', 'Seq2SeqRNN': 'model', 'TrainConfig': 'config',
          'evaluate': 'training', 'train': 'training', 'distill': 'distillation'}

__all__ = ['__version__', *_HOMES]


def __getattr__(name):
    """The public names, each imported from its module on first use, so that `import fastseq.cli` can set up its
    warning filters before fastai is imported."""
    if name not in _HOMES: raise AttributeError(f"module 'fastseq' has no attribute {name!r}")
    return getattr(import_module(f'.{_HOMES[name]}', __name__), name)


def __dir__(): return sorted([*globals(), *_HOMES])
