"""The star-import surface for notebooks: `from fastseq.all import *`."""
from fastai.learner import load_learner

from .attention import AdditiveAttention
from .bench import run_bench
from .callbacks import (AttentionCapture, EpochPrinter, StopOnNonFiniteLoss, TeacherForcing, TimeBudget,
                        forcing_probability)
from .checkpoint import CheckpointEveryEpoch, load_checkpoint, resume, save_checkpoint
from .data import PairDataset, Seq2SeqDataLoaders, SortishDL, TextProcessor, pad_batch
from .datasets import clean_pairs, phrasebook, question_filter, read_files, read_tsv
from .decode import beam_search, greedy_decode, length_penalty, max_output_lens
from .inference import Translator, decode_batch, translate_texts
from .distributed import distributed, is_distributed
from .embeddings import Coverage, auto_epochs, embedding_matrix, read_vec, train_vectors
from .errors import CorpusError, CorpusNotFoundError, ModelFileError, NonFiniteLossError
from .interpret import Seq2SeqInterpretation, plot_attention, plot_attention_steps, results_table, save_figure
from .io import show_table
from .learner import Seq2SeqLearner, seq2seq_learner, seq2seq_splitter
from .metrics import ChrF, CorpusBLEU, Perplexity, Seq2SeqLoss, TokenAccuracy, corpus_bleu, corpus_chrf, tokenized_bleu
from .model import Decoder, Encoder, Seq2SeqConfig, Seq2SeqRNN
from .stream import CachedPairs, build_cache, stream_pairs
from .tokenize import Seq2SeqTokenizer
from .vocab import Vocab

__all__ = ['load_learner', 'AdditiveAttention', 'AttentionCapture', 'Seq2SeqInterpretation', 'results_table',
           'show_table', 'auto_epochs', 'StopOnNonFiniteLoss', 'CheckpointEveryEpoch', 'load_checkpoint', 'resume',
           'save_checkpoint', 'NonFiniteLossError', 'EpochPrinter', 'TeacherForcing', 'TimeBudget',
           'forcing_probability', 'run_bench', 'tokenized_bleu', 'CachedPairs', 'build_cache', 'stream_pairs',
           'PairDataset', 'Seq2SeqDataLoaders', 'SortishDL', 'TextProcessor', 'pad_batch', 'clean_pairs', 'phrasebook',
           'question_filter', 'read_files', 'read_tsv', 'greedy_decode', 'max_output_lens', 'beam_search',
           'length_penalty', 'Translator', 'decode_batch', 'translate_texts', 'Coverage', 'embedding_matrix',
           'read_vec', 'train_vectors', 'CorpusError', 'distributed', 'is_distributed',
           'CorpusNotFoundError', 'ModelFileError', 'plot_attention', 'plot_attention_steps', 'save_figure',
           'Seq2SeqLearner', 'seq2seq_learner', 'seq2seq_splitter', 'ChrF', 'CorpusBLEU', 'Perplexity', 'Seq2SeqLoss',
           'TokenAccuracy', 'corpus_bleu', 'corpus_chrf', 'Decoder', 'Encoder', 'Seq2SeqConfig', 'Seq2SeqRNN',
           'Seq2SeqTokenizer', 'Vocab']
