import numpy as np
import pytest

from fastseq.casual import (CASUAL_KINDS, Casual, accent_table, add_accents, augment_casual, normalize_casual,
                            restore_style, strip_accents)

VOCAB = ['le', 'école', 'est', 'fermée', 'été', 'êtes', 'élevé', 'élève', 'a', 'à', 'où', 'ou']


def test_accents_come_back_from_the_most_frequent_known_word_and_known_words_stay():
    table = accent_table(VOCAB)
    assert table == {'ecole': 'école', 'fermee': 'fermée', 'ete': 'été', 'etes': 'êtes', 'eleve': 'élevé',
                     'a': 'à', 'ou': 'où'}
    known = set(VOCAB).__contains__
    assert add_accents("L'ECOLE est fermee ou a Ete, Eleve.", known, table) == "L'ÉCOLE est fermée ou a Été, Élevé."
    assert strip_accents("Œuvre à Noël, ça") == "Œuvre a Noel, ca"


@pytest.mark.parametrize('typed, model_input, style', [
    ("LE CHAT EST SOUS LA TABLE.", "Le chat est sous la table.", dict(shout=True)),
    ("LE CHAT DE Xxphaa DORT", "Le chat de Xxphaa dort.", dict(shout=True, no_final=True)),
    ("Le Chat Est Sous La Table !", "Le chat est sous la table !", dict(title=True)),
    ("le chat est sous la table", "Le chat est sous la table.", dict(lower_start=True, no_final=True)),
    ("« où est la gare ? »", "« Où est la gare ? »", dict(lower_start=True)),
    ("Le chat dort.", "Le chat dort.", {}),
    ("SNCF", "SNCF", {}), ("", "", {}), ("12 34", "12 34", {}), ("3 chats dorment.", "3 chats dorment.", {})])
def test_casual_input_is_normalized_and_remembers_how_it_was_typed(typed, model_input, style):
    assert normalize_casual(typed) == Casual(model_input, **style)


def test_the_translation_gets_the_inputs_style_back():
    style = lambda typed: normalize_casual(typed)
    assert restore_style("The cat is under Xxphaa.", style("LE CHAT EST SOUS XXPHAA.")) == "THE CAT IS UNDER XXPHAA."
    assert restore_style("The cat is under the table.", style("le chat est sous la table")) == (
        "the cat is under the table")
    assert restore_style("Where is the station?", style("Où Est La Gare ?")) == "Where Is The Station?"
    assert restore_style("The cat sleeps.", style("Le chat dort.")) == "The cat sleeps."


def test_augmentation_retypes_a_seeded_share_of_pairs_consistently_on_both_sides():
    pairs = [(f"Le chat {i} dort à l'école.", f"The cat {i} sleeps at school.") for i in range(3000)]
    out = augment_casual(pairs, 0.3, 1)
    assert out == augment_casual(pairs, 0.3, 1) != augment_casual(pairs, 0.3, 2)
    rng = np.random.RandomState(1)                                      # chunk by chunk, one generator: the same
    assert augment_casual(pairs[:1234], 0.3, rng) + augment_casual(pairs[1234:], 0.3, rng) == out
    changed = [(p, o) for p, o in zip(pairs, out) if p != o]
    assert 0.25 < len(changed) / len(pairs) < 0.35
    for (s, t), (s2, t2) in changed:
        assert (s2, t2) in [CASUAL_KINDS[k](s, t) for k in CASUAL_KINDS]
    assert {k for k in CASUAL_KINDS if any(o == CASUAL_KINDS[k](*p) for p, o in changed)} == set(CASUAL_KINDS)
    assert ("LE CHAT 7 DORT À L'ÉCOLE.", "THE CAT 7 SLEEPS AT SCHOOL.") == CASUAL_KINDS['caps'](*pairs[7])
    assert CASUAL_KINDS['lower_nopunct'](*pairs[7]) == ("le chat 7 dort à l'école", "the cat 7 sleeps at school")
    assert augment_casual(pairs, 0, 1) == pairs
    with pytest.raises(ValueError, match='casual_share must be between 0 and 1, got 1.5'): augment_casual(pairs, 1.5, 1)


def test_a_model_trained_on_retyped_pairs_says_so_and_its_export_and_bundle_keep_it(trained, small_df, tmp_path):
    "`casual_learnt` comes from the training data's `casual_share` and survives the translator, export and bundle."
    from fastai.learner import load_learner

    from fastseq.bundle import load_translator, save_bundle
    from fastseq.data import Seq2SeqDataLoaders
    from fastseq.learner import seq2seq_learner
    dls = Seq2SeqDataLoaders.from_df(small_df, bs=16, casual_share=0.2, device='cpu', verbose=False)
    learn = seq2seq_learner(dls, emb_sz_src=16, emb_sz_tgt=16, n_hid_enc=16, path=tmp_path)
    assert learn.casual_learnt and learn.translator().casual_learnt and not trained.casual_learnt
    learn.export(tmp_path / 'm.pkl')
    assert load_learner(tmp_path / 'm.pkl').casual_learnt and load_translator(tmp_path / 'm.pkl').casual_learnt
    assert load_translator(save_bundle(learn.translator(), tmp_path / 'b')).casual_learnt


def test_models_of_two_seeds_share_their_retyped_pairs_and_vocabularies_so_they_ensemble(small_df, tmp_path):
    "The split and the retyping draw from `data_seed`, not `seed`: two seeds' models ensemble; two data seeds differ."
    from fastseq.config import TrainConfig
    from fastseq.training import _dataloaders
    vocab = lambda **kw: _dataloaders(small_df, None, TrainConfig(casual_share=0.3, **kw), tmp_path, 'cpu').vocab
    assert vocab(seed=1) == vocab(seed=2)
    assert vocab(seed=1) != vocab(seed=1, data_seed=2)
