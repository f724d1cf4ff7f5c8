import json
import pickle

import pytest

from fastseq.errors import ModelFileError
from fastseq.bundle import CONFIG_FILE, WEIGHTS_FILE, load_bundle, load_translator, save_bundle
from fastseq.inference import Translator

TEXTS = ['Le chat noir est sous la table.', '', 'Où est la gare de Marie ?', 'Le zyxwv 🦊 est là.',
         'Qui a vu le chien ?']


@pytest.fixture(scope='module')
def bundle(trained, tmp_path_factory):
    return trained.save_translator(tmp_path_factory.mktemp('bundle') / 'translator')


def test_bundle_files_and_identical_translations(trained, bundle):
    assert {p.name for p in bundle.iterdir()} == {CONFIG_FILE, WEIGHTS_FILE}
    t = load_bundle(bundle)
    for beam in (1, 3):
        assert t.translate(TEXTS, beam=beam) == trained.translate(TEXTS, beam=beam)
    assert t.model.decoder.out.weight is t.model.decoder.emb.weight


def test_n_best_and_attention(trained):
    best = trained.translate(TEXTS, beam=4, n_best=3)
    assert best[1] == [] and all(len(b) == 3 for i, b in enumerate(best) if i != 1)
    assert all([s for _, s in b] == sorted([s for _, s in b], reverse=True) for b in best)
    assert best[0][0][0] == trained.translate(TEXTS[0], beam=4)
    for beam in (1, 4):
        text, src, toks, attn, *_ = trained.translate(TEXTS[0], beam=beam, with_attention=True, split=False)
        proc = trained.dls.processor
        assert src == proc.src_vocab.textify(proc.src_ids([TEXTS[0]])[0], strip_special=False)
        assert attn.shape == (len(toks), len(src)) and text == trained.translate(TEXTS[0], beam=beam)
        assert abs(float(attn.sum(1).mean()) - 1) < 1e-5
    with pytest.raises(ValueError, match="with_attention and return_info describe the best translation only"):
        trained.translate(TEXTS, beam=3, n_best=2, with_attention=True)


def test_the_info_says_where_a_translation_may_have_lost_text(trained):
    """`return_info`: per text the sentences decoded, those that came out far shorter than their source (a paragraph
    decoded unsplit stops after a sentence or so), and whether the input was cut at `max_src_len` tokens."""
    from fastseq.inference import Info
    sentences = ["le chat noir est sous la table .", "le chien blanc mange la pomme .", "Marie voit le chat ."] * 2
    split = trained.translate([' '.join(sentences), '', TEXTS[0]], return_info=True)
    alone = trained.translate(sentences, split=False)
    short = [k for k, (s, t) in enumerate(zip(sentences, alone)) if len(t.split()) < 0.5 * len(s.split())]
    assert [info for _, info in split] == [Info(6, short, False), Info(0, [], False), split[2][1]]
    assert [t for t, _ in split] == trained.translate([' '.join(sentences), '', TEXTS[0]])
    (text, info), = trained.translate([' '.join(sentences)], split=False, return_info=True)
    assert (info.too_short == [0]) == (len(text.split()) < 0.5 * len(' '.join(sentences).split()))
    with pytest.warns(UserWarning, match='longer than 5 tokens were truncated'):
        (_, cut), = trained.translate([TEXTS[0]], split=False, return_info=True, max_src_len=5)
    assert cut.truncated and not cut.ok
    with pytest.raises(ValueError, match='use with_attention or return_info, not both'):
        trained.translate(TEXTS, with_attention=True, return_info=True)


def test_very_long_and_odd_inputs(trained):
    out = trained.translate(['chat ' * 2000, '\x00\u202e\u0301', '   '], beam=2)
    assert len(out) == 3 and all(isinstance(o, str) for o in out) and out[2] == ''


def test_missing_file_and_missing_folder(bundle, tmp_path):
    import shutil
    broken = tmp_path / 'b'; shutil.copytree(bundle, broken); (broken / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelFileError, match='model.safetensors is missing'): load_bundle(broken)
    with pytest.raises(FileNotFoundError, match='bundle folder not found'): load_bundle(tmp_path / 'nope')


def edited(bundle, tmp_path, **changes):
    import shutil
    out = tmp_path / 'edited'; shutil.copytree(bundle, out)
    meta = json.loads((out / CONFIG_FILE).read_text())
    for k, v in changes.items(): meta[k] = v(meta[k]) if callable(v) else v
    (out / CONFIG_FILE).write_text(json.dumps(meta))
    return out


def test_newer_format_version_is_a_clear_error(bundle, tmp_path):
    with pytest.raises(ModelFileError, match='bundle format version 99 .* reads version 2'):
        load_bundle(edited(bundle, tmp_path, format_version=99))


def test_vocabulary_that_does_not_match_the_weights(bundle, tmp_path):
    path = edited(bundle, tmp_path, tgt=lambda side: {**side, 'itos': side['itos'][:-5]})
    with pytest.raises(ModelFileError, match='expects vocabularies of .* the bundle holds'): load_bundle(path)


def test_corrupt_weights_and_json(bundle, tmp_path):
    import shutil
    bad = tmp_path / 'bad'; shutil.copytree(bundle, bad)
    (bad / WEIGHTS_FILE).write_bytes((bad / WEIGHTS_FILE).read_bytes()[:100])
    with pytest.raises(ModelFileError, match='cannot load the weights'): load_bundle(bad)
    (bad / CONFIG_FILE).write_text('{not json')
    with pytest.raises(ModelFileError, match='is not valid JSON'): load_bundle(bad)


class Payload:
    "Unpickling this runs os.system: a stand-in for a malicious model file."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (__import__('os').system, (f'touch {self.marker}',))


def test_a_malicious_pickle_in_the_bundle_is_never_executed(bundle, tmp_path):
    import shutil
    evil = tmp_path / 'evil'; shutil.copytree(bundle, evil)
    marker = tmp_path / 'pwned'
    (evil / WEIGHTS_FILE).write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ModelFileError): load_bundle(evil)
    assert not marker.exists()


def test_an_int8_bundle_remembers_quantisation(trained, tmp_path):
    "quantize → save → load: the loaded translator is int8 and decodes as the saved one; the float weights are saved."
    t = trained.translator()
    q = Translator(t.model, t.processor).quantize()
    texts = [s for s, _ in trained.valid_pairs()[:40]]
    save_bundle(q, tmp_path / 'q')
    loaded = load_bundle(tmp_path / 'q')
    assert loaded.int8 and q.int8 and not t.int8
    assert loaded.translate(texts, beam=3) == q.translate(texts, beam=3)
    assert load_bundle(_float_copy(tmp_path / 'q', tmp_path / 'f')).translate(texts) == t.translate(texts)
    with pytest.raises(ValueError, match='int8 inference runs on the CPU'):
        load_translator(tmp_path / 'q', device='cuda', int8=True)


def test_int8_quantizes_every_layer_but_the_attention_scorer_of_one_output(trained):
    "The additive scorer (one output) stays fp32, faster so; the recurrent, attention and output layers are int8."
    from torch import nn
    q = trained.translator().quantize().model
    assert type(q.decoder.attn.v) is nn.Linear
    quantized = [q.encoder.rnn, q.decoder.rnn, q.decoder.attn.query_proj, q.decoder.mix, q.decoder.out]
    assert all(type(m).__module__.startswith('torch.ao.nn.quantized') for m in quantized)


def _float_copy(src, dst):
    "The bundle at `src` copied to `dst` with int8 turned off in its JSON."
    import shutil
    shutil.copytree(src, dst)
    meta = json.loads((dst / 'translator.json').read_text())
    (dst / 'translator.json').write_text(json.dumps({**meta, 'int8': False}))
    return dst


@pytest.mark.parametrize('kw', [dict(cell='lstm'), dict(score='general', attend_after_rnn=False)])
def test_lstm_and_luong_score_models_round_trip_through_bundles_and_int8(trained, tmp_path, kw):
    "A model of another cell or scorer: the bundle rebuilds it (config + weights) and decodes the same, int8 too."
    import torch
    from fastseq.model import Seq2SeqRNN
    torch.manual_seed(0)
    proc, arch = trained.dls.processor, trained.model.config.to_dict()
    model = Seq2SeqRNN.from_sizes(arch['src_vocab'], arch['tgt_vocab'], **{
        k: arch[k] for k in ('emb_sz_src', 'emb_sz_tgt', 'n_hid_enc', 'n_hid_dec', 'att_sz', 'bidir')}, **kw).eval()
    texts = [s for s, _ in trained.valid_pairs()[:20]]
    t = Translator(model, proc)
    loaded = load_bundle(save_bundle(t, tmp_path / 'b'))
    assert all(getattr(loaded.model.config, k) == v for k, v in kw.items())
    assert loaded.translate(texts, beam=3) == t.translate(texts, beam=3)
    q = load_bundle(save_bundle(Translator(model, proc).quantize(), tmp_path / 'q'))
    assert q.int8 and len(q.translate(texts, beam=2)) == len(texts)


def test_an_ensemble_translator_checks_vocabularies_and_is_not_saved_as_one_bundle(trained, tmp_path):
    from fastseq.data import TextProcessor
    from fastseq.vocab import Vocab
    t = trained.translator()
    pair = Translator.ensemble([t, Translator(t.model, t.processor)])
    texts = [s for s, _ in trained.valid_pairs()[:10]]
    assert pair.translate(texts, beam=2) == t.translate(texts, beam=2)      # one model twice: the same decodes
    p = t.processor
    other = TextProcessor(p.src_tok, p.tgt_tok, p.src_vocab, Vocab(p.tgt_vocab.itos[:-1] + ['zzz']))
    with pytest.raises(ValueError, match="b's tgt vocabulary differs from a's"):
        Translator.ensemble([t, Translator(t.model, other)], names=['a', 'b'])
    with pytest.raises(ValueError, match="an ensemble is saved as its members' bundles"):
        save_bundle(pair, tmp_path / 'e')


def test_decoding_precision_of_the_vocabulary_projection(trained):
    "'bf16' decodes with bf16 logits and leaves the model as it was; 'auto' keeps a small model fp32; int8, bad values."
    import torch
    from fastseq.errors import OptionError
    from fastseq.precision import decoding_dtype
    t = trained.translator()
    seen = []
    hook = t.model.decoder.out.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    try:
        for precision, dtype in (('bf16', torch.bfloat16), ('fp32', torch.float32), ('auto', torch.float32)):
            seen.clear()
            for beam in (1, 3):
                assert all(isinstance(o, str) for o in t.translate(TEXTS, beam=beam, precision=precision))
            assert seen and set(seen) == {dtype}, precision
    finally: hook.remove()
    assert t.model.projection_dtype is None
    t.precision = 'bf16'
    assert t.translate(TEXTS[0]) == trained.translate(TEXTS[0], precision='bf16')
    assert decoding_dtype(Translator(t.model, t.processor).quantize().model, 'bf16') is None
    with pytest.raises(OptionError, match="decoding precision must be one of auto, fp32, bf16, got 'fp16'"):
        t.translate(TEXTS, precision='fp16')
