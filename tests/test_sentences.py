import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastseq.sentences import split_sentences

SENTENCES = ["Le chat noir est sous la table.", "Où est la gare ?", "Marie voit le petit chien !", "Il pleut",
             "M. Dupont a trois chats.", "Nous avons vu 1 234,5 km."]
SPACE = st.text(alphabet=' \t\n', max_size=4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(SENTENCES), max_size=6), st.lists(SPACE, min_size=7, max_size=7), st.data())
def test_a_text_splits_into_its_sentences_and_joins_back_exactly(sentences, spaces, data):
    """Any sentences with any whitespace around and between them (a space at least inside a line, else a line break;
    "Il pleut" has no final mark, so only a line break may end it): the sentences come back in order, joining them
    gives the text exactly, and translations go between the same separators."""
    seps = [spaces[0]]
    for prev, sp in zip(sentences[:-1], spaces[1:]):
        seps.append(sp if '\n' in sp else (sp or ' ') if not prev.endswith('Il pleut') else sp + '\n')
    seps = seps + [spaces[-1]] if sentences else seps
    text = seps[0] + ''.join(s + sep for s, sep in zip(sentences, seps[1:]))
    seg = split_sentences(text)
    assert seg.sentences == sentences and seg.separators == seps
    assert seg.join(seg.sentences) == text
    out = [f"<{i}>" for i in range(len(sentences))]
    assert seg.join(out) == seps[0] + ''.join(t + sep for t, sep in zip(out, seps[1:]))


def test_abbreviations_do_not_end_a_sentence_and_line_breaks_do():
    seg = split_sentences("M. Dupont est là. Il dort\nBonjour")
    assert seg.sentences == ["M. Dupont est là.", "Il dort", "Bonjour"] and seg.separators == ['', ' ', '\n', '']
    assert split_sentences("  \n ").sentences == [] and split_sentences("  \n ").join([]) == "  \n "
    with pytest.raises(ValueError, match='2 translations for 3 sentences'): seg.join(['a', 'b'])


class CountingSentencizer:
    "spaCy's pipeline, counting the texts it is asked to split."
    def __init__(self, nlp): self.nlp, self.calls = nlp, 0
    def get_pipe(self, name): return self.nlp.get_pipe(name)
    def __call__(self, text): self.calls += 1; return self.nlp(text)


ONE_SENTENCE = ["Le chat dort.", "  Oui.   ", "«Non.»", "Bonjour...", "Où est la gare ?", "Quoi?!", "Il pleut"]
SEVERAL_OR_UNSURE = ["Oui !  »", "« Vraiment ?! »", "Il a dit « oui ! » et partit", "M. Dupont est là",
                     "Il est 3.5 fois plus grand", "Où ? Là.", "Vraiment ?!» Oui", "a.b. c"]


def test_a_line_with_no_inner_sentence_mark_is_split_as_the_sentencizer_would_without_it(monkeypatch):
    """Most lines are one sentence with a mark at the end: they skip the sentencizer, and every line's sentences are
    still those the sentencizer gives (spans trimmed of whitespace)."""
    import fastseq.sentences as sentences
    nlp = sentences._sentencizer('fr')
    counting = CountingSentencizer(nlp)
    monkeypatch.setattr(sentences, '_sentencizer', lambda lang: counting)
    for line in ONE_SENTENCE + SEVERAL_OR_UNSURE:
        by_spacy = [s.text.strip() for s in nlp(line).sents if s.text.strip()]
        calls = counting.calls
        assert split_sentences(line).sentences == by_spacy, line
        assert counting.calls == calls + (line not in ONE_SENTENCE), line
    assert split_sentences("Oui !  »").sentences == ["Oui !", "»"]        # the sentencizer's own choice, kept


def test_a_long_sentence_is_cut_at_clause_marks_into_pieces_that_fit():
    """Over `max_words` words, a sentence is cut at the clause mark nearest its middle, else at its middle word,
    until each piece fits; the separators stay exact."""
    text = "un deux trois, quatre cinq six; sept huit neuf dix onze douze."
    seg = split_sentences(text, max_words=5)
    assert seg.sentences == ["un deux trois,", "quatre cinq six;", "sept huit neuf", "dix onze douze."]
    assert seg.join(seg.sentences) == text and split_sentences(text).sentences == [text]
    assert split_sentences("a " * 9 + "b", max_words=4).sentences == ["a a", "a a a", "a a", "a a b"]


def test_a_600_token_text_comes_back_with_every_sentence_translated(trained):
    "Nothing is cut off: each of 75 sentences, and each piece of one 140-word sentence, is translated as alone."
    sentence = "le chat noir est sous la table ."
    one = trained.translate(sentence, split=False)
    assert trained.translate(' '.join([sentence] * 75)) == ' '.join([one] * 75)
    long = ' '.join(["le chien blanc mange la pomme ,"] * 20)
    seg = split_sentences(long)
    assert len(seg.sentences) >= 140 // 25 and all(len(s.split()) <= 25 for s in seg.sentences)
    assert trained.translate(long) == seg.join(trained.translate(seg.sentences, split=False))


def test_a_paragraph_is_translated_sentence_by_sentence_with_its_separators(trained):
    """Each sentence of a paragraph translates as it does alone, and the paragraph's spaces and line breaks stay;
    split=False decodes the whole text as one sentence; with attention, one `Attended` per sentence."""
    parts = ["le chat noir est sous la table .", "le chien blanc mange la pomme .", "Marie voit le petit chat ."]
    paragraph = f"{parts[0]}  {parts[1]}\n\n{parts[2]}\n"
    alone = trained.translate(parts, split=False)
    assert trained.translate(paragraph) == f"{alone[0]}  {alone[1]}\n\n{alone[2]}\n"
    assert trained.translate([paragraph, parts[0]], beam=2) == [
        "{}  {}\n\n{}\n".format(*trained.translate(parts, beam=2, split=False)), trained.translate(parts[0], beam=2)]
    whole = trained.translate(paragraph, split=False, with_attention=True, casual=False)
    assert len(whole.src_tokens) == sum(len(trained.dls.processor.src_tokens(p)) for p in parts)
    attended = trained.translate(paragraph, with_attention=True, casual=False)          # the model sees them as typed
    assert [a.text for a in attended] == trained.translate(parts, split=False, casual=False)
    assert [a.src_tokens for a in attended] == [trained.dls.processor.src_tokens(p) for p in parts]
