"""A text as sentences and the whitespace between them, so that each sentence is translated alone and the
translations go back between the separators as they were typed (spaces, line breaks, blank lines between paragraphs).
A line break always ends a sentence; inside a line, spaCy's rule-based sentencizer splits at final punctuation, with
the source language's tokenizer, so that abbreviations such as "M." do not end one. A sentence longer than a model
trained on short pairs translates well is cut further, at clause marks (, ; : —) where it can, into pieces that are
translated one by one: nothing is dropped."""
import re
import unicodedata
from functools import cache
from typing import NamedTuple

__all__ = ['MAX_WORDS', 'Segmented', 'split_sentences']

_LINES = re.compile(r'[^\n]+')
_SURROGATES = re.compile('[\ud800-\udfff]')   # spaCy cannot encode them; one stand-in each keeps the offsets
_WORDS = re.compile(r'\S+')
_CLAUSE_END = re.compile(r'[,;:—–]$')
MAX_WORDS = 25   # whitespace-separated words: the default recipe trains on pairs of up to 30 tokens


class Segmented(NamedTuple):
    """`sentences` and the `separators` around them, one more than the sentences: the text before the first, between
    each two and after the last, so that `join` of the sentences themselves gives the text back exactly."""
    sentences: list
    separators: list

    def join(self, translations):
        "The separators with `translations` (one per sentence, in order) between them."
        if len(translations) != len(self.sentences):
            raise ValueError(f"{len(translations)} translations for {len(self.sentences)} sentences")
        return self.separators[0] + ''.join(t + sep for t, sep in zip(translations, self.separators[1:]))


@cache   # one pipeline per language and process: building it takes a while
def _sentencizer(lang):
    import spacy
    try: nlp = spacy.blank(lang)
    except ImportError: nlp = spacy.blank('xx')          # a language spaCy lacks: its multi-language rules
    nlp.add_pipe('sentencizer')
    return nlp


def _sentence_spans(text, lang, max_words):
    "(start, end) character offsets of the sentences of `text` (and pieces of long ones), whitespace trimmed, in order."
    for line in _LINES.finditer(text):
        for sent_start, sent_end in _line_sentences(line.group(), lang):
            start, end = line.start() + sent_start, line.start() + sent_end
            while start < end and text[start].isspace(): start += 1
            while end > start and text[end - 1].isspace(): end -= 1
            if start < end: yield from _pieces(text, start, end, max_words)


def _line_sentences(line, lang):
    """(start, end) offsets of the sentences of one line as the sentencizer splits it. A line with no sentence mark
    before its closing run of punctuation is one sentence without asking it: the sentencizer only starts a sentence at
    a word after a mark, and that is most lines, whose tokenizing it would double (docs/performance.md)."""
    nlp = _sentencizer(lang)
    marks = nlp.get_pipe('sentencizer').punct_chars
    body = line.rstrip()
    k = len(body)
    while k and unicodedata.category(body[k - 1]).startswith('P'): k -= 1
    if marks.isdisjoint(body[:k]): return [(0, len(line))]
    return [(s.start_char, s.end_char) for s in nlp(_SURROGATES.sub('\ufffd', line)).sents]


def _pieces(text, start, end, max_words):
    """The span text[start:end] cut into pieces of at most `max_words` words: in two at the clause mark nearest its
    middle (else at its middle word), again until each piece fits."""
    words = list(_WORDS.finditer(text, start, end))
    if len(words) <= max_words: return [(start, end)]
    marks = [i for i, w in enumerate(words[:-1]) if _CLAUSE_END.search(w.group())]
    cut = min(marks, key=lambda i: abs(i + 1 - len(words) / 2)) + 1 if marks else len(words) // 2
    return (_pieces(text, start, words[cut - 1].end(), max_words)
            + _pieces(text, words[cut].start(), end, max_words))


def split_sentences(text, lang='fr', max_words=MAX_WORDS):
    """`text` as a `Segmented`: its sentences in order (those over `max_words` words cut at clause marks), and the
    whitespace around them (a text of none: no sentence)."""
    spans = list(_sentence_spans(text, lang, max_words))
    if not spans: return Segmented([], [text])
    bounds = [0] + [i for span in spans for i in span] + [len(text)]
    seps = [text[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2)]
    return Segmented([text[s:e] for s, e in spans], seps)
