"""A generated French–English phrasebook: a small grammar with agreement, reordering, tenses and questions.

French puts most adjectives after the noun ("le chat noir" → "the black cat") and the owner after the
thing owned ("la voiture de Marie" → "Marie's car"), so a model has to learn to reorder: attention matters.
"""
import random

import pandas as pd

__all__ = ['phrasebook', 'render_french']

# Word lists: French forms with gender and number, English glosses (one row of entries per line).
# noun: (french singular, gender, english singular, french plural or None, english plural or None)
NOUNS = [
    ('chat', 'm', 'cat'), ('chien', 'm', 'dog'), ('maison', 'f', 'house'), ('voiture', 'f', 'car'),
    ('livre', 'm', 'book'), ('table', 'f', 'table'), ('pomme', 'f', 'apple'), ('arbre', 'm', 'tree'),
    ('école', 'f', 'school'), ('gare', 'f', 'station'), ('jardin', 'm', 'garden'), ('fleur', 'f', 'flower'),
    ('ville', 'f', 'town'), ('rue', 'f', 'street'), ('porte', 'f', 'door'), ('fenêtre', 'f', 'window'),
    ('lettre', 'f', 'letter'), ('clé', 'f', 'key'), ('robe', 'f', 'dress'), ('chapeau', 'm', 'hat', 'chapeaux'),
    ('oiseau', 'm', 'bird', 'oiseaux'), ('cheval', 'm', 'horse', 'chevaux'), ('enfant', 'm', 'child', None, 'children'),
    ('homme', 'm', 'man', None, 'men'), ('femme', 'f', 'woman', None, 'women'), ('garçon', 'm', 'boy'),
    ('fille', 'f', 'girl'), ('professeur', 'm', 'teacher'), ('médecin', 'm', 'doctor'), ('gâteau', 'm', 'cake', 'gâteaux'),
    ('chambre', 'f', 'bedroom'), ('cuisine', 'f', 'kitchen'), ('bureau', 'm', 'office', 'bureaux'), ('lit', 'm', 'bed'),
    ('chaise', 'f', 'chair'), ('tasse', 'f', 'cup'), ('verre', 'm', 'glass', None, 'glasses'), ('assiette', 'f', 'plate'),
    ('bouteille', 'f', 'bottle'), ('sac', 'm', 'bag'), ('chemise', 'f', 'shirt'), ('chaussure', 'f', 'shoe'),
    ('montre', 'f', 'watch', None, 'watches'), ('téléphone', 'm', 'phone'), ('ordinateur', 'm', 'computer'),
    ('journal', 'm', 'newspaper', 'journaux'), ('film', 'm', 'film'), ('chanson', 'f', 'song'), ('histoire', 'f', 'story', None, 'stories'),
    ('photo', 'f', 'photo'), ('bateau', 'm', 'boat', 'bateaux'), ('train', 'm', 'train'), ('avion', 'm', 'plane'),
    ('vélo', 'm', 'bike'), ('pont', 'm', 'bridge'), ('rivière', 'f', 'river'), ('montagne', 'f', 'mountain'),
    ('plage', 'f', 'beach', None, 'beaches'), ('forêt', 'f', 'forest'), ('musée', 'm', 'museum'), ('église', 'f', 'church', None, 'churches'),
    ('marché', 'm', 'market'), ('hôpital', 'm', 'hospital', 'hôpitaux'), ('banque', 'f', 'bank'), ('restaurant', 'm', 'restaurant'),
    ('boulangerie', 'f', 'bakery', None, 'bakeries'), ('parc', 'm', 'park'), ('lampe', 'f', 'lamp'), ('boîte', 'f', 'box', None, 'boxes'),
    ('couteau', 'm', 'knife', 'couteaux', 'knives'), ('cadeau', 'm', 'gift', 'cadeaux'), ('carte', 'f', 'map'), ('stylo', 'm', 'pen'),
    ('tableau', 'm', 'painting', 'tableaux'), ('jouet', 'm', 'toy'), ('manteau', 'm', 'coat', 'manteaux'), ('valise', 'f', 'suitcase'),
]

# people who can own things: (french, gender, english)
KIN = [('frère', 'm', 'brother'), ('sœur', 'f', 'sister'), ('père', 'm', 'father'), ('mère', 'f', 'mother'),
       ('ami', 'm', 'friend'), ('amie', 'f', 'friend'), ('voisin', 'm', 'neighbour'), ('voisine', 'f', 'neighbour'),
       ('oncle', 'm', 'uncle'), ('tante', 'f', 'aunt'), ('cousin', 'm', 'cousin'), ('cousine', 'f', 'cousin')]

NAMES = ['Marie', 'Paul', 'Sophie', 'Pierre', 'Julie', 'Thomas', 'Claire', 'Lucas', 'Emma', 'Louis', 'Alice', 'Hugo']
CITIES = [('Paris', 'Paris'), ('Londres', 'London'), ('Rome', 'Rome'), ('Lisbonne', 'Lisbon'), ('Venise', 'Venice'),
          ('Genève', 'Geneva'), ('Bruxelles', 'Brussels'), ('Berlin', 'Berlin'), ('Vienne', 'Vienna'), ('Athènes', 'Athens')]

# adjective: (masc sg, fem sg, english, before-noun?, masc pl or None, fem pl or None, masc sg before a vowel or None)
ADJECTIVES = [
    ('noir', 'noire', 'black', False), ('blanc', 'blanche', 'white', False), ('rouge', 'rouge', 'red', False),
    ('vert', 'verte', 'green', False), ('bleu', 'bleue', 'blue', False), ('jaune', 'jaune', 'yellow', False),
    ('gris', 'grise', 'grey', False), ('chaud', 'chaude', 'hot', False), ('froid', 'froide', 'cold', False),
    ('lourd', 'lourde', 'heavy', False), ('léger', 'légère', 'light', False), ('cher', 'chère', 'expensive', False),
    ('propre', 'propre', 'clean', False), ('sale', 'sale', 'dirty', False), ('rapide', 'rapide', 'fast', False),
    ('lent', 'lente', 'slow', False), ('heureux', 'heureuse', 'happy', False, 'heureux'), ('triste', 'triste', 'sad', False),
    ('fatigué', 'fatiguée', 'tired', False), ('malade', 'malade', 'sick', False), ('célèbre', 'célèbre', 'famous', False),
    ('gentil', 'gentille', 'kind', False), ('vide', 'vide', 'empty', False), ('plein', 'pleine', 'full', False),
    ('cassé', 'cassée', 'broken', False), ('moderne', 'moderne', 'modern', False),
    ('petit', 'petite', 'small', True), ('grand', 'grande', 'big', True), ('jeune', 'jeune', 'young', True),
    ('joli', 'jolie', 'pretty', True), ('vieux', 'vieille', 'old', True, 'vieux', None, 'vieil'),
    ('beau', 'belle', 'beautiful', True, 'beaux', None, 'bel'), ('nouveau', 'nouvelle', 'new', True, 'nouveaux', None, 'nouvel'),
]
COLOURS = ADJECTIVES[:7]

# transitive verb: (infinitive, present forms or None for regular, participle or None, future stem or None,
#                   english base, english third person singular, english past)
VERBS = [
    ('aimer', None, None, None, 'like', 'likes', 'liked'), ('regarder', None, None, None, 'watch', 'watches', 'watched'),
    ('chercher', None, None, None, 'look for', 'looks for', 'looked for'), ('trouver', None, None, None, 'find', 'finds', 'found'),
    ('porter', None, None, None, 'carry', 'carries', 'carried'), ('laver', None, None, None, 'wash', 'washes', 'washed'),
    ('dessiner', None, None, None, 'draw', 'draws', 'drew'), ('garder', None, None, None, 'keep', 'keeps', 'kept'),
    ('cacher', None, None, None, 'hide', 'hides', 'hid'), ('casser', None, None, None, 'break', 'breaks', 'broke'),
    ('réparer', None, None, None, 'fix', 'fixes', 'fixed'), ('fermer', None, None, None, 'close', 'closes', 'closed'),
    ('visiter', None, None, None, 'visit', 'visits', 'visited'), ('quitter', None, None, None, 'leave', 'leaves', 'left'),
    ('manger', 'mange manges mange mangeons mangez mangent', None, None, 'eat', 'eats', 'ate'),
    ('acheter', 'achète achètes achète achetons achetez achètent', None, 'achèter', 'buy', 'buys', 'bought'),
    ('nettoyer', 'nettoie nettoies nettoie nettoyons nettoyez nettoient', None, 'nettoier', 'clean', 'cleans', 'cleaned'),
    ('ouvrir', 'ouvre ouvres ouvre ouvrons ouvrez ouvrent', 'ouvert', 'ouvrir', 'open', 'opens', 'opened'),
    ('voir', 'vois vois voit voyons voyez voient', 'vu', 'verr', 'see', 'sees', 'saw'),
    ('prendre', 'prends prends prend prenons prenez prennent', 'pris', 'prendr', 'take', 'takes', 'took'),
    ('vendre', 'vends vends vend vendons vendez vendent', 'vendu', 'vendr', 'sell', 'sells', 'sold'),
    ('perdre', 'perds perds perd perdons perdez perdent', 'perdu', 'perdr', 'lose', 'loses', 'lost'),
    ('attendre', 'attends attends attend attendons attendez attendent', 'attendu', 'attendr', 'wait for', 'waits for', 'waited for'),
    ('finir', 'finis finis finit finissons finissez finissent', 'fini', 'finir', 'finish', 'finishes', 'finished'),
    ('choisir', 'choisis choisis choisit choisissons choisissez choisissent', 'choisi', 'choisir', 'choose', 'chooses', 'chose'),
    ('lire', 'lis lis lit lisons lisez lisent', 'lu', 'lir', 'read', 'reads', 'read'),
    ('écrire', 'écris écris écrit écrivons écrivez écrivent', 'écrit', 'écrir', 'write', 'writes', 'wrote'),
    ('vouloir', 'veux veux veut voulons voulez veulent', 'voulu', 'voudr', 'want', 'wants', 'wanted'),
    ('avoir', 'ai as a avons avez ont', 'eu', 'aur', 'have', 'has', 'had'),
    ('connaître', 'connais connais connaît connaissons connaissez connaissent', 'connu', 'connaîtr', 'know', 'knows', 'knew'),
]

# (french, english) by person: je, tu, il/elle, nous, vous, ils/elles
PRONOUNS = [[('je', 'I')], [('tu', 'you')], [('il', 'he'), ('elle', 'she')], [('nous', 'we')], [('vous', 'you')],
            [('ils', 'they'), ('elles', 'they')]]
ETRE = {'present': 'suis es est sommes êtes sont'.split(), 'past': 'étais étais était étions étiez étaient'.split(),
        'future': 'serai seras sera serons serez seront'.split()}
BE_EN = {'present': 'am are is are are are'.split(), 'past': 'was were was were were were'.split(),
         'future': ['will be'] * 6}
AVOIR_PRESENT = 'ai as a avons avez ont'.split()
ALLER = {'present': 'vais vas va allons allez vont'.split(), 'future': 'irai iras ira irons irez iront'.split()}
FUTURE_ENDINGS = 'ai as a ons ez ont'.split()
ER_ENDINGS = 'e es e ons ez ent'.split()

PREPOSITIONS = [('sur', 'on'), ('sous', 'under'), ('dans', 'in'), ('devant', 'in front of'), ('derrière', 'behind'),
                ('près de', 'near'), ('à côté de', 'next to')]
NUMBERS = [('deux', 'two'), ('trois', 'three'), ('quatre', 'four'), ('cinq', 'five'), ('six', 'six'), ('sept', 'seven'),
           ('huit', 'eight'), ('neuf', 'nine'), ('dix', 'ten'), ('onze', 'eleven'), ('douze', 'twelve'),
           ('treize', 'thirteen'), ('quatorze', 'fourteen'), ('quinze', 'fifteen'), ('seize', 'sixteen'),
           ('vingt', 'twenty'), ('trente', 'thirty'), ('cent', 'a hundred')]


TENSES = ('present', 'past', 'future')
_VOWELS = tuple('aeiouyéèêëàâîïôûhAEIOUÉÈÊÂÎÔH')
_ELIDING = {'je', 'me', 'te', 'le', 'la', 'de', 'ne', 'que'}
_CONTRACTIONS = {('de', 'le'): 'du', ('de', 'les'): 'des', ('à', 'le'): 'au', ('à', 'les'): 'aux'}
_DETS = {'def': ('le', 'la', 'les', 'the', 'the'), 'indef': ('un', 'une', 'des', 'a', 'some'),
         'my': ('mon', 'ma', 'mes', 'my', 'my'), 'your': ('votre', 'votre', 'vos', 'your', 'your'),
         'our': ('notre', 'notre', 'nos', 'our', 'our'), 'their': ('leur', 'leur', 'leurs', 'their', 'their'),
         'this': ('ce', 'cette', 'ces', 'this', 'these')}


def _starts_with_vowel(word): return word.startswith(_VOWELS)


def _words(*parts):
    "Flatten strings and lists of strings into one list of space-free words."
    out = []
    for p in parts: out += p.split() if isinstance(p, str) else list(p)
    return out


def render_french(words):
    "Join French words applying elision (je ai → j'ai), then contraction of what is left (de le → du)."
    elided = []
    for w in words:
        if elided and elided[-1] in _ELIDING and _starts_with_vowel(w): elided[-1] = elided[-1][:-1] + "'" + w
        else: elided.append(w)
    merged = []
    for w in elided:
        if merged and (merged[-1], w) in _CONTRACTIONS: merged[-1] = _CONTRACTIONS[(merged[-1], w)]
        else: merged.append(w)
    return ' '.join(merged)


def _english_article(words):
    "Replace the placeholder `a` by `an` where the next word starts with a vowel sound letter."
    nxt = words[1:] + ['']
    return ['an' if w == 'a' and n[:1] in tuple('aeiou') else w for w, n in zip(words, nxt)]


def _noun_forms(noun, plural):
    fr, gender, en = noun[:3]
    fr_pl = noun[3] if len(noun) > 3 and noun[3] else fr + 's'
    en_pl = noun[4] if len(noun) > 4 and noun[4] else en + 's'
    return (fr_pl if plural else fr), gender, (en_pl if plural else en)


def _adjective_form(adj, gender, plural, before_vowel_noun):
    masc, fem, _, before = adj[:4]
    if plural:
        given = (adj[4] if len(adj) > 4 else None) if gender == 'm' else (adj[5] if len(adj) > 5 else None)
        base = masc if gender == 'm' else fem
        return given or (base if base.endswith(('s', 'x')) else base + 's')
    if gender == 'f': return fem
    return adj[6] if before and before_vowel_noun and len(adj) > 6 else masc


def _determiner(kind, gender, plural, next_word):
    "French and English determiner for `kind`, adjusting ma → mon and ce → cet before a vowel."
    m, f, pl, en_sg, en_pl = _DETS[kind]
    fr = pl if plural else (m if gender == 'm' else f)
    if not plural and _starts_with_vowel(next_word):
        fr = {'ma': 'mon', 'ce': 'cet'}.get(fr, fr)
    return fr, (en_pl if plural else en_sg)


def _owner(rng):
    "A possessor: a name, or a relative with a possessive ('mon frère' → 'my brother')."
    if rng.random() < 0.5:
        name = rng.choice(NAMES)
        return [name], [name + "'s"]
    fr, gender, en = rng.choice(KIN)
    det_fr, det_en = _determiner(rng.choice(['my', 'your', 'our', 'their']), gender, False, fr)
    return [det_fr, fr], [det_en, en + "'s"]


def noun_phrase(rng, plural=None, kind=None, adj_p=0.5, owner_p=0.0, nouns=NOUNS):
    "Random noun phrase: returns (french words, english words, gender, plural)."
    plural = rng.random() < 0.35 if plural is None else plural
    kind = kind or rng.choice(['def', 'def', 'indef', 'my', 'your', 'our', 'their', 'this'] + ['num'] * plural)
    fr_noun, gender, en_noun = _noun_forms(rng.choice(nouns), plural)
    adj = rng.choice(ADJECTIVES) if rng.random() < adj_p else None
    pre = [_adjective_form(adj, gender, plural, _starts_with_vowel(fr_noun))] if adj and adj[3] else []
    post = [_adjective_form(adj, gender, plural, False)] if adj and not adj[3] else []
    en_adj = [adj[2]] if adj else []
    owned = kind == 'def' and rng.random() < owner_p
    if kind == 'num':
        num_fr, num_en = rng.choice(NUMBERS)
        det_fr, det_en = num_fr.split(), num_en.split()
    else:
        d_fr, d_en = _determiner(kind, gender, plural, (pre + [fr_noun])[0])
        det_fr, det_en = [d_fr], [d_en]
    fr = det_fr + pre + [fr_noun] + post
    if owned:
        owner_fr, owner_en = _owner(rng)
        return fr + ['de'] + owner_fr, owner_en + en_adj + [en_noun], gender, plural
    return fr, det_en + en_adj + [en_noun], gender, plural


def _conjugate(verb, person, tense):
    "French verb group for a person (0–5) and tense; passé composé uses avoir."
    inf, present, participle, fut = verb[:4]
    stem = inf[:-2]
    if tense == 'present': return [present.split()[person] if present else stem + ER_ENDINGS[person]]
    if tense == 'past': return [AVOIR_PRESENT[person], participle or stem + 'é']
    return [(fut or inf) + FUTURE_ENDINGS[person]]


def _negate(fr_verb):
    "Wrap a French verb group in ne … pas (pas goes after the auxiliary)."
    return ['ne', fr_verb[0], 'pas'] + fr_verb[1:]


def _english_verb(verb, person, tense, negative):
    base, third, past = verb[4:7]
    if tense == 'future': return _words('will', 'not' if negative else [], base)
    if tense == 'past': return _words('did not', base) if negative else _words(past)
    if negative: return _words('does not' if person == 2 else 'do not', base)
    return _words(third if person == 2 else base)


def _subject(rng):
    "A pronoun or a noun phrase as subject: (french, english, person, gender, plural)."
    if rng.random() < 0.5:
        person = rng.randrange(6)
        (fr, en), = [rng.choice(PRONOUNS[person])]
        gender = 'f' if fr.startswith('elle') else ('m' if fr.startswith('il') else rng.choice('mf'))
        return [fr], [en], person, gender, person >= 3
    fr, en, gender, plural = noun_phrase(rng, owner_p=0.25)
    return fr, en, 5 if plural else 2, gender, plural


def _statement(rng):
    "SUBJ VERB OBJ [PLACE]: 'je vois le chat noir' → 'I see the black cat'."
    fr_s, en_s, person, _, _ = _subject(rng)
    verb, tense, neg = rng.choice(VERBS), rng.choice(TENSES), rng.random() < 0.2
    fr_v = _conjugate(verb, person, tense)
    fr_o, en_o, _, _ = noun_phrase(rng, owner_p=0.2)
    fr, en = fr_s + (_negate(fr_v) if neg else fr_v) + fr_o, en_s + _english_verb(verb, person, tense, neg) + en_o
    if rng.random() < 0.25:
        p_fr, p_en = _place(rng)
        fr, en = fr + p_fr, en + p_en
    return fr, en, '.'


def _place(rng):
    "A place phrase: 'dans le jardin' → 'in the garden', 'à Rome' → 'in Rome'."
    if rng.random() < 0.3:
        fr_city, en_city = rng.choice(CITIES)
        return ['à', fr_city], ['in', en_city]
    prep_fr, prep_en = rng.choice(PREPOSITIONS)
    fr, en, _, _ = noun_phrase(rng, kind='def', adj_p=0.3, owner_p=0.2)
    return _words(prep_fr) + fr, _words(prep_en) + en


def _copula(person, tense, neg):
    fr = [ETRE[tense][person]]
    en = _words(BE_EN[tense][person])
    if neg: en = en[:1] + ['not'] + en[1:]
    return (_negate(fr) if neg else fr), en


def _describe(rng):
    "SUBJ être ADJ: 'les voitures sont rouges' → 'the cars are red'."
    fr_s, en_s, person, gender, plural = _subject(rng)
    tense, neg = rng.choice(TENSES), rng.random() < 0.2
    adj = rng.choice(ADJECTIVES)
    fr_v, en_v = _copula(person, tense, neg)
    return fr_s + fr_v + [_adjective_form(adj, gender, plural, False)], en_s + en_v + [adj[2]], '.'


def _locate(rng):
    "SUBJ être PLACE: 'le chat est sous la table' → 'the cat is under the table'."
    fr_s, en_s, person, _, _ = _subject(rng)
    fr_v, en_v = _copula(person, rng.choice(TENSES), rng.random() < 0.15)
    fr_p, en_p = _place(rng)
    return fr_s + fr_v + fr_p, en_s + en_v + en_p, '.'


def _there_is(rng):
    "'il y a trois chats sous la table' → 'there are three cats under the table'."
    tense = rng.choice(TENSES)
    fr_np, en_np, _, plural = noun_phrase(rng, kind=rng.choice(['indef', 'num']), plural=None)
    if en_np[0] == 'some': en_np = en_np[1:]
    fr_v = {'present': 'il y a', 'past': 'il y avait', 'future': 'il y aura'}[tense]
    en_v = {'present': 'are' if plural else 'is', 'past': 'were' if plural else 'was', 'future': 'will be'}[tense]
    fr_p, en_p = _place(rng)
    return _words(fr_v) + fr_np + fr_p, _words('there', en_v) + en_np + en_p, '.'


def _where(rng):
    "'où est la gare ?' → 'where is the station ?'."
    fr_np, en_np, _, plural = noun_phrase(rng, kind=rng.choice(['def', 'my', 'your', 'our', 'their']), owner_p=0.3)
    tense = rng.choice(['present', 'present', 'past'])
    fr_v, en_v = _copula(5 if plural else 2, tense, False)
    return ['où'] + fr_v + fr_np, ['where'] + en_v + en_np, '?'


def _yes_no(rng):
    "'est-ce que tu vois le chien ?' → 'do you see the dog ?'."
    fr_s, en_s, person, _, _ = _subject(rng)
    verb, tense = rng.choice(VERBS), rng.choice(TENSES)
    fr_o, en_o, _, _ = noun_phrase(rng, owner_p=0.2)
    aux = {'present': 'does' if person == 2 else 'do', 'past': 'did', 'future': 'will'}[tense]
    fr = _words('est-ce que') + fr_s + _conjugate(verb, person, tense) + fr_o
    return fr, [aux] + en_s + _words(verb[4]) + en_o, '?'


def _who(rng):
    "'qui a vu le chat ?' → 'who saw the cat ?'."
    verb, tense = rng.choice(VERBS), rng.choice(TENSES)
    fr_o, en_o, _, _ = noun_phrase(rng, owner_p=0.2)
    return ['qui'] + _conjugate(verb, 2, tense) + fr_o, ['who'] + _english_verb(verb, 2, tense, False) + en_o, '?'


def _what(rng):
    "'qu'est-ce que tu vois ?' → 'what do you see ?'; 'qu'est-ce que c'est ?' → 'what is it ?'."
    if rng.random() < 0.3: return _words("que est-ce que ce est"), _words("what is it"), "?"
    fr_s, en_s, person, _, _ = _subject(rng)
    verb, tense = rng.choice(VERBS), rng.choice(TENSES)
    aux = {'present': 'does' if person == 2 else 'do', 'past': 'did', 'future': 'will'}[tense]
    fr = _words('que est-ce que') + fr_s + _conjugate(verb, person, tense)
    return fr, ['what', aux] + en_s + _words(verb[4]), '?'


def _colour(rng):
    "'de quelle couleur est la voiture de Marie ?' → 'what colour is Marie's car ?'."
    fr_np, en_np, _, plural = noun_phrase(rng, kind='def', adj_p=0.0, owner_p=0.4)
    fr_v, en_v = _copula(5 if plural else 2, 'present', False)
    return _words('de quelle couleur') + fr_v + fr_np, ['what', 'colour'] + en_v + en_np, '?'


def _travel(rng):
    "'nous irons à Rome' → 'we will go to Rome'."
    fr_s, en_s, person, _, _ = _subject(rng)
    tense = rng.choice(['present', 'future'])
    fr_city, en_city = rng.choice(CITIES)
    base = ['go'] if tense == 'present' and person != 2 else (['goes'] if tense == 'present' else ['will', 'go'])
    return fr_s + [ALLER[tense][person], 'à', fr_city], en_s + base + ['to', en_city], '.'


def _colour_fact(rng):
    "'cette pomme est verte' → 'this apple is green'."
    fr_np, en_np, gender, plural = noun_phrase(rng, kind='this', adj_p=0.0)
    adj = rng.choice(COLOURS)
    fr_v, en_v = _copula(5 if plural else 2, 'present', False)
    return fr_np + fr_v + [_adjective_form(adj, gender, plural, False)], en_np + en_v + [adj[2]], '.'


_TEMPLATES = [(_statement, 30), (_describe, 11), (_locate, 11), (_there_is, 10), (_where, 7), (_yes_no, 10),
              (_who, 6), (_what, 5), (_colour, 4), (_travel, 4), (_colour_fact, 2)]


def _capitalise(s): return s[:1].upper() + s[1:]


def make_pair(rng):
    "One (french, english) sentence pair from a template chosen by weight."
    template = rng.choices([t for t, _ in _TEMPLATES], weights=[w for _, w in _TEMPLATES])[0]
    fr, en, end = template(rng)
    fr_text = render_french(fr) + (' ?' if end == '?' else '.')
    en_text = ' '.join(_english_article(en)) + ('?' if end == '?' else '.')
    return _capitalise(fr_text), _capitalise(en_text)


def phrasebook(n=20000, seed=0):
    "DataFrame of `n` distinct generated (fr, en) pairs, deterministic for `seed`."
    if n < 1: raise ValueError(f"phrasebook: n must be a positive number of pairs, got {n!r}")
    rng, pairs = random.Random(seed), {}
    for _ in range(max(50 * n, 1000)):
        fr, en = make_pair(rng)
        pairs.setdefault((fr, en), None)
        if len(pairs) == n: return pd.DataFrame(list(pairs), columns=['fr', 'en'])
    raise ValueError(f"phrasebook: could only generate {len(pairs)} distinct pairs, {n} were asked for")
