import matplotlib
import pytest


matplotlib.use('Agg')  # tests only: no display here


def test_translate_string_list_empty_and_unknown(trained):
    out = trained.translate(['Le chat noir.', '', 'Le zyxwv est là.'])
    assert len(out) == 3 and out[1] == '' and all(isinstance(o, str) for o in out)
    assert trained.translate('Le chat noir.') == out[0]
    assert not any(tok in o for o in out for tok in ('xxeos', 'xxpad', 'xxbos', 'xxmaj'))


def test_translate_is_independent_of_batch_size(trained):
    texts = [fr for fr, _ in trained.valid_pairs()[:20]]
    assert trained.translate(texts, bs=3) == trained.translate(texts, bs=64)


def test_long_input_is_truncated_with_a_warning(trained):
    with pytest.warns(UserWarning, match='truncated'): out = trained.translate(['le chat ' * 200], max_src_len=50,
                                                                                split=False)
    assert isinstance(out[0], str)


def test_splitter_puts_embeddings_and_tied_output_first(trained):
    groups = trained.splitter(trained.model)
    assert any(p is trained.model.decoder.out.weight for p in groups[0])
    assert sum(len(g) for g in groups) == len(list(trained.model.parameters()))
    trained.freeze()
    assert not trained.model.decoder.out.weight.requires_grad and trained.model.decoder.rnn.weight_hh_l0.requires_grad
    trained.unfreeze()
    assert trained.model.decoder.out.weight.requires_grad


def test_export_and_reload_translate_identically_and_keep_the_tie(trained, tmp_path):
    "In this process; `fastseq translate` reloads an export in a new one (test_cli.py)."
    import warnings
    from fastai.learner import load_learner
    texts = [fr for fr, _ in trained.valid_pairs()[:8]] + ["Où est la gare ?"]
    path = trained.export(tmp_path / 'm.pkl')
    assert path.exists() and not list(tmp_path.glob('.*tmp'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        reloaded = load_learner(path)
    assert reloaded.translate(texts) == trained.translate(texts)
    assert reloaded.model.decoder.out.weight is reloaded.model.decoder.emb.weight


def test_show_attention_heatmap_and_steps(trained, tmp_path):
    fig = trained.show_attention('Le chat noir est sous la table.', path=tmp_path / 'a.png')
    assert (tmp_path / 'a.png').stat().st_size > 1000
    assert fig.axes[0].get_xticklabels()[1].get_text() == 'le'
    figs = trained.show_attention(['Le chat.', 'Où est la gare ?'], kind='steps', path=tmp_path / 's.png')
    assert len(figs) == 2 and (tmp_path / 's_1.png').exists()
    with pytest.raises(ValueError, match="kind must be 'heatmap' or 'steps'"): trained.show_attention('x', kind='pie')


def test_bleu_metric_equals_sacrebleu_on_the_same_decodes(trained):
    import sacrebleu
    from fastseq.metrics import CorpusBLEU, valid_subset
    metric = CorpusBLEU(n_items=40, seed=3)
    metric.reset(); trained.train_iter = 0; metric.accumulate(trained)
    pairs = valid_subset(trained.valid_pairs(), 40, seed=3)
    hyps = trained.translate([s for s, _ in pairs])
    assert metric.value == pytest.approx(sacrebleu.corpus_bleu(hyps, [[r for _, r in pairs]]).score)
    assert metric.name == 'bleu@40'


def test_metrics_can_score_beam_decodes(trained):
    import sacrebleu
    from fastseq.metrics import ChrF, valid_subset
    metric = ChrF(n_items=30, seed=2, beam=3)
    metric.reset(); trained.train_iter = 1; metric.accumulate(trained)
    pairs = valid_subset(trained.valid_pairs(), 30, seed=2)
    hyps = trained.translate([s for s, _ in pairs], beam=3)
    assert metric.value == pytest.approx(sacrebleu.corpus_chrf(hyps, [[r for _, r in pairs]]).score)
    assert metric.name == 'chrf@30_beam3'
