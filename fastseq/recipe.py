"""The recipe a time budget trains on a CPU: the default, or a faster variant of it (`RECIPES`: larger batches, a
smaller model) where this machine passes over the data so slowly that the passes it buys score better. The choice is
a pure function of the default recipe's measured speed and the budget, read against a table of BLEU measured against
passes over the data on four CPU kinds (docs/results.md); the speed is measured once per machine and kept in
fastseq's cache folder, so the same machine chooses the same recipe on every run."""
import json
import math
import platform
from dataclasses import asdict, dataclass

import torch

from .bench import bench_train
from .config import RECIPES, TrainConfig
from .io import atomic_path, cache_dir
from .precision import cpu_bf16_kind, cpu_model

__all__ = ['RecipeChoice', 'choose_recipe', 'expected_bleu', 'recipe_options', 'machine_key', 'default_speed',
           'full_epoch_minutes', 'pass_minutes', 'speed_config', 'SPEEDUPS', 'MIN_BUDGET']

# each recipe's epoch against the default's (how many times faster), by what the default trains in on the CPU: fp32
# held to AVX2 (each with the training shortlist; `shallow` on an AMD EPYC Zen 5, the others on an Intel Xeon), bf16
# on an Intel Xeon with AMX, where `compact` and `small` train in fp32 (bench/recipe_speeds.py; docs/performance.md);
# a recipe missing from a precision's table is not offered there (`large-batch` was trained for BLEU in fp32 alone)
SPEEDUPS = {'fp32': {'default': 1., 'large-batch': 1.19, 'shallow': 1.32, 'compact': 1.37, 'small': 1.60},
            'bf16': {'default': 1., 'shallow': 1.45, 'compact': 1.31, 'small': 1.65}}
# BLEU (valid, lc-tok, beam 5) of the default recipe = CURVE[0] + CURVE[1] · ln(passes over Tatoeba in the budget),
# fitted by bench/recipe_table.py to runs on four CPU kinds between 2 and 5 passes; flat beyond MAX_PASSES, where
# nothing was measured
CURVE, MAX_PASSES = (48.75, 4.43), 5.0
# each other recipe's distance from that curve, measured held to AVX2 (bench/recipe_table.py)
OFFSETS = {'default': 0., 'large-batch': 0.41, 'shallow': 1.46, 'compact': -5.18, 'small': -5.03}
# a full training epoch (validation, forcing under 1, checkpoints) over the epoch `default_speed` predicts: 1.25,
# 1.18 and 1.07 measured held to AVX2 for the three recipes (docs/results.md)
TRAINING_OVERHEAD = 1.17
MIN_BUDGET = 10     # minutes: shorter budgets keep the default (the table starts at two passes)
MARGIN = 0.3        # BLEU a smaller recipe must be expected to gain over the default to be chosen
SPEED_SECONDS = 15  # how long the default recipe trains to measure its speed (once per machine)


@dataclass
class RecipeChoice:
    "The recipe `choose_recipe` took, why, and what it expected of each: recorded in the export."
    name: str
    budget: float = None
    tok_per_s: float = None
    epoch_minutes: float = None
    expected: dict = None     # recipe → [passes, BLEU]
    reason: str = 'speed'     # or why the recipe was not chosen by speed
    measured_now: bool = False

    def line(self):
        "What `train` prints at the start."
        if self.reason != 'speed': return f"recipe: {self.name} ({self.reason})"
        passes, bleu = self.expected[self.name]
        d_passes, d_bleu = self.expected['default']
        speed = f" ({self.tok_per_s:,.0f} target tok/s)" if self.tok_per_s else ''
        out = (f"recipe for {self.budget:g} min on this CPU: {self.name} — the default's epoch takes "
               f"{self.epoch_minutes:.1f} min here{speed}; {passes:.1f} passes, expected BLEU {bleu:.1f}")
        return out if self.name == 'default' else out + f" (the default: {d_passes:.1f} passes, {d_bleu:.1f})"

    def to_dict(self): return asdict(self)


def expected_bleu(recipe, passes):
    "BLEU the table expects of `recipe` after `passes` over the data (flat beyond the measured range)."
    a, b = CURVE
    return a + b * math.log(min(max(passes, 1e-3), MAX_PASSES)) + OFFSETS[recipe]


def choose_recipe(epoch_minutes, budget, precision='fp32'):
    """The `RecipeChoice` for `budget` minutes when the default recipe's epoch takes `epoch_minutes` on a CPU where it
    trains in `precision`: the recipe of the highest expected BLEU, the default unless another gains `MARGIN`, or
    where the default's passes reach `MAX_PASSES` (past the measured range the table knows no recipe better)."""
    expected = {}
    for name, speedup in SPEEDUPS[precision].items():
        passes = budget / epoch_minutes * speedup
        expected[name] = [round(passes, 2), round(expected_bleu(name, passes), 2)]   # lists: the same in JSON
    best = max(expected, key=lambda n: expected[n][1])
    gains = expected[best][1] >= expected['default'][1] + MARGIN and expected['default'][0] < MAX_PASSES
    name = best if gains else 'default'
    return RecipeChoice(name, budget, None, epoch_minutes, expected)


def recipe_options(name, options):
    "`options` (a `train` call's) over recipe `name`'s: the model's fields merged, the caller's winning."
    recipe, given = dict(RECIPES[name]), options.get('model') or {}
    if not isinstance(given, dict): return {**recipe, **options}            # a whole `Architecture`: the caller's
    model = {**recipe.pop('model', {}), **given}
    return {**recipe, **options, **({'model': model} if model else {})}


def machine_key(precision):
    """What identifies this machine's speed: the CPU, the kernels torch runs on it, its threads, torch, precision and
    the default's training shortlist."""
    return ' | '.join(map(str, (cpu_model() or platform.processor(), torch.backends.cpu.get_cpu_capability(),
                                cpu_bf16_kind(), f"{torch.get_num_threads()} threads", f"torch {torch.__version__}",
                                precision, f"shortlist {TrainConfig.shortlist}")))


def default_speed(dls, precision, seconds=SPEED_SECONDS):
    """Target tokens/s of the default recipe on this machine in `precision`, and whether it was measured now: read from
    fastseq's cache folder, else trained on `dls` for `seconds` (as `fastseq bench` trains) and kept there."""
    path, key = cache_dir('speeds.json'), machine_key(precision)
    known = _read_speeds(path)
    if key in known: return known[key], False
    _, out = bench_train(dls, seconds, precision, warmup=5, config=speed_config())
    known[key] = round(out['tgt_tok_per_s'])
    with atomic_path(path) as tmp: tmp.write_text(json.dumps(known, indent=1), encoding='utf-8')
    return known[key], True


def _read_speeds(path):
    "The speeds kept at `path`; none where it is missing or unreadable (it is measured again and rewritten)."
    try: known = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError): return {}
    return known if isinstance(known, dict) else {}


def speed_config(**variant):
    "The default recipe (with `variant`) as its speed is measured: without word vectors, which change no speed."
    return TrainConfig.from_preset('default', vecs_src='none', vecs_tgt='none', **variant)


def pass_minutes(dls, tok_per_s):
    "Minutes one pass of training steps over `dls`' training targets takes at `tok_per_s`, nothing else counted."
    return float(dls.train_ds.tgt_lens.sum()) / tok_per_s / 60


def full_epoch_minutes(dls, tok_per_s):
    "Minutes a full training epoch of `dls` takes at the default recipe's `tok_per_s`."
    return pass_minutes(dls, tok_per_s) * TRAINING_OVERHEAD
