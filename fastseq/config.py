"""`TrainConfig`, every option of `train` declared once: its default (the 'default' preset's value), its help and how
the command line reads it, from which `fastseq train`'s flags are generated; the model's options nested in it as the
`Architecture` that `seq2seq_learner` takes, under the same names; the presets."""
from dataclasses import asdict, dataclass, fields, replace

from .errors import OptionError
from .model import Architecture
from .options import option
from .precision import PRECISIONS
from .tokenize import TOKENIZERS

__all__ = ['TrainConfig', 'PRESETS', 'RECIPES', 'option', 'learner_options']


# what `recipe` chooses from (`fastseq.recipe`): `TrainConfig` overrides over the default, each faster per epoch than
# the default (bench/recipe_speeds.py: batches of 250 fill the fp32 products better, one encoder layer halves the
# encoder, SentencePiece pieces shrink the vocabulary projection, a 192-wide target side with one decoder layer the
# decoder, a 192-wide encoder the rest)
RECIPES = {
    'default': {},
    'large-batch': dict(bs=250, lr=4e-3),
    'shallow': dict(bs=250, lr=5.5e-3, model=dict(n_layers_enc=1)),
    'compact': dict(tokenizer='spm', vocab_sz=4000, model=dict(emb_sz_tgt=192, n_layers_dec=1)),
    'small': dict(tokenizer='spm', vocab_sz=4000, model=dict(emb_sz_tgt=192, n_layers_dec=1, n_hid_enc=192))}


@dataclass
class TrainConfig:
    """Every option of `train` (and of `fastseq train`), with the 'default' preset's values: the best recipe measured on
    Tatoeba (docs/results.md), meant for a real corpus with `time_budget`."""
    # corpus
    src: str = option('fr', 'source column name and language')
    tgt: str = option('en', 'target column name and language')
    data_tgt: str = option(None, 'the target side, line-aligned with --data (one sentence per line)')
    n_pairs: int = option(20000, 'phrasebook size (with --data phrasebook)')
    valid_pct: float = option(0.1, 'share of pairs drawn for validation when no --valid is given')
    normalize: bool = option(True, 'unify apostrophes and typographic spaces before tokenizing')
    questions: bool = option(False, "keep only the lesson's 'Wh… ?' question pairs")
    skip_bad_lines: bool = option(False, 'skip (and count) lines with a wrong column count or bytes that are not '
                                  'UTF-8')
    casual_share: float = option(0.15, 'share of training pairs retyped as people type (ALL CAPS, lower case '
                                 'without final punctuation, no accents), consistently on both sides', metavar='SHARE')
    min_freq: int = option(2, 'vocabulary: words seen fewer times in training are unknown')
    max_len: int = option(30, 'drop training pairs longer than this many tokens (none: the 99th percentile)')
    tokenizer: str = option('spacy', 'spacy: words with case markers; spm: SentencePiece subword units trained on '
                            '--data', choices=tuple(TOKENIZERS))
    vocab_sz: int = option(8000, 'with --tokenizer spm: pieces per language at most')
    joint_vocab: bool = option(False, 'with --tokenizer spm: one piece model for both languages')
    stream_cache: str = option(None, 'stream --data into a memory-mapped cache in DIR (reused when complete) and train '
                               'from it: for corpora larger than memory', metavar='DIR')
    workers: int = option(1, 'with --stream-cache: tokenizing processes (0: this one)')
    # model
    model: Architecture = option(Architecture(bidir=True), "the model's shape and dropouts (`Architecture`; on the "
                                 "command line one flag per field, --emb-sz-src ...)")
    vecs_src: str = option('train', "source embeddings: a fastText .bin/.vec file, 'train' (trained on the corpus) or "
                           "'none' (random)")
    vecs_tgt: str = option('train', "target embeddings and tied output: a fastText .bin/.vec file, 'train' or 'none'")
    init: str = option(None, "start from the weights of this export or bundle: every layer of the same shape, and the "
                       "embedding and output rows of the words both vocabularies hold", metavar='MODEL')
    recipe: str = option('auto', "with --time-budget on a CPU, 'auto' fits the recipe to this machine's measured "
                         "speed: the default, or larger batches or a smaller model where passes over the data are slow "
                         "(printed at the start); or one of the recipes by name", choices=('auto', *RECIPES))
    # schedule
    epochs: int = option(None, 'epochs (default 8; with --time-budget at most this many)')
    lr: float = option(3e-3, "learning rate, or 'auto' to take lr_find's suggestion", type=str)
    bs: int = option(125, 'sentences per batch')
    shortlist: int = option(2000, 'training in fp32 on a CPU, the softmax spans the N most frequent target words, '
                            "each batch's and 1,000 drawn others (0: the whole vocabulary, which validation and "
                            'decoding always use)', metavar='N')
    label_smoothing: float = option(0.1, 'label smoothing of the training loss (validation reports plain '
                                    'cross-entropy)', metavar='EPS')
    average: int = option(0, 'end with the mean of N weight snapshots taken over the last fifth of training (0: off)',
                          metavar='N')
    time_budget: float = option(None, 'plan the one-cycle schedule by the clock so that training ends within MINUTES',
                                metavar='MINUTES')
    freeze_epochs: int = option(0, 'first train this many epochs with the embeddings frozen')
    tf_start: float = option(1., 'teacher forcing at the start')
    tf_end: float = option(0.8, 'teacher forcing at the end, reached linearly after --tf-warmup')
    tf_warmup: float = option(0.5, 'share of training before teacher forcing starts to decay')
    seed: int = option(42, 'seed of the initial weights and the batch order')
    data_seed: int = option(42, 'seed of the split, the retyped pairs and the phrasebook: models of several --seed '
                                'share their data and vocabularies, as an ensemble needs')
    # where and how
    precision: str = option('auto', "fp32, bf16, fp16 (GPU) or auto: bf16 where this device trains faster in it (a "
                            "table of CPU kinds); GRUs, their states and the loss stay fp32", choices=PRECISIONS)
    device: str = option(None, "'cpu', 'cuda' or 'cuda:N' (default: a GPU when there is one)")
    out: str = option('model.pkl', 'where to export the trained learner; its checkpoint is kept beside it '
                      '(OUT-stem.checkpoint.pth)')
    bundle: str = option(None, 'also save a pickle-free bundle folder, the form `fastseq serve` reads',
                         metavar='DIR')
    int8: bool = option(False, 'the bundle decodes with int8 weights (without --bundle it goes beside OUT, in '
                        'OUT-stem/)')
    plot_dir: str = option(None, 'save PNGs here: lr_find (run even with a fixed --lr), losses, attention')
    resume: bool = option(False, "continue from OUT's checkpoint with the same arguments")
    checkpoint_every: float = option(10., 'also save the checkpoint inside an epoch every MINUTES (0: after every '
                                     'batch), so an interruption loses at most that much', metavar='MINUTES')
    eval_beam: int = option(5, 'after training, decode the validation split with beam K and print BLEU (0: skip)',
                            metavar='K')

    @classmethod
    def from_preset(cls, name='default', **overrides):
        """The config of preset `name` with `overrides`; `model` overrides (a dict of `Architecture` fields, or an
        `Architecture`) apply over the preset's. An unknown preset or option is an error naming the valid ones."""
        if name not in PRESETS:
            raise OptionError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}", 'preset')
        _check_names(overrides, cls, 'training option')
        preset, base = dict(PRESETS[name]), cls()
        model = _merge_model(_merge_model(base.model, preset.pop('model', {})), overrides.pop('model', {}))
        c = replace(base, **{**preset, **overrides, 'model': model})
        for side in ('vecs_src', 'vecs_tgt'):
            if getattr(c, side) == 'none': setattr(c, side, None)       # the command line's way to say no vectors
        return c

    @property
    def n_epochs(self):
        "Epochs to plan: as given; else 8, or with a time budget a ceiling the budget ends first (100)."
        return self.epochs if self.epochs is not None else 100 if self.time_budget else 8


_PLAIN = dict(min_freq=1, max_len=None, bs=64, model=dict(bidir=False), vecs_src=None, vecs_tgt=None, lr=3e-3,
              tf_end=0., tf_warmup=0., label_smoothing=0., average=0, eval_beam=0, casual_share=0.)   # no recipe

PRESETS = {
    'default': {},
    # the lesson's sizes and its constant teacher forcing of 0.5
    'lesson': dict(_PLAIN, bs=125, lr=2e-3, tf_start=0.5, tf_end=0.5),
    # the phrasebook demo (docs/results.md)
    'demo': dict(_PLAIN, n_pairs=20000, valid_pct=0.05, seed=0, data_seed=0, epochs=8, lr=1e-2, tf_end=0.5,
                 tf_warmup=0.5, model=dict(emb_sz_src=128, emb_sz_tgt=128, n_hid_enc=128, bidir=True, emb_drop=0.05,
                                           enc_drop=0.1, dec_drop=0.1, out_drop=0.1)),
    # the recipe before label smoothing and the lower learning rate, with the 30-minute budget it was measured at
    'tatoeba': dict(label_smoothing=0., lr=5e-3, time_budget=30, casual_share=0.),
    # a distilled student that decodes fast: a 192-wide target side, one decoder layer (bench/student_shapes.py) and
    # one encoder layer (more passes in the budget: better and faster), with an int8 bundle beside its export
    # (docs/results.md)
    'student': dict(model=dict(emb_sz_tgt=192, n_layers_dec=1, n_layers_enc=1), int8=True)}


def _check_names(options, config, what):
    unknown = sorted(set(options) - {f.name for f in fields(config)})
    if unknown:
        raise TypeError(f"unknown {what}(s) {', '.join(map(repr, unknown))}; valid: "
                        f"{', '.join(f.name for f in fields(config))}")


def _merge_model(model, changes):
    "`model` (an `Architecture`) with `changes`: a dict of some of its fields, or a whole `Architecture`."
    if isinstance(changes, Architecture): return changes
    _check_names(changes, Architecture, 'model option')
    return replace(model, **changes)


def learner_options(c: TrainConfig):
    "What `seq2seq_learner` takes from a config: the model's fields as they are, vectors and label smoothing."
    return dict(asdict(c.model), vecs_src=c.vecs_src, vecs_tgt=c.vecs_tgt, label_smoothing=c.label_smoothing)
