import pickle

import pytest

from fastseq.subword import SubwordTokenizer, make_tokenizers, tokenizer_from_meta, tokenizer_meta, train_sentencepiece
from fastseq.tokenize import Seq2SeqTokenizer


@pytest.fixture(scope='module')
def texts(small_df): return list(small_df.fr), list(small_df.en)


@pytest.fixture(scope='module')
def tokenizers(texts): return make_tokenizers('spm', 'fr', 'en', True, texts, vocab_sz=200)


def test_pieces_round_trip_to_the_normalised_text_with_case_kept(tokenizers, texts):
    fr, en = tokenizers
    assert isinstance(fr, SubwordTokenizer) and fr.vocab_sz <= 200 and fr.model_proto != en.model_proto
    for tok, side in zip(tokenizers, texts):
        pieces = tok(side[:50])
        assert all(p for ps in pieces for p in ps) and max(map(len, pieces)) < 60
        assert [tok.detokenize(p) for p in pieces] == [' '.join(t.split()) for t in side[:50]]
    assert fr.detokenize(fr(['Marie  ET Dupont\u202f?'])[0]) == 'Marie ET Dupont ?'      # case and normalisation
    unseen = fr(['Le zèbre 🦊 est là'])[0]
    assert '🦊' in unseen and fr.detokenize(unseen) == 'Le zèbre 🦊 est là'            # unknown pieces pass through


def test_training_is_deterministic_and_a_joint_model_serves_both_sides(texts):
    assert train_sentencepiece(texts[0], 100) == train_sentencepiece(texts[0], 100)
    fr, en = make_tokenizers('spm', 'fr', 'en', True, texts, vocab_sz=150, joint=True)
    assert fr.model_proto == en.model_proto and (fr.lang, en.lang) == ('fr', 'en')


def test_subword_tokenizers_pickle_and_bundle_as_the_model_bytes(tokenizers):
    fr = tokenizers[0]
    fr(['Bonjour'])                                                # the processor is built
    back = pickle.loads(pickle.dumps(fr))
    assert back._sp is None and back(['Le chat noir.']) == fr(['Le chat noir.'])
    meta = tokenizer_meta(fr)
    assert meta['tokenizer'] == 'spm' and tokenizer_from_meta(meta)(['Où ?']) == fr(['Où ?'])
    spacy = tokenizer_from_meta({'lang': 'fr', 'normalize': True})               # bundles before subwords
    assert isinstance(spacy, Seq2SeqTokenizer) and 'tokenizer' not in tokenizer_meta(spacy)


def test_bad_options_are_clear_errors(texts):
    with pytest.raises(ValueError, match="tokenizer must be one of spacy, spm, got 'bpe'"):
        make_tokenizers('bpe', 'fr', 'en', True, texts)
    with pytest.raises(ValueError, match='vocab_sz must be a whole number of at least 16, got 4'):
        train_sentencepiece(texts[0], 4)
    with pytest.raises(ValueError, match='cannot train a SentencePiece model on no text'):
        train_sentencepiece([' '], 100)
