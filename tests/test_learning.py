"""Learning test: the demo trains for real on the phrasebook on CPU; held-out BLEU (sacrebleu) must reach 60."""
import matplotlib
import pytest
import sacrebleu

from fastseq.recipes import DEMO_SENTENCES, run_demo

matplotlib.use('Agg')  # tests only: no display here


@pytest.mark.slow
def test_demo_learns_to_translate_held_out_phrasebook_pairs(tmp_path, capsys):
    learn, bleu, n, path, _ = run_demo(tmp_path / 'demo')
    pairs = learn.valid_pairs()
    assert n == len(pairs) == 1000
    hyps = learn.translate([s for s, _ in pairs])
    assert bleu == pytest.approx(sacrebleu.corpus_bleu(hyps, [[r for _, r in pairs]]).score)
    assert bleu >= 60, f"held-out BLEU {bleu:.1f}"
    for png in ('lr_find.png', 'attention.png', 'attention_steps.png'):
        assert (tmp_path / 'demo' / png).stat().st_size > 5000
    out = capsys.readouterr().out
    assert path.exists() and all(f"{s}  →  " in out for s in DEMO_SENTENCES)   # the reloaded learner translated
