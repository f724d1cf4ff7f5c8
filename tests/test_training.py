"""The Python training API: `fastseq.train` with presets and keyword options, `evaluate`, and errors that name
parameters (the command line names flags instead)."""
import pytest
import sacrebleu

import fastseq
from fastseq.errors import OptionError
from fastseq.config import PRESETS, TrainConfig
from fastseq.training import evaluate


def test_train_from_a_dataframe_exports_checkpoints_and_evaluates(small_df, tmp_path, capsys):
    train_df, valid_df = small_df[:500], small_df[500:]
    learn = fastseq.train(train_df, valid_df, epochs=2, lr=1e-2, model=dict(emb_sz_src=32, emb_sz_tgt=32, n_hid_enc=24),
                          bs=32, eval_beam=2, out=tmp_path / 'm.pkl')
    assert learn.valid_pairs() == list(zip(valid_df.fr, valid_df.en))
    assert (tmp_path / 'm.pkl').is_file() and (tmp_path / 'm.checkpoint.pth').is_file()
    assert learn.model.config.bidir is True and learn.model.config.emb_sz_src == 32   # the default recipe's
    assert len(learn.recorder.values) == 2
    out = capsys.readouterr().out
    assert 'valid (100 pairs, beam 2' in out and 'exported to' in out
    scores = evaluate(learn, valid_df, beam=2)
    hyps = learn.translate(list(valid_df.fr), beam=2)
    assert scores['n'] == 100
    assert scores['bleu'] == pytest.approx(sacrebleu.corpus_bleu(hyps, [list(valid_df.en)]).score)
    assert scores['chrf'] == pytest.approx(sacrebleu.corpus_chrf(hyps, [list(valid_df.en)]).score)


def test_presets_give_defaults_and_keywords_override_them():
    demo = TrainConfig.from_preset('demo', epochs=3)
    assert demo.epochs == 3 and demo.model.emb_sz_src == 128 and demo.model.bidir and demo.model.emb_drop == 0.05
    lesson = TrainConfig.from_preset('lesson', model=dict(cell='lstm'))     # a model override keeps the preset's rest
    assert (lesson.model.cell, lesson.model.bidir, lesson.model.n_hid_enc) == ('lstm', False, 256)
    with pytest.raises(TypeError, match=r"unknown model option\(s\) 'emb_sz'; valid: emb_sz_src, emb_sz_tgt"):
        TrainConfig.from_preset(model=dict(emb_sz=64))
    assert TrainConfig.from_preset('tatoeba').time_budget == 30 and TrainConfig.from_preset('lesson').bs == 125
    assert set(PRESETS) == {'default', 'lesson', 'demo', 'tatoeba', 'student'}
    assert TrainConfig.from_preset() == TrainConfig()
    student = TrainConfig.from_preset('student')            # the default recipe, smaller where it decodes
    assert (student.model.emb_sz_tgt, student.model.n_layers_dec, student.model.n_layers_enc, student.int8,
            student.lr) == (192, 1, 1, True, 3e-3)
    best, tatoeba = TrainConfig(), TrainConfig.from_preset('tatoeba')      # the measured recipe, docs/results.md
    assert (best.model.bidir, best.vecs_src, best.vecs_tgt, best.min_freq, best.max_len, best.lr, best.tf_end,
            best.label_smoothing) == (True, 'train', 'train', 2, 30, 3e-3, 0.8, 0.1) and best.n_epochs == 8
    assert tatoeba == TrainConfig(label_smoothing=0., lr=5e-3, time_budget=30, casual_share=0.)
    assert tatoeba.n_epochs == 100 and best.casual_share == 0.15
    for name in ('demo', 'lesson'):                                        # small recipes keep their plain options
        c = TrainConfig.from_preset(name)
        assert (c.vecs_src, c.min_freq, c.label_smoothing, c.average, c.eval_beam, c.casual_share) == (
            None, 1, 0., 0, 0, 0.)
    assert TrainConfig.from_preset('default', vecs_src='none').vecs_src is None


def test_errors_name_parameters_and_list_valid_choices(tmp_path):
    with pytest.raises(TypeError, match=r"unknown training option\(s\) 'epoch'; valid: .*epochs"):
        fastseq.train(epoch=3, out=tmp_path / 'm.pkl')
    with pytest.raises(OptionError, match=r"preset must be one of default, lesson, demo, tatoeba, student, got 'big'"):
        fastseq.train(preset='big', out=tmp_path / 'm.pkl')
    with pytest.raises(OptionError, match=r"^lr must be a number or 'auto', got 'fast'") as e:
        fastseq.train(lr='fast', out=tmp_path / 'm.pkl')
    assert e.value.params == ('lr',)
    with pytest.raises(OptionError, match=r"^resume cannot continue a run with freeze_epochs or time_budget"):
        fastseq.train(resume=True, time_budget=1, out=tmp_path / 'm.pkl')


def test_seq2seq_learner_rejects_an_unknown_option_listing_the_valid_ones(small_dls):
    with pytest.raises(TypeError, match=r"unknown option\(s\) 'n_hidden'; model options: .*n_hid_enc.*; "
                                        r"Learner options: .*wd"):
        fastseq.seq2seq_learner(small_dls, n_hidden=64)
