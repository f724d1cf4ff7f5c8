"""Sequence-level knowledge distillation (Kim & Rush, 2016): teachers (one model, or several as an ensemble) translate
the training sources with beam search, and a student trains on their translations with `train`. The translation pass
writes each batch to a results file as it ends, which a second run resumes from (`translate_corpus`)."""
import hashlib
import json
import os
import time

import pandas as pd
import torch
from fastcore.basics import chunked
from fastcore.meta import delegates
from fastcore.xtras import Path

from .bundle import load_ensemble
from .config import TrainConfig
from .datasets import read_files, read_tsv
from .decode import MIN_LEN
from .errors import OptionError
from .inference import Translator
from .io import Progress
from .training import train

__all__ = ['translate_corpus', 'teacher_key', 'student_pairs', 'distill']


def teacher_key(translator, sources, beam, split=True):
    """A hash of the teachers' weights and lexical shortlist, the sources, the beam, beam search's rules for eos
    (`MIN_LEN`, none after a case marker) and whether texts are split into sentences: a results file is resumed only
    under the same key."""
    h = hashlib.sha1(f"beam {beam} min_len {MIN_LEN} no eos after a marker{' split' if split else ''}\n".encode())
    shortlist = {} if translator.shortlist is None else translator.shortlist.tensors()
    for name, t in [*translator.model.state_dict().items(), *(('shortlist.' + k, v) for k, v in shortlist.items())]:
        if isinstance(t, torch.Tensor): h.update(name.encode()); h.update(_raw(t))
    for s in sources: h.update(s.encode('utf-8', 'surrogatepass')); h.update(b'\n')
    return h.hexdigest()[:16]


def _raw(t): return t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def translate_corpus(translator, sources, path, key, beam=5, bs=64, progress=True, split=True):
    """The translations of `sources` (in their order) by `translator` at `beam`, each text sentence by sentence with
    `split` (as `translate` does: a text of several sentences decoded whole at beam 5 often comes out empty or cut
    short: docs/results.md), decoded longest first in batches of `bs` and written to `path` as each batch ends (JSON
    lines: a header with `key`, then [index, translation]), with an fsync; a call with the same `key` resumes from what
    `path` holds, so an interruption (even SIGKILL) loses at most the batch being decoded. Another key starts the file
    anew."""
    path, done = Path(path), _read_results(path, key)
    fresh, done = done is None, done or {}
    todo = sorted((i for i in range(len(sources)) if i not in done), key=lambda i: -len(sources[i]))
    with open(path, 'w' if fresh else 'a', encoding='utf-8') as f:
        if fresh: _write(f, json.dumps({'fastseq_distill': key, 'sentences': len(sources)}) + '\n')
        batches = list(chunked(todo, bs))
        if progress and not batches: print(f"distill: all {len(sources):,} translations already in {path}")
        if progress and batches and done:
            print(f"distill: {len(done):,} translations already written, resumed after them", flush=True)
        bar, start = Progress(len(batches), 'distill', progress), time.perf_counter()
        for k, batch in enumerate(bar(batches), 1):
            outs = translator.translate([sources[i] for i in batch], beam=beam, bs=bs, split=split, casual=False)
            _write(f, ''.join(json.dumps([i, t], ensure_ascii=False) + '\n' for i, t in zip(batch, outs)))
            done.update(zip(batch, outs))
            bar.comment(f"{k}/{len(batches)} batches translated in {(time.perf_counter() - start) / 60:.1f} min")
    return [done[i] for i in range(len(sources))]


def _write(f, text):
    f.write(text); f.flush(); os.fsync(f.fileno())


def _read_results(path, key):
    """{index: translation} of the complete lines of a results file written under `key` (a trailing partial line,
    which an interrupted write leaves, is cut off), or None when there is no such file or it was written under another
    key (said on stdout, since it is then written anew); an error for a file that is not a results file."""
    if not Path(path).exists(): return None
    raw = Path(path).read_bytes()
    complete = raw[:raw.rfind(b'\n') + 1]
    lines = complete.decode('utf-8', 'replace').splitlines()
    try: header = json.loads(lines[0]) if lines else {}
    except ValueError: header = None
    if not isinstance(header, dict) or (lines and 'fastseq_distill' not in header):
        raise OptionError(f"{path} is not a file of distilled translations: remove it or give another path",
                          'distilled')
    if header.get('fastseq_distill') != key:
        if lines: print(f"distill: {path} holds the translations of other teachers, sources or beam: starting anew")
        return None
    if len(complete) < len(raw):
        with open(path, 'r+b') as f: f.truncate(len(complete))
    return {i: t for i, t in map(json.loads, lines[1:])}


def _teacher(teachers, device):
    "One `Translator` for `teachers`: paths (bundles or exports) or `Translator`s; several decode as an ensemble."
    teachers = [teachers] if isinstance(teachers, (str, os.PathLike, Translator)) else list(teachers)
    if not teachers: raise OptionError("distill needs at least one teacher", 'teachers')
    if all(isinstance(t, Translator) for t in teachers):
        return teachers[0] if len(teachers) == 1 else Translator.ensemble(teachers)
    return load_ensemble([str(t) for t in teachers], device or 'cpu')


def _pairs(data, c: TrainConfig):
    "The training pairs as a DataFrame with the `src` and `tgt` columns."
    if isinstance(data, pd.DataFrame): return data[[c.src, c.tgt]].reset_index(drop=True)
    if c.data_tgt: return read_files(data, c.data_tgt, c.src, c.tgt)
    return read_tsv(data, c.src, c.tgt, skip_bad_lines=c.skip_bad_lines)


def student_pairs(pairs, targets, c, *, mix):
    """The student's pairs, the sources of `pairs` with the teachers' `targets` (with `mix`, followed by `pairs`), and
    the `min_freq` to build their vocabularies with: mixed, every source is there twice, so doubling `c.min_freq` keeps
    the source vocabulary `train` builds from `pairs` (not every word seen once), and the target side's threshold."""
    student = pd.DataFrame({c.src: pairs[c.src].astype(str).tolist(), c.tgt: targets})
    if not mix: return student, c.min_freq
    return pd.concat([student, pairs[[c.src, c.tgt]]], ignore_index=True), 2 * c.min_freq


@delegates(TrainConfig)
def distill(teachers, data, valid, *, preset='default', beam=5, mix=True, distilled=None, **options):
    """Train a student on its teachers' translations and return its Learner. `teachers`: bundle folders, exports or
    `Translator`s (several: an ensemble, the mean of their log-probabilities) translate the sources of `data` (a
    TSV/CSV file, or with `data_tgt` two line-aligned files, or a DataFrame) at `beam`; the results file `distilled`
    (default: beside `out`, OUT-stem.distilled.jsonl) is resumed by a second run. The student trains on the distilled
    pairs and, with `mix` (the default: measured better, docs/results.md), the original ones, as `train` does with
    `options` over `preset`; it is scored against `valid`'s references (a file or DataFrame; required, so that BLEU
    measures translations, not the teachers'), at `eval_beam` and greedy, and decodes greedily by default only where
    that loses at most `GREEDY_MARGIN` BLEU (`train`'s `choose_beam`)."""
    if valid is None: raise OptionError("distill needs valid: held-out pairs with human references", 'valid')
    c = TrainConfig.from_preset(preset, **options)
    if c.stream_cache or str(data) == 'phrasebook':
        raise OptionError("distill reads its data into memory from a file or DataFrame", 'stream_cache', 'data')
    pairs = _pairs(data, c)
    sources = pairs[c.src].astype(str).tolist()
    teacher = _teacher(teachers, c.device)
    out = Path(c.out).absolute()
    results = Path(distilled) if distilled else out.with_name(out.stem + '.distilled.jsonl')
    n_teachers = len(getattr(teacher.model, 'models', [teacher.model]))
    print(f"distill: {len(sources):,} sources, translated by {n_teachers} teacher(s) at beam {beam}, in {results}")
    targets = translate_corpus(teacher, sources, results, teacher_key(teacher, sources, beam), beam=beam)
    student, options['min_freq'] = student_pairs(pairs, targets, c, mix=mix)
    options.pop('data_tgt', None)
    return train(student, valid, preset=preset, choose_beam=True, **options)
