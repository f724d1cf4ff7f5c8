"""Padding-aware metrics; BLEU and chrF with sacrebleu on free-running decodes."""
import numpy as np
import torch.nn.functional as F
from fastai.learner import Metric
from fastai.torch_core import get_model

from .inference import Translator
from .losses import align_lengths
from .tokenize import SpacyTokenizer, normalize_text

__all__ = ['TokenAccuracy', 'Perplexity', 'CorpusBLEU', 'ChrF', 'corpus_bleu', 'corpus_chrf', 'tokenized_bleu',
           'valid_subset']


class _TokenMetric(Metric):
    "Accumulates a count over non-pad target tokens of each validation batch."
    def __init__(self, pad_idx=1): self.pad_idx = pad_idx
    def reset(self): self.total, self.count = 0., 0

    def accumulate(self, learn):
        pred, targ = align_lengths(learn.pred, learn.yb[0], self.pad_idx)
        mask = targ != self.pad_idx
        self.total += float(self.score(pred, targ, mask))
        self.count += int(mask.sum())


class TokenAccuracy(_TokenMetric):
    "Share of non-pad target tokens predicted exactly."
    def score(self, pred, targ, mask): return ((pred.argmax(-1) == targ) & mask).sum()
    @property
    def value(self): return self.total / max(self.count, 1)
    @property
    def name(self): return 'token_acc'


class Perplexity(_TokenMetric):
    "exp of the mean cross-entropy per non-pad target token."
    def score(self, pred, targ, mask):
        return F.cross_entropy(pred.flatten(0, 1).float(), targ.flatten(), ignore_index=self.pad_idx, reduction='sum')
    @property
    def value(self): return float(np.exp(self.total / max(self.count, 1)))
    @property
    def name(self): return 'perplexity'


def valid_subset(pairs, n_items, seed=0):
    "A fixed, seeded subset of (source, reference) pairs, in their original order; all of them if n_items is None."
    if n_items is None or n_items >= len(pairs): return list(pairs)
    idx = np.sort(np.random.RandomState(seed).choice(len(pairs), n_items, replace=False))
    return [pairs[i] for i in idx]


class _DecodedMetric(Metric):
    """Scores free-running decodes of a seeded validation subset with sacrebleu, once per validation pass, through a
    `Translator` of the learner's model and text processing."""
    _decodes = {}  # this validation pass's decodes, shared by every metric of the same subset; cleared by `reset`
    def __init__(self, n_items=300, seed=0, beam=1):
        self.n_items, self.seed, self.beam, self.translator, self.pairs = n_items, seed, beam, None, None
    def reset(self): self._value = None; _DecodedMetric._decodes.clear()
    def accumulate(self, learn):
        self.translator, self.pairs = Translator(get_model(learn.model), learn.dls.processor), learn.dls.valid_pairs
    def __getstate__(self): return {**self.__dict__, 'translator': None, 'pairs': None, '_value': None}

    def _hyps_refs(self):
        "Decodes shared by every metric of the same subset and model in the same validation pass."
        key = (id(self.translator.model), self.n_items, self.seed, self.beam)
        if key not in self._decodes:
            pairs = valid_subset(self.pairs(), self.n_items, self.seed)
            hyps = self.translator.translate([s for s, _ in pairs], beam=self.beam)
            self._decodes[key] = (hyps, [r for _, r in pairs])
        return self._decodes[key]

    @property
    def value(self):
        if self._value is None and self.translator is not None: self._value = self.score(*self._hyps_refs())
        return self._value

    @property
    def name(self):
        subset = '' if self.n_items is None else f'@{self.n_items}'
        return self.base_name + subset + ('' if self.beam == 1 else f'_beam{self.beam}')


def corpus_bleu(hyps, refs):
    "sacrebleu's default corpus BLEU (13a tokenization, case-sensitive) of detokenized hypotheses vs raw references."
    import sacrebleu
    return sacrebleu.corpus_bleu(list(hyps), [list(refs)]).score


def corpus_chrf(hyps, refs):
    "sacrebleu's default corpus chrF of detokenized hypotheses vs raw references."
    import sacrebleu
    return sacrebleu.corpus_chrf(list(hyps), [list(refs)]).score


def tokenized_bleu(hyps, refs, lang='en'):
    """BLEU as NMT toolkits' papers and trainers (OpenNMT-py, JoeyNMT) report it: both sides normalised, split by
    spaCy's `lang` tokenizer and lowercased, then sacrebleu with tokenize='none' (higher than `corpus_bleu`)."""
    import sacrebleu
    tok = SpacyTokenizer(lang)
    split = lambda texts: [' '.join(t.lower() for t in toks) for toks in tok([normalize_text(x) for x in texts])]
    return sacrebleu.corpus_bleu(split(hyps), [split(refs)], tokenize='none', force=True).score


class CorpusBLEU(_DecodedMetric):
    "sacrebleu corpus BLEU of free-running decodes (greedy, or `beam`) against the raw reference text."
    base_name = 'bleu'
    def score(self, hyps, refs): return corpus_bleu(hyps, refs)


class ChrF(_DecodedMetric):
    "sacrebleu chrF of free-running decodes (greedy, or `beam`) against the raw reference text."
    base_name = 'chrf'
    def score(self, hyps, refs): return corpus_chrf(hyps, refs)
