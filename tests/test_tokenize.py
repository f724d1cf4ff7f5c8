from fastseq.tokenize import Seq2SeqTokenizer, mark_case, normalize_text, unmark_case


def test_case_markers_round_trip():
    toks = ['Marie', 'est', 'à', 'PARIS', 'avec', 'Élodie', 'I', "L'"]
    marked = mark_case(toks)
    assert marked == ['xxmaj', 'marie', 'est', 'à', 'xxup', 'paris', 'avec', 'xxmaj', 'élodie', 'xxmaj', 'i',
                      'xxmaj', "l'"]
    assert unmark_case(marked) == toks


def test_normalize_unifies_apostrophes_and_typographic_spaces():
    assert normalize_text('Je l’ai vu\u202f!') == "Je l'ai vu !"
    assert normalize_text('sur \u200b\u200bla musique\u00a0?') == 'sur la musique ?'


def test_french_tokens_split_elisions_and_keep_case_recoverable():
    tok = Seq2SeqTokenizer('fr')
    assert tok(["Qu'est-ce que c'est\u202f?"])[0] == ['xxmaj', "qu'", 'est', '-ce', 'que', "c'", 'est', '?']


def test_english_detokenize_restores_natural_text():
    tok = Seq2SeqTokenizer('en')
    for text in ["Marie's car isn't red.", 'Where is the station?', "I don't know, he said.", 'NASA is big.']:
        assert tok.detokenize(tok([text])[0]) == text


def test_parallel_tokenization_matches_serial():
    tok = Seq2SeqTokenizer('en')
    texts = [f'The cat number {i} is Black.' for i in range(50)]
    assert tok(texts, n_workers=2, chunk_sz=10) == tok(texts)


def test_tokenizer_pickles_without_spacy_state():
    import pickle
    tok = Seq2SeqTokenizer('fr')
    tok(['Bonjour.'])
    clone = pickle.loads(pickle.dumps(tok))
    assert clone._spacy._nlp is None and clone(['Bonjour.']) == tok(['Bonjour.'])
