"""Property tests: whatever unicode people paste, tokenizing, numericalizing and translating never raise, and give
one string per input."""
import subprocess
import sys

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fastseq.tokenize import Seq2SeqTokenizer

ODD = ['', ' \t\n ', '\x00', 'a\x00b', '\u202e\u05e9\u05dc\u05d5\u05dd abc', '🦊🇫🇷 chat 👩‍👩‍👧', 'e\u0301\u0301\u0301',
       '\ud800', 'x\udfff y', '\u200b\u200b', '\x1b[31mrouge', 'le chat ' * 1250, '?!?!…', '\u00a0\u202f?']
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
many = st.lists(texts, min_size=1, max_size=6)
EN = Seq2SeqTokenizer('en')   # built once: spaCy and Moses load on first use, not per example
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(many)
@example(ODD)
def test_tokenizer_and_numericalizer_never_raise(trained, batch):
    proc = trained.dls.processor
    ids = proc.src_ids(batch)
    assert len(ids) == len(batch) and all(isinstance(i, int) for s in ids for i in s)
    toks = EN(batch)
    assert all(isinstance(EN.detokenize(t), str) for t in toks)


@FUZZ
@given(many, st.sampled_from([1, 3]))
@example(ODD, 1)
@example(ODD, 3)
def test_translate_never_raises_and_keeps_one_output_per_input(trained, batch, beam):
    out = trained.translate(batch, beam=beam, max_src_len=64)
    assert len(out) == len(batch) and all(isinstance(o, str) for o in out)


def test_cli_translate_survives_odd_stdin_lines_and_invalid_utf8(tmp_path, trained):
    bundle = trained.save_translator(tmp_path / 'b')
    lines = [t for t in ODD if '\n' not in t and '\ud800' not in t and '\udfff' not in t]
    data = '\n'.join(lines).encode('utf-8') + b'\n\xff\xfe invalid \xc3\n' + b'fin\n'
    r = subprocess.run([sys.executable, '-m', 'fastseq.cli', 'translate', str(bundle)], input=data,
                       capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    assert len(r.stdout.decode('utf-8').split('\n')) == len(lines) + 2 + 1   # one line per input, then the last \n
