"""The star-import surface for notebooks: `from fastseq.all import *`."""
from fastai.learner import load_learner

from .attention import AdditiveAttention, DotAttention, GeneralAttention, make_attention
from .averaging import AverageWeights
from .bench import run_bench
from .cache import CachedCorpus, build_cache, open_cache
from .callbacks import (AttentionCapture, EpochPrinter, StopOnNonFiniteLoss, TeacherForcing, ThroughputMeter,
                        TimeBudget, forcing_probability)
from .checkpoint import SaveCheckpoint, load_checkpoint, resume, save_checkpoint
from .data import Seq2SeqDataLoaders, SortishDL, TextProcessor, pad_batch
from .datasets import clean_pairs, phrasebook, question_filter, read_files, read_tsv, stream_pairs
from .decode import beam_search, decode_batch, greedy_decode, length_penalty, max_output_lens
from .distributed import distributed, is_distributed
from .embeddings import Coverage, auto_epochs, embedding_matrix, read_vec, train_vectors
from .errors import CorpusError, CorpusNotFoundError, ModelFileError, NonFiniteLossError, OptionError
from .bundle import load_bundle, load_ensemble, load_translator, save_bundle
from .inference import Attended, Translator, translate_texts
from .fused import FusedProjectionLoss
from .interpret import Seq2SeqInterpretation, plot_attention, plot_attention_steps, results_table, save_figure
from .io import show_table
from .learner import Seq2SeqLearner, seq2seq_learner, seq2seq_splitter
from .losses import Seq2SeqLoss
from .metrics import ChrF, CorpusBLEU, Perplexity, TokenAccuracy, corpus_bleu, corpus_chrf, tokenized_bleu
from .model import Architecture, BahdanauDecoder, Decoder, Encoder, Ensemble, LuongDecoder, Seq2SeqConfig, Seq2SeqRNN
from .pairs import PairDataset
from .placeholders import copy_unknown, protect, restore
from .sentences import split_sentences
from .shortlist import ShortlistLoss
from .precision import Autocast, ProjectionAutocast, precision_callbacks, resolve_precision
from .tokenize import TOKENIZERS, Seq2SeqTokenizer, SubwordTokenizer, train_sentencepiece
from .config import PRESETS, TrainConfig, learner_options
from .training import evaluate, evaluation_line, run_demo, train
from .distillation import distill, translate_corpus
from .vocab import Vocab
from .warm_start import warm_start

__all__ = ['load_learner', 'AdditiveAttention', 'DotAttention', 'GeneralAttention', 'make_attention', 'AverageWeights',
           'Ensemble', 'load_ensemble', 'SubwordTokenizer', 'train_sentencepiece', 'TOKENIZERS', 'run_bench',
           'CachedCorpus',
           'build_cache', 'open_cache',
           'AttentionCapture', 'Autocast', 'EpochPrinter', 'StopOnNonFiniteLoss', 'TeacherForcing', 'ThroughputMeter',
           'TimeBudget', 'forcing_probability', 'SaveCheckpoint', 'load_checkpoint', 'resume', 'save_checkpoint',
           'Seq2SeqDataLoaders', 'SortishDL', 'TextProcessor', 'pad_batch', 'clean_pairs', 'phrasebook',
           'question_filter', 'read_files', 'read_tsv', 'stream_pairs', 'beam_search', 'greedy_decode',
           'length_penalty', 'max_output_lens', 'distributed', 'is_distributed', 'Coverage', 'auto_epochs',
           'embedding_matrix', 'read_vec', 'train_vectors', 'CorpusError', 'CorpusNotFoundError', 'ModelFileError',
           'NonFiniteLossError', 'OptionError', 'Translator', 'Attended', 'decode_batch', 'copy_unknown',
           'protect', 'restore', 'split_sentences',
           'load_translator',
           'load_bundle', 'save_bundle', 'translate_texts',
           'Seq2SeqInterpretation', 'plot_attention', 'plot_attention_steps', 'results_table', 'save_figure',
           'show_table', 'Seq2SeqLearner', 'seq2seq_learner', 'seq2seq_splitter', 'ChrF', 'CorpusBLEU', 'Perplexity',
           'Seq2SeqLoss', 'TokenAccuracy', 'corpus_bleu', 'corpus_chrf', 'tokenized_bleu',
           'Architecture', 'BahdanauDecoder',
           'Decoder', 'Encoder', 'LuongDecoder', 'Seq2SeqConfig', 'Seq2SeqRNN', 'PairDataset', 'Seq2SeqTokenizer',
           'precision_callbacks', 'resolve_precision', 'ProjectionAutocast', 'FusedProjectionLoss',
           'ShortlistLoss',
           'PRESETS', 'TrainConfig', 'evaluate', 'evaluation_line', 'learner_options', 'run_demo', 'train',
           'distill', 'translate_corpus', 'Vocab', 'warm_start']
