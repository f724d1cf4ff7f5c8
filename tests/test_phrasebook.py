from fastseq.datasets import phrasebook
from fastseq.phrasebook import render_french


def test_deterministic_for_a_seed_and_different_across_seeds():
    a, b, c = phrasebook(300, seed=1), phrasebook(300, seed=1), phrasebook(300, seed=2)
    assert a.equals(b)
    assert not a.equals(c)


def test_size_distinct_pairs_and_vocabulary():
    df = phrasebook(20000, seed=0)
    assert list(df.columns) == ['fr', 'en']
    assert len(df) == 20000 and not df.duplicated().any()
    words = lambda col: {w.strip('.?').lower() for s in df[col] for w in s.split()} - {''}
    assert len(words('fr')) >= 300 and len(words('en')) >= 300


def test_grammar_reorders_adjectives_and_possessives():
    df = phrasebook(20000, seed=0)
    fr_en = dict(zip(df.fr, df.en))
    assert any('chat noir' in f and 'black cat' in e for f, e in fr_en.items())
    assert any(" de Marie" in f and "Marie's" in e for f, e in fr_en.items())
    assert any(f.startswith('Où est') and e.startswith('Where is') for f, e in fr_en.items())
    assert any(f.startswith("Qu'est-ce que") for f in fr_en)
    assert any(' trois ' in f and ' three ' in e for f, e in fr_en.items())


def test_agreement_gender_and_number():
    df = phrasebook(20000, seed=0)
    assert df.fr.str.contains(r'\bles voitures \w+es\b').any()          # feminine plural adjective
    assert not df.fr.str.contains(r'\bla chat\b|\ble voiture\b').any()   # article agrees with gender
    assert df.en.str.contains(r'\bcats are\b').any() and not df.en.str.contains(r'\bcats is\b').any()


def test_elision_and_contraction():
    assert render_french('je aime le arbre'.split()) == "j'aime l'arbre"
    assert render_french('près de le chat'.split()) == 'près du chat'
    assert render_french('près de le enfant'.split()) == "près de l'enfant"
    assert render_french('à les enfants'.split()) == 'aux enfants'


def test_too_many_pairs_asked_is_a_clear_error():
    import pytest
    with pytest.raises(ValueError, match='n must be a positive'): phrasebook(0)
