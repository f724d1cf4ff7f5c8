import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fastseq.placeholders import MAX_ENTITIES, copy_unknown, placeholder, protect, required_positions, restore

KNOWN = {'le', 'tom', 'marie', 'voici', 'mon', 'chat'}.__contains__
ENTITIES = {'url': 'https://www.ma-page.fr/642', 'email': 'paul81@poste.fr', 'phone': '02 99 80 93 54',
            'code': 'D492-W24', 'number': '1 234,5', 'name': 'Zorvakine'}


def test_each_kind_of_entity_is_replaced_by_a_placeholder_and_restored_verbatim():
    text = ("Voici https://www.ma-page.fr/642. Mon courriel : paul81@poste.fr, mon numéro 02 99 80 93 54, le code "
            "D492-W24 et 1 234,5 km pour Zorvakine et Tom.")
    p = protect(text, KNOWN)
    assert p.entities == list(ENTITIES.values())
    assert p.text == ("Voici Xxphaa. Mon courriel : Xxphab, mon numéro Xxphac, le code Xxphad et Xxphae km pour "
                      "Xxphaf et Tom.")
    assert restore(p.text, p.entities) == text
    assert [placeholder(i) for i in (0, 27, MAX_ENTITIES - 1)] == ['Xxphaa', 'Xxphbb', 'Xxphzz']
    assert restore("He wrote XXPHAB and xxphaf's number Xxphacn't.", p.entities) == (
        "He wrote paul81@poste.fr and Zorvakine's number 02 99 80 93 54n't.")    # any case; a clitic glued on


def test_ordinals_known_names_and_elisions_are_left_to_the_model():
    for text in ("Le 3e étage, le 1er mai.", "Tom et Marie.", "J'ai vu Aujourd'hui.", "le chat"):
        assert protect(text, KNOWN).entities == [], text
    assert protect("Zorvakine dort.").entities == []                   # no vocabulary given: no name is unseen
    assert protect("Il a écrit Xxphab ici 12.").entities == []         # a placeholder-like word: left as it is
    assert len(protect(' '.join(['7'] * (MAX_ENTITIES + 5))).entities) == MAX_ENTITIES


def test_signed_numbers_emoji_and_unknown_compound_names_are_protected_whole():
    known = {'jean', 'pierre', 'est', 'ce', 'il', 'fait', 'et', 'ma', 'famille'}.__contains__
    p = protect("Il fait -5 degrés, +3 demain et 3-5 ans à Zorvakine-Ville. Est-ce Jean-Pierre ? Zorvez-vous ?", known)
    assert p.entities == ['-5', '+3', '3', 'Zorvakine-Ville', 'Zorvez']   # 3-5: the 5 follows a word, not a sign
    assert p.text.endswith('Xxphae-vous ?')                                # an unknown verb's clitic: translated
    p = protect("bravo👍 ! ma famille 👨\u200d👩\u200d👧 et ❤\ufe0f👍🏽.", known)
    assert p.entities == ['👍', '👨\u200d👩\u200d👧', '❤\ufe0f👍🏽']              # joined, varied and in runs: whole
    assert p.text == 'bravo Xxphaa ! ma famille Xxphab et Xxphac .'                # apart from the words they touch


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(['le', 'Tom', 'chat', ',', '.', 'à', "l'", *ENTITIES.values()]), max_size=12),
       st.lists(st.sampled_from([' ', '  ', '\n']), min_size=12, max_size=12))
def test_protect_then_restore_gives_the_text_back(words, spaces):
    text = ''.join(w + s for w, s in zip(words, spaces))
    p = protect(text, KNOWN)
    assert restore(p.text, p.entities) == text
    assert not any(e in p.text for e in ENTITIES.values())


def test_unknown_words_are_copied_from_the_source_word_attended_most():
    "An emitted xxunk, or a word attending most to an unknown source word, becomes that source word with its case."
    src = ['xxmaj', 'dupont', 'a', 'vu', '1234567890', '.']
    unknown = [False, True, False, False, True, False]
    attend = lambda *cols: torch.nn.functional.one_hot(torch.tensor(cols), len(src)).float()
    words = ['they', 'saw', 'xxunk', 'xxunk', '.']                    # 'they' attends to dupont: a word invented
    assert copy_unknown(words, attend(1, 3, 4, 4, 5), src, unknown) == ['xxmaj', 'dupont', 'saw', '1234567890', '.']
    assert copy_unknown(['xxmaj', 'they'], attend(0, 0), src, unknown) == ['xxmaj', 'dupont']   # one marker, not two
    assert copy_unknown(['the', 'cat'], attend(2, 3), src, unknown) == ['the', 'cat']          # known: unchanged


def test_a_placeholder_no_step_copied_is_inserted_where_it_is_attended_most():
    """Required source positions come out even when the model skipped them: before the step that attends to them
    most, in source order, and before the final full stop rather than after it."""
    src = ['il', 'a', 'xxmaj', 'xxphaa', 'et', 'xxphab', '.']
    unknown = [False, False, False, True, False, True, False]
    attend = lambda *cols: torch.nn.functional.one_hot(torch.tensor(cols), len(src)).float()
    words = ['he', 'has', 'and', '.']                      # steps attend most to il, a, et, . and eos to xxphab
    attn = attend(0, 1, 4, 6, 5) * 0.6
    attn[2, 3] = 0.4                                         # 'and' attends to xxphaa more than any other step
    out = copy_unknown(words, attn, src, unknown, required=[3, 5])
    assert out == ['he', 'has', 'xxmaj', 'xxphaa', 'and', 'xxphab', '.']
    attn = attend(0, 6, 6) * 0.5
    attn[2, 3], attn[2, 5] = 0.2, 0.3                        # both attended most at eos: at the end, in source order
    assert copy_unknown(['he', '.'], attn, src, unknown, required=[3, 5]) == ['he', 'xxmaj', 'xxphaa', 'xxphab', '.']


def test_placeholders_and_unknown_symbols_are_required_unknown_words_are_not():
    src = ['il', 'fait', 'xxmaj', 'xxphaa', '°', 'c', 'à', 'zorvakine', '§', '.']
    unknown = [False, False, False, True, True, False, False, True, True, False]
    assert required_positions(src, unknown) == [3, 4, 8]


@pytest.mark.parametrize('beam', [1, 3])
def test_entities_come_out_verbatim_batched_greedy_and_beam(trained, beam):
    "A tiny model that never saw a URL, an email, a long number or the name copies each, in a batch with others."
    texts = ["le chat noir voit https://exemple.fr/a?b=1 .", "Zorvakine mange la pomme .",
             "le chien a 1 234 567 pommes et le code B52-X .", "écrivez à paul81@poste.fr .",
             "le chat 🐈 a -12 pommes 😀 .", "le chat dort ."]
    out = trained.translate(texts, beam=beam, bs=2)
    entities = ['https://exemple.fr/a?b=1', 'Zorvakine', '1 234 567', 'paul81@poste.fr', ('🐈', '-12', '😀')]
    for text, entity in zip(texts, entities):
        assert all(e in out[texts.index(text)] for e in ([entity] if isinstance(entity, str) else entity)), (text, out)
    assert 'B52-X' in out[2] and 'xxph' not in ' '.join(out).lower()
    assert out == [trained.translate(t, beam=beam) for t in texts]


def test_entities_survive_the_bundle(trained, tmp_path):
    from fastseq.bundle import load_translator, save_bundle
    path = save_bundle(trained.translator(), tmp_path / "bundle")
    text = "Zorvakine a vu 42 chats sur www.chats.fr ."
    out = load_translator(path).translate(text, beam=2)
    assert all(e in out for e in ('Zorvakine', '42', 'www.chats.fr')) and out == trained.translate(text, beam=2)
