import matplotlib
import pytest
import sacrebleu
import torch

from fastseq.interpret import Seq2SeqInterpretation, results_table, sentence_losses
from fastseq.losses import Seq2SeqLoss

matplotlib.use('Agg')  # tests only: no display here


def test_show_results_prints_source_reference_and_free_running_prediction(trained, capsys):
    trained.show_results(max_n=4, seed=1)
    out = capsys.readouterr().out
    table = results_table(trained.translator(), trained.valid_pairs(), max_n=4, seed=1)
    assert list(table.columns) == ['source', 'reference', 'prediction'] and len(table) == 4
    assert table.prediction.tolist() == trained.translate(table.source.tolist())
    assert all(s[:20] in out for s in table.source)


def _forced_loss(model, processor, src_text, ref_text):
    "The teacher-forced loss through `forward` (dropouts off, forcing on) instead of `score_tokens`."
    src = torch.tensor(processor.src_ids([src_text]))
    tgt = torch.tensor(processor.tgt_ids([ref_text]))
    model.eval(); model.training, model.pr_force = True, 1.   # the top module only: submodules keep eval mode
    try:
        with torch.no_grad(): return float(Seq2SeqLoss(processor.tgt_vocab.pad_idx)(model(src, tgt), tgt))
    finally: model.eval(); model.pr_force = 0.


def test_sentence_losses_equal_the_teacher_forced_loss(trained):
    pairs = trained.valid_pairs()[:6]
    losses = sentence_losses(trained.model, trained.dls.processor, [s for s, _ in pairs], [r for _, r in pairs], bs=4)
    for (s, r), loss in zip(pairs, losses):
        assert loss == pytest.approx(_forced_loss(trained.model, trained.dls.processor, s, r), rel=1e-4)


def test_interpretation_ranks_worst_by_loss_and_by_bleu(trained, capsys):
    interp = Seq2SeqInterpretation.from_learner(trained, n_items=30)
    t = interp.table
    assert len(t) == 30
    for h, r, b in zip(t.prediction, t.reference, t.bleu):
        assert b == pytest.approx(sacrebleu.sentence_bleu(h, [r]).score)
    worst = interp.top_losses(5)
    assert worst.loss.tolist() == sorted(t.loss, reverse=True)[:5]
    assert interp.top_losses(5, by='bleu').bleu.tolist() == sorted(t.bleu)[:5]
    figs = interp.show_worst(2, by='bleu', attention=True)
    assert len(figs) == 2 and interp.top_losses(1, by='bleu').source.iloc[0][:15] in capsys.readouterr().out
    with pytest.raises(ValueError, match="by must be"): interp.top_losses(3, by='length')
