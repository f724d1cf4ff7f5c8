"""fastseq: fastai-style neural machine translation with recurrent sequence-to-sequence models."""
__version__ = '0.1.0'

from .callbacks import TeacherForcing
from .data import Seq2SeqDataLoaders
from .datasets import phrasebook
from .errors import CorpusError, CorpusNotFoundError, ModelFileError
from .inference import Translator
from .learner import Seq2SeqLearner, seq2seq_learner
from .model import Seq2SeqConfig, Seq2SeqRNN

__all__ = ['__version__', 'TeacherForcing', 'Seq2SeqDataLoaders', 'phrasebook', 'CorpusError', 'CorpusNotFoundError',
           'ModelFileError', 'Translator', 'Seq2SeqLearner', 'seq2seq_learner', 'Seq2SeqConfig', 'Seq2SeqRNN']
