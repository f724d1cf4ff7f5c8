"""Distillation: the teachers' translation pass written batch by batch and resumed after an interruption to the same
file, and a student trained on it that exports, bundles and serves like any model."""
import json
import re

import pytest
from fastseq import distillation
from fastseq.bundle import load_translator, save_bundle
from fastseq.distillation import distill, student_pairs, teacher_key, translate_corpus
from fastseq.errors import OptionError
from fastseq.inference import Translator
from fastseq.lexical import lexical_shortlist
from fastseq.training import GREEDY_MARGIN, decoding_beam


class Interrupting:
    "A translator that stops (as a kill would) at its call number `stop`, after writing half a line."
    def __init__(self, translator, stop, path):
        self.translator, self.stop, self.path, self.calls = translator, stop, path, 0
    def translate(self, texts, **kwargs):
        self.calls += 1
        if self.calls == self.stop:
            with open(self.path, 'a') as f: f.write('[7, "half a li')
            raise KeyboardInterrupt
        return self.translator.translate(texts, **kwargs)


def test_an_interrupted_pass_resumes_to_the_same_file_and_another_key_starts_anew(trained, small_df, tmp_path,
                                                                                   capsys, monkeypatch):
    translator = trained.translator()
    sources = [*small_df.fr[:99], ' '.join(small_df.fr[100:103])]      # the last one of three sentences
    key = teacher_key(translator, sources, beam=2)
    whole = translate_corpus(translator, sources, tmp_path / 'whole.jsonl', key, beam=2, bs=16, progress=False)
    assert whole == translator.translate(sources, beam=2, casual=False)           # sentence by sentence
    assert whole[-1] != translator.translate(sources[-1:], beam=2, split=False, casual=False)[0]
    with pytest.raises(KeyboardInterrupt):
        translate_corpus(Interrupting(translator, 4, tmp_path / 'cut.jsonl'), sources, tmp_path / 'cut.jsonl', key,
                         beam=2, bs=16, progress=False)
    assert len((tmp_path / 'cut.jsonl').read_text().splitlines()) == 1 + 3 * 16 + 1     # 3 batches and half a line
    counting = Interrupting(translator, 0, None)
    assert translate_corpus(counting, sources, tmp_path / 'cut.jsonl', key, beam=2, bs=16, progress=False) == whole
    assert counting.calls == 4                                          # the 7 batches less the 3 already written
    assert (tmp_path / 'cut.jsonl').read_bytes() == (tmp_path / 'whole.jsonl').read_bytes()
    assert translate_corpus(counting, sources, tmp_path / 'cut.jsonl', key, beam=2, bs=16) == whole
    assert counting.calls == 4 and 'all 100 translations already in' in capsys.readouterr().out
    other = teacher_key(translator, sources, beam=3)
    assert other != key and teacher_key(translator, sources[:-1], beam=2) != key
    assert teacher_key(translator, sources, beam=2, split=False) != key
    monkeypatch.setattr(distillation, 'MIN_LEN', 0)                     # another decoding rule: another key
    assert teacher_key(translator, sources, beam=2) != key
    monkeypatch.undo()
    c = trained.model.config                                            # another vocabulary decoded over
    translator.shortlist = lexical_shortlist(trained.dls.train_ds, c.src_vocab, c.tgt_vocab, 20, 2)
    assert teacher_key(translator, sources, beam=2) != key
    translator.shortlist = None
    translate_corpus(translator, sources[:10], tmp_path / 'cut.jsonl', other, beam=3, bs=16, progress=False)
    header, *lines = (tmp_path / 'cut.jsonl').read_text().splitlines()
    assert json.loads(header) == {'fastseq_distill': other, 'sentences': 10} and len(lines) == 10
    (tmp_path / 'notes.txt').write_text('my notes\n')
    with pytest.raises(OptionError, match='notes.txt is not a file of distilled translations'):
        translate_corpus(translator, sources, tmp_path / 'notes.txt', key, progress=False)
    assert (tmp_path / 'notes.txt').read_text() == 'my notes\n'


def test_a_student_trains_on_an_ensembles_translations_and_exports_bundles_and_serves(demo_notebook, small_df,
                                                                                      tiny_arch, trained, tmp_path,
                                                                                      capsys):
    """The demo model twice (an ensemble of two) teaches a tiny student on 200 phrasebook sources, starting from the
    weights of a tiny trained model: the distilled file holds the ensemble's beam-2 translations; the student is scored
    at beam 2 (int8 too) and greedy, and exports, bundles (int8 too) and serves like any model."""
    import warnings
    from fastai.learner import load_learner
    from starlette.testclient import TestClient
    from fastseq.serve import create_app
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        demo = load_learner(demo_notebook[0] / 'demo.pkl').translator()
    data, valid = small_df.iloc[:200], small_df.iloc[500:]
    student = distill([demo, demo], data, valid, preset='lesson', beam=2, epochs=1, bs=32, out=str(tmp_path / 's.pkl'),
                      model=tiny_arch, eval_beam=2, int8=True, init=str(trained.export(tmp_path / 'init.pkl')))
    out = capsys.readouterr().out
    assert f"started from {tmp_path / 'init.pkl'}: the rows of" in out and 'and every other layer' in out
    scored = [line for line in out.splitlines() if 'pairs, beam' in line]
    assert [line.split(',')[1] for line in scored] == [' beam 2', ' beam 1', ' beam 2']     # the student, greedy, int8
    assert scored[2].startswith('int8 valid (100 pairs')
    chosen = 'decodes greedily by default' if student.beam == 1 else 'decodes at beam 2 by default'
    gap = float(re.search(r'by default: greedy scored (-?[0-9.]+) BLEU under beam 2', out).group(1))
    assert chosen in out and student.beam == (1 if gap <= GREEDY_MARGIN else 2)       # as the printed gap says
    header, *lines = (tmp_path / 's.distilled.jsonl').read_text().splitlines()
    distilled = dict(map(json.loads, lines))
    expected = Translator.ensemble([demo, demo]).translate(list(data.fr), beam=2, split=False, casual=False)
    assert [distilled[i] for i in range(200)] == expected and sum(map(bool, expected)) > 190
    assert len(student.dls.train.dataset) > 350          # trained on the distilled pairs and the original ones
    import fastseq
    assert fastseq.distill is distill
    texts = ["Le chat noir est sous la table.", "Où est Marie ?"]
    exported = load_translator(tmp_path / 's.pkl').translate(texts)
    assert exported == student.translator().translate(texts)
    assert load_translator(save_bundle(student.translator(), tmp_path / 'bundle')).translate(texts) == exported
    with TestClient(create_app(load_translator(tmp_path / 'bundle'))) as client:
        assert client.post('/translate', json={'texts': texts}).json()['translations'] == exported
    int8 = load_translator(tmp_path / 's')                              # int8=True: an int8 bundle beside the export
    assert int8.int8 and int8.translate(texts) == load_translator(tmp_path / 'bundle').quantize().translate(texts)
    assert load_translator(tmp_path / 's.pkl').beam == int8.beam == student.beam   # the beam chosen, in both files


def test_greedy_is_the_default_decoding_only_within_the_margin_of_beam_search():
    assert decoding_beam(57.0, 56.75, 5) == 1 and decoding_beam(57.0, 57.2, 5) == 1
    assert decoding_beam(57.0, 56.5, 5) == 5 and decoding_beam(57.0, 56.5, 5, margin=0.6) == 1
    assert GREEDY_MARGIN == 0.3


def test_a_model_decodes_at_its_own_beam_unless_told_and_its_files_keep_it(trained, small_df, tmp_path):
    """A learner's `beam` is its translator's default in Python, in its export and bundle, and in the server's
    /translate when a request names none; a beam given still wins."""
    from starlette.testclient import TestClient
    from fastseq.serve import ServeConfig, create_app
    texts = list(small_df.fr[500:540])
    greedy, beam3 = (trained.translator().translate(texts, beam=b) for b in (1, 3))
    assert greedy != beam3 and trained.translate(texts) == greedy                  # beam search changes something
    trained.beam = 3
    try:
        export, bundle = trained.export(tmp_path / 'm.pkl'), save_bundle(trained.translator(), tmp_path / 'b')
        for translator in (trained.translator(), load_translator(export), load_translator(bundle)):
            assert translator.beam == 3 and translator.translate(texts) == beam3
            assert translator.translate(texts, beam=1) == greedy
        with TestClient(create_app(load_translator(bundle))) as client:
            assert client.get('/health').json()['beam'] == 3
            assert client.post('/translate', json={'texts': texts}).json()['translations'] == beam3
        with TestClient(create_app(load_translator(bundle), config=ServeConfig(beam=1))) as client:
            assert client.post('/translate', json={'texts': texts}).json()['translations'] == greedy
    finally: del trained.beam


def test_the_command_mixes_the_original_pairs_in_unless_told_not_to(monkeypatch):
    "`--mix` is the function's default, declared there alone; `--no-mix` trains on the distilled pairs only."
    import inspect
    from fastseq.cli import main
    calls = []
    monkeypatch.setattr(distillation, 'distill', lambda *args, **kwargs: calls.append(kwargs))
    for flags in ([], ['--no-mix'], ['--mix']):
        main(['distill', 't.pkl', '--data', 'd.tsv', '--valid', 'v.tsv', *flags])
    assert inspect.signature(distill).parameters['mix'].default is True
    assert 'mix' not in calls[0] and calls[1]['mix'] is False and calls[2]['mix'] is True


def test_mixed_pairs_keep_the_source_vocabulary_that_the_original_pairs_give(small_df, tmp_path):
    "Mixed, every source is there twice: with min_freq as given, words seen once would enter the vocabulary."
    from fastseq.config import TrainConfig
    from fastseq.data import Seq2SeqDataLoaders
    c = TrainConfig()
    mixed, min_freq = student_pairs(small_df, [t.lower() for t in small_df.en], c, mix=True)
    assert len(mixed) == 2 * len(small_df) and list(mixed.fr[len(small_df):]) == list(small_df.fr)
    assert list(mixed.en[:3]) == [t.lower() for t in small_df.en[:3]] and min_freq == 2 * c.min_freq
    vocab = lambda df, freq: Seq2SeqDataLoaders.from_df(df, valid_df=small_df[:20], min_freq=freq, verbose=False,
                                                        path=tmp_path).processor.src_vocab.itos
    original = vocab(small_df, c.min_freq)
    assert vocab(mixed, min_freq) == original and len(vocab(mixed, c.min_freq)) > len(original)
    assert student_pairs(small_df, list(small_df.en), c, mix=False)[1] == c.min_freq
