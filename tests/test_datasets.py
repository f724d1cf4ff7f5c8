import pandas as pd
import pytest

from fastseq.datasets import clean_pairs, question_filter, read_files, read_tsv
from fastseq.errors import CorpusError, CorpusNotFoundError


def write(path, data): path.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8')); return path


def test_named_columns_in_any_order(tmp_path):
    df = read_tsv(write(tmp_path / 'c.tsv', 'en\tfr\nThe cat.\tLe chat.\n'), src='fr', tgt='en')
    assert df.to_dict('records') == [{'fr': 'Le chat.', 'en': 'The cat.'}]


def test_tatoeba_headerless_form(tmp_path):
    df = read_tsv(write(tmp_path / 'fra.txt', 'Go.\tVa !\tCC-BY 2.0 (France) Attribution\nHi.\tSalut !\tx\n'))
    assert list(df.fr) == ['Va !', 'Salut !'] and list(df.en) == ['Go.', 'Hi.']


def test_csv_with_quotes(tmp_path):
    df = read_tsv(write(tmp_path / 'c.csv', 'fr,en\n"Oui, bien sûr.","Yes, of course."\n'))
    assert df.iloc[0].tolist() == ['Oui, bien sûr.', 'Yes, of course.']


def test_missing_file(tmp_path):
    with pytest.raises(CorpusNotFoundError, match='nope.tsv'): read_tsv(tmp_path / 'nope.tsv')
    with pytest.raises(FileNotFoundError): read_files(tmp_path / 'a.fr', tmp_path / 'a.en')


def test_empty_file(tmp_path):
    with pytest.raises(CorpusError, match='empty'): read_tsv(write(tmp_path / 'e.tsv', ''))


def test_wrong_column_count_names_the_line(tmp_path):
    path = write(tmp_path / 'bad.tsv', 'fr\ten\nA.\tB.\nC.\tD.\nonly one field\nE.\tF.\n')
    with pytest.raises(CorpusError, match=r'bad.tsv, line 4: expected 2 columns, found 1'): read_tsv(path)
    with pytest.warns(UserWarning, match='skipped 1 lines'): df = read_tsv(path, skip_bad_lines=True)
    assert len(df) == 3 and df.attrs['skipped_bad_lines'] == 1


def test_invalid_utf8_names_line_and_column(tmp_path):
    path = write(tmp_path / 'latin1.tsv', 'fr\ten\nA.\tB.\n'.encode() + 'Très bien.\tVery good.\n'.encode('latin-1'))
    with pytest.raises(CorpusError, match=r'line 3: bytes that are not UTF-8 at column 3'): read_tsv(path)


def test_empty_sides_are_dropped_and_counted(tmp_path):
    path = write(tmp_path / 'e.tsv', 'fr\ten\nA.\t\n\tB.\nC.\tD.\n')
    with pytest.warns(UserWarning, match='dropped 2 pairs'): df = read_tsv(path)
    assert len(df) == 1 and df.attrs['dropped_empty'] == 2


def test_header_without_the_columns(tmp_path):
    with pytest.raises(CorpusError, match="not a header naming the columns 'de' and 'en'"):
        read_tsv(write(tmp_path / 'x.tsv', 'a\tb\tc\td\n1\t2\t3\t4\n'), src='de', tgt='en')


def test_two_files_line_aligned(tmp_path):
    df = read_files(write(tmp_path / 'c.fr', 'Le chat.\nLe chien.\n'), write(tmp_path / 'c.en', 'The cat.\nThe dog.\n'))
    assert list(df.fr) == ['Le chat.', 'Le chien.'] and list(df.en) == ['The cat.', 'The dog.']


def test_two_files_with_different_line_counts_name_both(tmp_path):
    src, tgt = write(tmp_path / 'c.fr', 'a\nb\nc\n'), write(tmp_path / 'c.en', 'a\nb\n')
    with pytest.raises(CorpusError, match=r'c.en, line 3: the files are not line-aligned: .*c.fr goes on past'):
        read_files(src, tgt)


def test_two_files_invalid_utf8(tmp_path):
    src, tgt = write(tmp_path / 'c.fr', b'ok\n\xff\n'), write(tmp_path / 'c.en', 'ok\nok\n')
    with pytest.raises(CorpusError, match=r'c.fr, line 2'): read_files(src, tgt)


def test_question_filter_reproduces_the_lesson():
    df = pd.DataFrame({'fr': ['Qui est là ? Moi.', 'Je suis là.', 'Où es-tu ?'],
                       'en': ["Who's there? Me.", "I'm here.", 'Are you there?']})
    out = question_filter(df)
    assert out.to_dict('records') == [{'fr': 'Qui est là ?', 'en': "Who's there?"}]


def test_clean_pairs_missing_column():
    with pytest.raises(CorpusError, match="no column 'fr'"): clean_pairs(pd.DataFrame({'en': ['a']}), 'fr', 'en')


MIXED = (b'fr\ten\n' b'Bonjour.\tHello.\n' b'une seule colonne\n' b'Tr\xe8s bien.\tVery good.\n' b'\tEmpty source.\n'
         b'?!\t...\n' b'a\tb\tc\n' b'Merci.\tThanks.\n')


def test_mixed_bad_lines_fail_on_the_first_or_load_with_counts(tmp_path):
    path = write(tmp_path / 'mixed.tsv', MIXED)
    with pytest.raises(CorpusError, match=r'mixed.tsv, line 3: expected 2 columns, found 1'): read_tsv(path)
    with pytest.warns(UserWarning) as caught: df = read_tsv(path, skip_bad_lines=True)
    messages = ' | '.join(str(w.message) for w in caught)
    assert 'skipped 3 lines with a wrong number of columns or bytes that are not UTF-8' in messages
    assert 'dropped 1 pairs with an empty side' in messages
    assert df.values.tolist() == [['Bonjour.', 'Hello.'], ['?!', '...'], ['Merci.', 'Thanks.']]
    assert df.attrs['skipped_bad_lines'] == 3 and df.attrs['dropped_empty'] == 1
