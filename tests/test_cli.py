"""`fastseq` commands, called in-process (`main`) except where the process boundary is what is tested (stdin)."""
import re
import subprocess
import sys

import matplotlib
import pytest
from fastai.learner import load_learner

from conftest import call
from fastseq.cli import main
from fastseq.bundle import load_bundle, load_translator, save_bundle
from fastseq.inference import Translator

matplotlib.use('Agg')  # tests only: no display here


def run_cli(*args, stdin=None):
    "A real `fastseq` process: for what crosses the process boundary."
    return subprocess.run([sys.executable, '-m', 'fastseq.cli', *args], input=stdin, capture_output=True, text=True)


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp('cli') / 'm.pkl'
    plots = out.parent / 'plots'
    r = call('train', '--data', 'phrasebook', '--n-pairs', '400', '--epochs', '1', '--bs', '32', '--emb-sz-src', '32',
             '--emb-sz-tgt', '32', '--n-hid-enc', '24', '--lr', '1e-2', '--plot-dir', plots, '--out', out,
             '--label-smoothing', '0.1', '--average', '2', '--score', 'general', '--out-drop', '0.2',
             '--no-attend-after-rnn', '--no-bidir')
    assert r.returncode == 0, r.stderr
    assert 'weights averaged over 2 snapshots' in r.stdout
    learn = load_learner(out)
    assert learn.model.config.score == 'general' and learn.loss_func.smoothing == 0.1 and learn.trained_in == 'fp32'
    c = load_translator(out).model.config                                   # the loader gives its Translator
    assert (c.out_drop, c.attend_after_rnn, c.bidir, c.att_sz) == (0.2, False, False, 32)   # model flags, nested
    assert 'lr_find suggests' in r.stdout and 'training at lr 1.00e-02' in r.stdout and 'exported to' in r.stdout
    assert out.exists()
    for png in ('lr_find.png', 'losses.png', 'attention_0.png'): assert (plots / png).stat().st_size > 5000
    return out


def test_translate_arguments_and_stdin_keep_order(exported):
    texts = ['Le chat noir.', 'Où est la gare ?', '', 'Je vois trois chiens.']
    by_args = call('translate', exported, *texts).stdout.splitlines()
    assert len(by_args) == 4 and by_args[2] == ''
    by_stdin = call('translate', exported, '--bs', '1', stdin='\n'.join(texts) + '\n').stdout.splitlines()
    assert by_stdin == by_args
    again = run_cli('translate', str(exported), '--bs', '1', stdin='\n'.join(texts) + '\n').stdout.splitlines()
    assert again == by_stdin                          # the same input, model and machine, in a new process: the same
    flags_first = call('translate', exported, '--beam', '2', '--int8', *texts[:2])
    flags_between = call('translate', exported, texts[0], '--beam', '2', texts[1], '--int8')
    assert flags_first.returncode == flags_between.returncode == 0, flags_first.stderr + flags_between.stderr
    assert len(flags_first.stdout.splitlines()) == 2 and flags_first.stdout == flags_between.stdout
    two = f"{texts[0]} {texts[1]}"                                 # one argument, two sentences: each translated
    assert call('translate', exported, two).stdout.splitlines() == [f"{by_args[0]} {by_args[1]}"]
    assert call('translate', exported, '--no-split', two).stdout.splitlines() == [
        load_translator(exported).translate(two, split=False)]
    paragraph = ' '.join([texts[3], texts[0]] * 3)                   # unsplit, the model stops after a sentence or so
    assert 'input 1: sentence 1 came out far shorter than its source' in call(
        'translate', exported, '--no-split', paragraph).stderr


def test_missing_model_and_corpus_are_clear_errors(tmp_path, capsys):
    assert main(['translate', str(tmp_path / 'none.pkl'), 'x']) == 2
    assert 'model file not found' in capsys.readouterr().err
    bad = tmp_path / 'bad.tsv'; bad.write_text('fr\ten\nA.\tB.\nC.\n')
    assert main(['train', '--data', str(bad), '--out', str(tmp_path / 'm.pkl')]) == 2
    assert 'bad.tsv, line 3: expected 2 columns' in capsys.readouterr().err


def test_a_file_that_is_not_a_model(tmp_path, capsys):
    junk = tmp_path / 'junk.pkl'; junk.write_bytes(b'not a pickle at all')
    assert main(['translate', str(junk), 'x']) == 2
    assert 'is not a fastseq learner export' in capsys.readouterr().err


def test_a_truncated_export_and_a_torch_file_of_another_kind(exported, tmp_path, capsys):
    cut = tmp_path / 'cut.pkl'; cut.write_bytes(exported.read_bytes()[:len(exported.read_bytes()) // 2])
    assert main(['translate', str(cut), 'x']) == 2
    assert 'cut.pkl is not a fastseq learner export' in capsys.readouterr().err
    import torch
    torch.save({'weights': torch.zeros(3)}, tmp_path / 'other.pkl')
    assert main(['translate', str(tmp_path / 'other.pkl'), 'x']) == 2
    assert 'other.pkl is not a fastseq learner export' in capsys.readouterr().err


def test_bad_learning_rate(tmp_path, capsys):
    assert main(['train', '--n-pairs', '200', '--lr', 'fast', '--out', str(tmp_path / 'm.pkl')]) == 2
    assert "--lr must be a number or 'auto', got 'fast'" in capsys.readouterr().err


def test_bundle_beam_and_stdin_across_chunk_boundaries(exported, tmp_path):
    bundle = save_bundle(load_translator(exported), tmp_path / 'bundle')
    lines = [f"Je vois {n} chats." for n in ('deux', 'trois', 'quatre', 'cinq')] * 10   # 40 lines, chunks of 16
    lines[7] = ''
    from_export = call('translate', exported, '--beam', '3', '--bs', '1', stdin='\n'.join(lines) + '\n')
    from_bundle = call('translate', bundle, '--beam', '3', '--bs', '1', stdin='\n'.join(lines) + '\n')
    assert from_export.returncode == 0, from_export.stderr
    out = from_export.stdout.splitlines()
    assert len(out) == 40 and out[7] == '' and out == from_bundle.stdout.splitlines()
    one_process = call('translate', bundle, '--beam', '3', '--bs', '1', '--workers', '1', stdin='\n'.join(lines) + '\n')
    assert one_process.stdout.splitlines() == out                      # three chunks, in workers or not: the same
    no_workers = call('translate', bundle, '--workers', '0', lines[0])
    assert no_workers.returncode == 2 and 'error: --workers must be 1 or more, got 0' in no_workers.stderr
    assert load_translator(bundle).trained_in == 'fp32'                   # the training precision travels along
    assert out[4:7] == out[0:3] and out[36:40] == out[0:4]   # same input, same output, order kept
    int8 = call('translate', bundle, *lines[:4], '--int8', '--beam', '3')
    assert int8.returncode == 0 and int8.stdout.splitlines() == load_translator(bundle, int8=True).translate(
        lines[:4], beam=3)


def test_evaluate_prints_sacrebleu_scores_as_json(exported, tmp_path):
    import json

    import sacrebleu
    from fastseq.datasets import phrasebook
    df = phrasebook(60, seed=11)
    df.to_csv(tmp_path / 'test.tsv', sep='\t', index=False)
    r = call('evaluate', exported, '--data', tmp_path / 'test.tsv', '--beam', '2')
    assert r.returncode == 0, r.stderr
    scores = json.loads(r.stdout)
    hyps = load_translator(exported).translate(list(df.fr), beam=2)
    assert scores['n'] == 60 and scores['beam'] == 2
    assert scores['bleu'] == pytest.approx(sacrebleu.corpus_bleu(hyps, [list(df.en)]).score, abs=0.01)
    assert scores['chrf'] == pytest.approx(sacrebleu.corpus_chrf(hyps, [list(df.en)]).score, abs=0.01)


def test_train_with_corpus_vectors_and_frozen_embeddings_first(tmp_path, monkeypatch, capsys):
    out, cache = tmp_path / 'v.pkl', tmp_path / 'cache'
    monkeypatch.setenv('FASTSEQ_CACHE', str(cache))
    r = call('train', '--n-pairs', '300', '--epochs', '2', '--freeze-epochs', '1', '--vecs-src', 'train',
             '--vecs-tgt', 'train', '--emb-sz-src', '32', '--emb-sz-tgt', '32', '--n-hid-enc', '16', '--bs', '32',
             '--out', out)
    assert r.returncode == 0, r.stderr
    assert 'src vectors:' in r.stdout and 'tgt vectors:' in r.stdout and out.exists()
    assert len(list((cache / 'vectors').glob('fastseq_vectors_train_*.npy'))) == 2    # cached in the cache folder
    assert not list(tmp_path.glob('fastseq_vectors*'))                               # not beside the output
    assert main(['train', '--n-pairs', '200', '--epochs', '2', '--freeze-epochs', '2', '--out', str(out)]) == 2
    assert '--freeze-epochs must be at least 0 and less than --epochs (2), got 2' in capsys.readouterr().err


def test_train_within_a_time_budget_then_beam_evaluation(tmp_path, capsys):
    "--time-budget ends training on time (a 5 s budget cannot run 50 epochs); --eval-beam prints BLEU both ways."
    out = tmp_path / 't.pkl'
    r = call('train', '--n-pairs', '400', '--epochs', '50', '--time-budget', '0.08', '--eval-beam', '2',
             '--emb-sz-src', '32', '--emb-sz-tgt', '32', '--n-hid-enc', '16', '--bs', '32',
             '--no-normalize', '--out', out)
    assert r.returncode == 0, r.stderr
    epoch_lines = [l for l in r.stdout.splitlines() if l.split() and l.split()[0].isdigit()]
    assert 1 <= len(epoch_lines) < 50 and out.exists()
    n_valid = re.search(r'/ (\d+) validation pairs', r.stdout).group(1)
    assert re.search(rf'valid \({n_valid} pairs, beam 2, .*BLEU [\d.]+ \(sacrebleu default, detokenized\), [\d.]+ '
                     r'\(lowercased, tokenized\); chrF [\d.]+', r.stdout)
    assert main(['train', '--n-pairs', '200', '--time-budget', '1', '--resume', '--out', str(out)]) == 2
    assert '--resume cannot continue a run with --freeze-epochs or --time-budget' in capsys.readouterr().err


def test_serve_refuses_a_pickle_unless_allowed(exported):
    r = call('serve', exported)
    assert r.returncode == 2 and 'is not a bundle folder' in r.stderr and '--allow-pickle' in r.stderr


def test_resuming_a_finished_run_with_plots_exports_without_training(tmp_path):
    "Nothing is left to train: the resume says so, exports, and draws no loss curve from an empty recorder."
    args = ['train', '--n-pairs', '300', '--epochs', '1', '--emb-sz-src', '16', '--emb-sz-tgt', '16',
            '--n-hid-enc', '16', '--lr', '1e-2',
            '--plot-dir', tmp_path / 'plots', '--out', tmp_path / 'm.pkl']
    assert call(*args).returncode == 0
    r = call(*args, '--resume')
    assert r.returncode == 0, r.stderr
    assert 'resumed from' in r.stdout and 'after epoch 0' in r.stdout and 'exported to' in r.stdout


def test_translate_and_evaluate_with_an_ensemble_of_models(exported, tmp_path):
    "Model paths before the texts decode together: the same as `Translator.ensemble` of those models."
    import json

    import torch
    first = load_translator(exported)
    second = load_bundle(save_bundle(first, tmp_path / 'second'))
    with torch.no_grad():
        for p in second.model.parameters(): p.add_(torch.randn_like(p) * 0.05)
    save_bundle(second, tmp_path / 'second')
    texts = ['Le chat noir est sous la table.', 'Où est la voiture ?']
    r = call('translate', exported, tmp_path / 'second', *texts, '--beam', '2')
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == Translator.ensemble([first, second]).translate(texts, beam=2)
    odd = call('translate', exported, 'mot ' * 2000, 'a\x00b')                # too long or odd for a path: texts
    assert odd.returncode == 0 and len(odd.stdout.splitlines()) == 2, odd.stderr
    (tmp_path / 'test.tsv').write_text('fr\ten\n' + ''.join(f"{t}\tx\n" for t in texts))
    r = call('evaluate', exported, tmp_path / 'second', '--data', tmp_path / 'test.tsv')
    assert r.returncode == 0 and json.loads(r.stdout)['models'] == [str(exported), str(tmp_path / 'second')]


NEWER_TORCH = '''
import sys, warnings, torch.jit
real = torch.jit.script
def script(obj, *args, **kwargs):   # what torch >= 2.14 does when fastai's layers.py is imported
    warnings.warn("`torch.jit.script` is deprecated. Please switch to `torch.compile` or `torch.export`.",
                  FutureWarning, stacklevel=2)
    return real(obj, *args, **kwargs)
torch.jit.script = script
'''


def test_no_command_prints_the_future_warning_of_a_newer_torch():
    """The one known third-party FutureWarning is silenced by the command, and only that one: the stand-in warns once
    when called before fastseq.cli is imported (the control), never from fastai's layers.py, and other warnings pass."""
    cmd = NEWER_TORCH + ("try: script(len)\nexcept Exception: pass\n"                      # warns, then cannot script
                         "from fastseq.cli import main; warnings.warn('other', FutureWarning); "
                         "sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, '-c', cmd, 'translate', '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'usage: fastseq translate' in r.stdout
    assert r.stderr.count('`torch.jit.script` is deprecated') == 1 and 'layers.py' not in r.stderr, r.stderr
    assert 'FutureWarning: other' in r.stderr


def test_train_flags_are_the_config_fields(capsys):
    """`fastseq train --help` lists every `TrainConfig` field and every field of its nested `Architecture` as a flag,
    declared nowhere else; the model's flags keep its names (no --emb-sz standing for several sizes)."""
    from dataclasses import fields
    from fastseq.config import TrainConfig
    from fastseq.model import Architecture
    with pytest.raises(SystemExit): main(['train', '--help'])
    text = capsys.readouterr().out
    names = [f.name for f in fields(TrainConfig) if f.name != 'model'] + [f.name for f in fields(Architecture)]
    missing = [n for n in names if f"--{n.replace('_', '-')}" not in text]
    assert not missing and '--no-normalize' in text and '[3e-3]' not in text and '[0.003]' in text
    assert '--no-bidir' in text and 'bidirectional encoder [True]' in text   # the default recipe's, not the class's
    with pytest.raises(SystemExit): main(['train', '--emb-sz', '64'])
    assert 'ambiguous option: --emb-sz' in capsys.readouterr().err
