import math

import pytest
import torch
import torch.nn.functional as F

from fastseq.metrics import TokenAccuracy, Perplexity, valid_subset


class FakeLearn:
    def __init__(self, pred, targ): self.pred, self.yb = pred, (targ,)


def test_token_accuracy_and_perplexity_count_only_real_tokens():
    targ = torch.tensor([[2, 4, 1, 1], [3, 1, 1, 1]])
    pred = F.one_hot(torch.tensor([[2, 0, 1, 1], [3, 1, 1, 1]]), 5).float() * 10
    acc, ppl = TokenAccuracy(1), Perplexity(1)
    for m in (acc, ppl): m.reset(); m.accumulate(FakeLearn(pred, targ))
    assert acc.value == pytest.approx(2 / 3)
    ce = F.cross_entropy(pred[targ != 1], targ[targ != 1])
    assert ppl.value == pytest.approx(math.exp(float(ce)), rel=1e-5)


def test_valid_subset_is_seeded_and_ordered():
    pairs = [(str(i), str(i)) for i in range(100)]
    a, b = valid_subset(pairs, 10, seed=1), valid_subset(pairs, 10, seed=1)
    assert a == b and len(a) == 10 and [int(s) for s, _ in a] == sorted(int(s) for s, _ in a)
    assert valid_subset(pairs, None) == pairs and valid_subset(pairs, 500) == pairs


def test_tokenized_bleu_ignores_case_and_tokenization_and_default_bleu_does_not():
    from fastseq.metrics import corpus_bleu, tokenized_bleu
    hyps, refs = ["I don't know what you mean."], ["i don’t know what you mean ."]
    assert tokenized_bleu(hyps, refs) == pytest.approx(100.)
    assert corpus_bleu(hyps, refs) < 70     # case and the split-off period cost the default form ~40 points
    assert tokenized_bleu(["I know what you mean."], refs) < 100
