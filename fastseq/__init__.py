"""fastseq: fastai-style neural machine translation with recurrent sequence-to-sequence models."""
from .callbacks import TeacherForcing
from .data import Seq2SeqDataLoaders
from .datasets import phrasebook
from .errors import CorpusError, CorpusNotFoundError, ModelFileError, OptionError
from .inference import Translator, load_translator
from .learner import Seq2SeqLearner, seq2seq_learner
from .model import Seq2SeqConfig, Seq2SeqRNN
from .training import TrainConfig, evaluate, train
from .version import __version__

__all__ = ['__version__', 'TeacherForcing', 'Seq2SeqDataLoaders', 'phrasebook', 'CorpusError', 'CorpusNotFoundError',
           'ModelFileError', 'OptionError', 'Translator', 'load_translator', 'Seq2SeqLearner', 'seq2seq_learner',
           'Seq2SeqConfig', 'Seq2SeqRNN', 'TrainConfig', 'evaluate', 'train']
