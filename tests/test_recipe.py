"""The recipe a time budget trains: chosen from the default's measured speed and the budget, kept per machine,
recorded in the export."""
import json
from types import SimpleNamespace

import pytest
import torch

import fastseq
from fastseq import recipe, training
from fastseq.config import RECIPES
from fastseq.model import Architecture
from fastseq.recipe import MARGIN, choose_recipe, expected_bleu, machine_key


def test_the_choice_is_a_pure_function_of_the_measured_speed_and_the_budget(monkeypatch):
    """The measured table takes batches of 250 with one encoder layer wherever the default fits fewer than five
    passes, in bf16 and fp32; a smaller recipe that lost as little is taken where passes are few; a gain under
    `MARGIN`, or passes past the measured range, keep the default."""
    for epoch_minutes in (4., 6.):
        assert choose_recipe(epoch_minutes, 30, 'bf16').name == 'default'
    for epoch_minutes in (6.4, 6.6, 9.):
        assert choose_recipe(epoch_minutes, 30, 'bf16').name == 'shallow'
    for epoch_minutes in (6.8, 12.4, 15.):
        assert choose_recipe(epoch_minutes, 30, 'fp32').name == 'shallow'
    monkeypatch.setitem(recipe.OFFSETS, 'small', recipe.OFFSETS['shallow'])
    slow = choose_recipe(epoch_minutes=13., budget=30, precision='fp32')
    assert slow.name == 'small' and slow.expected['small'][1] >= slow.expected['default'][1] + MARGIN
    assert slow.expected['small'][0] > slow.expected['default'][0]          # more passes in the same time
    assert [choose_recipe(13., 30, 'fp32').name for _ in range(3)] == ['small'] * 3
    assert choose_recipe(13., 300, 'fp32').name == 'default'     # past the measured range: nothing known better
    monkeypatch.setitem(recipe.SPEEDUPS, 'fp32', {'default': 1., 'large-batch': 1.})   # the offset alone decides
    monkeypatch.setitem(recipe.OFFSETS, 'large-batch', MARGIN - 0.1)
    assert choose_recipe(13., 30, 'fp32').name == 'default'
    monkeypatch.setitem(recipe.OFFSETS, 'large-batch', MARGIN + 0.1)
    assert choose_recipe(13., 30, 'fp32').name == 'large-batch'
    assert choose_recipe(6., 30, 'bf16').name == 'default'
    assert expected_bleu('default', 2) < expected_bleu('default', 4)
    assert 'recipe for 30 min on this CPU: small — ' in slow.line() and '(the default: ' in slow.line()


def test_the_speed_is_measured_once_per_machine_and_precision(small_dls, tmp_path, monkeypatch):
    "A second measurement would differ (here it must): the cached first one is what both calls choose by."
    monkeypatch.setenv('FASTSEQ_CACHE', str(tmp_path))
    speeds = iter([1000., 5000., 9000.])
    monkeypatch.setattr(recipe, 'bench_train', lambda *a, **k: (None, {'tgt_tok_per_s': next(speeds)}))
    assert recipe.default_speed(small_dls, 'fp32') == (1000, True)
    assert recipe.default_speed(small_dls, 'fp32') == (1000, False)
    assert recipe.default_speed(small_dls, 'bf16') == (5000, True)
    assert json.loads((tmp_path / 'speeds.json').read_text()) == {machine_key('fp32'): 1000, machine_key('bf16'): 5000}
    (tmp_path / 'speeds.json').write_text('{"cut sho')                     # a damaged file is measured again
    assert recipe.default_speed(small_dls, 'fp32') == (9000, True)


@pytest.mark.parametrize('options, reason', [
    (dict(), 'no time budget'),
    (dict(time_budget=3), 'budgets under 10 min keep it'),
    (dict(time_budget=30, tokenizer='spm'), '--tokenizer given'),
    (dict(time_budget=30, bs=64), '--bs given'),
    (dict(time_budget=30, model=dict(n_hid_enc=128), init='t.pkl'), '--n-hid-enc, --init given')])
def test_what_keeps_the_default_recipe(options, reason):
    c = training._config('default', options)
    cpu = SimpleNamespace(device=torch.device('cpu'))
    assert training._recipe_choice(c, options, 'default', cpu).line() == f"recipe: default ({reason})"


def test_train_follows_the_machines_speed_and_records_the_recipe(tmp_path, monkeypatch, capsys):
    "A machine known to be slow trains the smaller recipe; the export and the bundle say which and why."
    monkeypatch.setitem(recipe.OFFSETS, 'small', recipe.OFFSETS['shallow'])  # a small recipe that lost little
    monkeypatch.setenv('FASTSEQ_CACHE', str(tmp_path / 'cache'))
    monkeypatch.setattr(training, 'MIN_BUDGET', 0)
    (tmp_path / 'cache').mkdir()
    (tmp_path / 'cache' / 'speeds.json').write_text(json.dumps({machine_key('fp32'): 20, machine_key('bf16'): 20}))
    learn = fastseq.train('phrasebook', n_pairs=200, time_budget=0.02, vecs_src='none', vecs_tgt='none', eval_beam=0,
                          precision='fp32', bundle=tmp_path / 'bundle', out=tmp_path / 'm.pkl')
    chosen = learn.recipe
    assert chosen['name'] == choose_recipe(chosen['epoch_minutes'], 0.02, 'fp32').name == 'small'
    assert chosen['tok_per_s'] == 20 and not chosen['measured_now']
    assert learn.dls.processor.tgt_tok.__class__.__name__ == 'SubwordTokenizer'
    assert learn.model.config.n_hid_enc == RECIPES['small']['model']['n_hid_enc']
    assert f"recipe for 0.02 min on this CPU: {chosen['name']} — " in capsys.readouterr().out
    assert fastseq.load_translator(tmp_path / 'm.pkl').recipe == chosen
    assert fastseq.load_translator(tmp_path / 'bundle').recipe == chosen


def test_a_recipe_asked_for_by_name_gives_way_to_the_callers_options():
    c = training._config('default', dict(recipe='small', model=dict(n_hid_enc=64), vocab_sz=2000))
    assert (c.tokenizer, c.vocab_sz, c.model.n_hid_enc, c.model.n_layers_dec) == ('spm', 2000, 64, 1)
    c = training._config('default', dict(recipe='small', model=Architecture(n_hid_enc=64)))
    assert c.tokenizer == 'spm' and c.model == Architecture(n_hid_enc=64)
