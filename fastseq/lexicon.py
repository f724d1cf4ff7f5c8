"""Word lists for the phrasebook generator: French forms with gender and number, English glosses."""

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
