"""The table `fastseq.recipe` chooses from, fitted to measured runs of 12, 20 and 30 minutes (docs/results.md): the
recipe's BLEU against the passes over Tatoeba its budget fitted (least squares in ln passes), and each other recipe's
distance from that curve. Prints what `fastseq/recipe.py` holds as CURVE and OFFSETS:

    python bench/recipe_table.py
"""
import numpy as np

# (recipe, budget in minutes, full epochs' minutes, BLEU valid lc-tok beam 5, where)
RUNS = [
    ('default', 12, [5 + 39 / 60, 5 + 58 / 60], 51.9, 'Intel Xeon with AMX, bf16'),
    ('default', 30, [5.7, 6 + 2 / 60, 6 + 14 / 60, 5 + 59 / 60, 6 + 1 / 60], 55.5, 'Intel Xeon with AMX, bf16'),
    ('default', 30, [6., 5 + 49 / 60, 6 + 7 / 60, 6.25, 5 + 46 / 60], 55.9, 'Intel Xeon with AMX, bf16, seed 7'),
    ('default', 30, [6.2, 6.4, 6 + 40 / 60, 6 + 22 / 60], 55.7, 'AMD EPYC with AVX512-BF16, bf16'),
    ('default', 30, [6 + 16 / 60, 6., 6.3, 6.45], 55.7, 'AMD EPYC with AVX512-BF16 (Zen 5, family 26), bf16'),
    ('default', 30, [8 + 22 / 60, 8 + 21 / 60, 8 + 38 / 60], 54.5, 'Intel Xeon with AMX, bf16, a slow hour'),
    ('default', 30, [8 + 59 / 60, 9.4, 7 + 46 / 60], 54.3, 'the same, --casual-share 0'),
    ('default', 30, [12.4], 53.2, 'AMD EPYC with AVX2, fp32 (epochs of 11.6-13.2 min)'),
    ('default', 30, [12.4], 52.6, 'the same, torch 2.14'),
    ('default', 30, [15 + 34 / 60, 14 + 28 / 60], 51.2, 'Intel Xeon with AMX held to AVX2, fp32'),
    ('default', 30, [11 + 27 / 60, 12 + 39 / 60], 53.1, 'the same, the training softmax over a shortlist'),
    ('large-batch', 30, [9 + 31 / 60, 10 + 38 / 60, 9 + 46 / 60], 53.5, 'Intel Xeon with AMX held to AVX2, fp32'),
    ('large-batch', 30, [9 + 52 / 60, 9 + 19 / 60, 10 + 28 / 60], 54.2, 'the same, seed 7'),
    ('large-batch', 30, [8 + 38 / 60, 9 + 3 / 60, 10 + 46 / 60], 54.6, 'the same, chosen by auto, no flag'),
    ('large-batch', 30, [11 + 52 / 60, 12 + 22 / 60], 52.7, 'the same, --seed 7, a slower hour'),
    ('large-batch', 30, [6.2, 6 + 28 / 60, 6 + 31 / 60, 6 + 47 / 60], 56.2,
     'AMD EPYC (Zen 5) held to AVX2, fp32, chosen by auto, no flag'),
    ('large-batch', 19, [5 + 41 / 60, 6., 6 + 2 / 60], 54.5, 'the same, --recipe large-batch, 19 minutes'),
    ('shallow at 4e-3', 19, [4 + 29 / 60, 4 + 26 / 60, 4 + 46 / 60, 4 + 38 / 60], 55.8,
     'the same, --recipe large-batch --n-layers-enc 1 (shallow, then at lr 4e-3), 19 minutes'),
    ('shallow at 4e-3', 19, [4 + 23 / 60, 4 + 32 / 60, 4 + 33 / 60, 4 + 40 / 60], 56.5,
     'the same, --seed 7, chosen by auto, 19 minutes'),
    ('shallow at 4e-3', 15, [4 + 32 / 60, 4 + 41 / 60, 4 + 36 / 60], 55.2, 'the same, --recipe shallow, 15 minutes'),
    ('shallow at 4e-3', 15, [4 + 24 / 60, 4 + 30 / 60, 4 + 45 / 60], 54.5, 'the same, --seed 7'),
    ('shallow at 3e-3', 15, [4 + 20 / 60, 4.5, 4 + 34 / 60], 53.8, 'the same, seed 42, --lr 3e-3'),
    ('shallow at 7e-3', 15, [4 + 9 / 60, 4 + 13 / 60, 4 + 14 / 60], 55.5, 'the same, seed 42, --lr 7e-3'),
    ('shallow', 15, [4 + 17 / 60, 4 + 19 / 60, 4 + 23 / 60], 55.9, 'the same, --lr 5.5e-3 (shallow now)'),
    ('shallow', 15, [4 + 25 / 60, 4 + 26 / 60, 4 + 26 / 60], 55.4, 'the same, --seed 7'),
    ('shallow', 15, [4 + 24 / 60, 4 + 25 / 60, 4 + 35 / 60], 56.0, 'the same, --seed 1'),
    ('shallow', 30, [7 + 47 / 60, 7 + 48 / 60, 7 + 46 / 60], 56.3,
     'the same held to one thread (OMP_NUM_THREADS=1), 30 minutes, chosen by auto, no flag'),
    ('shallow', 30, [7 + 48 / 60, 7 + 41 / 60, 7 + 44 / 60], 56.5, 'the same, --seed 1'),
    ('shallow', 30, [8., 7 + 44 / 60, 7 + 47 / 60], 55.8, 'the same, --seed 7'),
    ('shallow', 30, [7 + 50 / 60, 7 + 46 / 60, 8 + 3 / 60], 55.7,
     'the same, --seed 1, words in mixed case kept as written (the tokenizer since)'),
    ('shallow', 30, [7 + 57 / 60, 7 + 53 / 60, 7 + 57 / 60], 56.4, 'the same, --seed 7'),
    ('shallow', 30, [10 + 8 / 60, 10 + 6 / 60, 9 + 44 / 60], 54.9,
     'Intel Xeon with AMX held to AVX2 and one thread, 30 minutes, chosen by auto, no flag'),
    ('shallow', 20, [5 + 32 / 60, 5 + 23 / 60, 5 + 36 / 60], 56.1,
     'the same on two threads, 20 minutes (the passes the AMD EPYC with AVX2 fits in 30)'),
    ('shallow', 20, [5 + 28 / 60, 5 + 31 / 60, 5 + 28 / 60], 55.7, 'the same, --seed 7'),
    ('shallow, lighter dropouts', 15, [4 + 17 / 60, 4 + 13 / 60, 4 + 18 / 60], 55.8,
     'the same, seed 42, --emb-drop 0.1 --enc-drop 0.15 --dec-drop 0.1 --out-drop 0.2'),
    ('shallow, lighter dropouts', 15, [4 + 27 / 60, 4 + 18 / 60, 4 + 32 / 60], 55.8, 'the same, --seed 7'),
    ('shallow, shortlist 1000', 15, [4 + 2 / 60, 4 + 2 / 60, 4 + 9 / 60], 55.8, 'the same, seed 42, --shortlist 1000'),
    ('shallow, shortlist 1000', 15, [4 + 6 / 60, 4 + 6 / 60, 4 + 14 / 60], 55.6, 'the same, --seed 7'),
    ('large-batch', 19, [5 + 43 / 60, 5 + 26 / 60, 5 + 11 / 60], 54.9, 'the same, --seed 7 --recipe large-batch'),
    ('small', 30, [9 + 1 / 60, 6.7, 6 + 32 / 60, 6 + 14 / 60], 50.1, 'Intel Xeon with AMX held to AVX2, fp32'),
    ('compact', 20, [9 + 27 / 60, 9 + 25 / 60], 46.9, 'Intel Xeon with AMX held to AVX2, fp32'),
]


def passes(budget, epochs): return budget / np.mean(epochs)


def fit(runs):
    "CURVE (a, b) of BLEU = a + b ln(passes) over the default's runs, and each other recipe's mean distance from it."
    x = np.array([np.log(passes(b, e)) for r, b, e, _, _ in runs if r == 'default'])
    y = np.array([bleu for r, _, _, bleu, _ in runs if r == 'default'])
    b, a = np.polyfit(x, y, 1)
    offsets = {}
    for r, budget, epochs, bleu, _ in runs:
        if r != 'default': offsets.setdefault(r, []).append(bleu - (a + b * np.log(passes(budget, epochs))))
    return (round(float(a), 2), round(float(b), 2)), {r: round(float(np.mean(d)), 2) for r, d in offsets.items()}


if __name__ == '__main__':
    width = max(len(r) for r, *_ in RUNS)
    for r, budget, epochs, bleu, where in RUNS:
        print(f"{r:{width}} {budget:3} min  {passes(budget, epochs):4.2f} passes  {bleu:.1f}  {where}")
    curve, offsets = fit(RUNS)
    print(f"CURVE = {curve}\nOFFSETS = {offsets}")
