"""The `fastseq` command: train, distill, translate, evaluate, demo, bench, serve."""
import argparse
import json
import re
import sys
import typing
import warnings
from dataclasses import fields, is_dataclass
from itertools import islice

from fastcore.parallel import num_cpus

# fastai's layers.py scripts functions when imported, which torch ≥ 2.14 answers with this warning before any output
warnings.filterwarnings('ignore', message=r'`torch\.jit\.script` is deprecated', category=FutureWarning)

from . import training  # noqa: E402
from .errors import CorpusError, ModelFileError, NonFiniteLossError, WorkerError  # noqa: E402
from .bundle import load_ensemble, load_translator  # noqa: E402
from .precision import DECODING_PRECISIONS, PRECISIONS  # noqa: E402
from .config import PRESETS, TrainConfig  # noqa: E402
from .serve import ServeConfig  # noqa: E402
from .workers import MAX_WORKERS, translate_chunks  # noqa: E402

__all__ = ['main']


def _add_train(sub):
    p = sub.add_parser('train', help='train a model on a TSV corpus, two line-aligned files or the phrasebook',
                       argument_default=argparse.SUPPRESS,
                       description="Options left out take the preset's values (fastseq.config.PRESETS); the values "
                                   "in brackets are the default preset's.")
    p.add_argument('--data', default='phrasebook', help="TSV/CSV file, or 'phrasebook' (generated, default)")
    p.add_argument('--valid', default=None, help='separate validation TSV (default: a seeded random split)')
    p.add_argument('--preset', default='default', choices=list(PRESETS), help='default values of every option')
    _add_config_flags(p, TrainConfig)


def _add_distill(sub):
    p = sub.add_parser('distill', help="train a student on the translations of one or several teachers (an ensemble)",
                       argument_default=argparse.SUPPRESS,
                       description="The teachers translate --data's sources at --distill-beam; the student trains on "
                                   "those translations with every option `fastseq train` takes.")
    p.add_argument('teachers', nargs='+', help='bundle folders or exported learners; several decode as an ensemble')
    p.add_argument('--data', required=True, help='TSV/CSV of training pairs (their sources are translated)')
    p.add_argument('--valid', required=True, help='TSV of held-out pairs with human references, to score the student')
    p.add_argument('--preset', default='default', choices=list(PRESETS), help="the student's default values")
    p.add_argument('--distill-beam', dest='beam', type=int, default=5, help="the teachers' beam size [5]")
    p.add_argument('--mix', action=argparse.BooleanOptionalAction,
                   help='train on the original pairs as well as the distilled ones (the default: measured better, '
                        'docs/results.md)')
    p.add_argument('--distilled', help="the teachers' translations, resumed by a second run (default: beside --out, "
                                       "OUT-stem.distilled.jsonl)")
    _add_config_flags(p, TrainConfig)


def _add_config_flags(p, config, defaults=None, prefix=''):
    """One flag per field of the dataclass `config` (help, type, choices and metavar from the field's metadata, the
    default shown from `defaults`); a field that is itself a dataclass gives a group of flags, one per field of it,
    whose values arrive as `prefix.name` (`model.bidir`)."""
    hints, defaults = typing.get_type_hints(config), defaults or config()
    for f in fields(config):
        meta, default, flag = f.metadata, getattr(defaults, f.name), '--' + f.name.replace('_', '-')
        if is_dataclass(default):
            _add_config_flags(p.add_argument_group(f"{f.name} options", meta['help']), type(default), default,
                              f"{prefix}{f.name}.")
            continue
        kw = dict(help=meta['help'] + ('' if default is None else f" [{default}]"), dest=prefix + f.name,
                  **{k: meta[k] for k in ('choices', 'metavar') if k in meta})
        if prefix and 'choices' not in kw: kw.setdefault('metavar', f.name.upper())
        kind = meta.get('type', hints[f.name])
        if kind is bool: p.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        else: p.add_argument(flag, type=kind, **kw)


def _nested(options):
    "Flat `prefix.name` values (from `_add_config_flags`) as nested dicts: {'model.bidir': False} → {'model': {...}}."
    out = {}
    for key, value in options.items():
        head, dot, rest = key.partition('.')
        if dot: out.setdefault(head, {})[rest] = value
        else: out[key] = value
    return out


def _add_decoding_flags(p):
    "Where and how a loaded model decodes: device, int8 weights, unknown-word copying, the vocabulary it spans."
    p.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda'")
    p.add_argument('--int8', action='store_true',
                   help='decode with int8 weights (CPU only; speed and BLEU: docs/performance.md)')
    p.add_argument('--no-copy-unk', dest='copy_unk', action='store_false',
                   help='keep unknown words as the model emits them (default: copy them from the source)')
    p.add_argument('--precision', default='auto', choices=DECODING_PRECISIONS,
                   help="the vocabulary projection's precision on a CPU: 'auto' (default: as this kind of CPU "
                        "trains, fastseq.precision.CPU_BF16_TABLE), 'fp32' or 'bf16'")
    p.add_argument('--full-vocab', action='store_true',
                   help="decode over the whole target vocabulary, not over the model's lexical shortlist (the words "
                        "its training pairs show beside each batch's source words; docs/guide.md)")


def _add_model_args(p, several=False):
    p.add_argument('model', nargs='+' if several else None,
                   help='a learner exported by fastseq train / learn.export, or a bundle folder (learn.save_translator)'
                        + ('; several: an ensemble (the mean of their log-probabilities)' if several else ''))
    p.add_argument('--beam', type=int, help="beam size (1: greedy; default: the model's own, greedy unless it was "
                                            "measured better at a beam)")
    p.add_argument('--bs', type=int, default=64, help='sentences per batch')
    p.add_argument('--no-split', dest='split', action='store_false',
                   help='translate each input as one sentence (default: split it into sentences, translate each, and '
                        'keep the spaces and line breaks between them)')
    _add_decoding_flags(p)


def _add_translate(sub):
    p = sub.add_parser('translate', help='translate TEXT arguments, or stdin line by line',
                       description='Arguments after MODEL that name existing model files or folders are further '
                                   'models: they decode together as an ensemble; the rest are texts.')
    _add_model_args(p)
    p.add_argument('text', nargs='*', help='texts to translate (default: read stdin, one per line, in chunks)')
    p.add_argument('--workers', type=int, default=min(num_cpus() or 1, MAX_WORKERS),
                   help='processes translating chunks of stdin side by side on a CPU, one thread each (1: one process '
                        f'with all threads; default: the CPUs available, at most {MAX_WORKERS}; docs/performance.md)')


def _add_evaluate(sub):
    p = sub.add_parser('evaluate', help='BLEU and chrF (sacrebleu) of decodes of a TSV test set, as JSON')
    _add_model_args(p, several=True)
    p.add_argument('--data', required=True, help='TSV/CSV with source and reference columns')
    p.add_argument('--src', default='fr'); p.add_argument('--tgt', default='en')


def _add_demo(sub):
    p = sub.add_parser('demo', help='train on the phrasebook, plot, export, reload in a new process, translate',
                       argument_default=argparse.SUPPRESS, description="Left out: the 'demo' preset's values.")
    p.add_argument('--out', default='demo_out', help='folder for plots and the exported model')
    p.add_argument('--epochs', type=int)
    p.add_argument('--n-pairs', type=int)
    p.add_argument('--tf-end', type=float, help='teacher forcing decays linearly from 1 to this')
    p.add_argument('--tf-warmup', type=float, help='fraction of training before the decay starts')


def _add_bench(sub):
    p = sub.add_parser('bench', help='training, decoding and data throughput at the lesson preset')
    p.add_argument('--data', default='phrasebook', help="TSV with fr and en columns, or 'phrasebook' (default)")
    p.add_argument('--valid', help='validation TSV to decode (default: a 10%% split of --data)')
    p.add_argument('--n-pairs', type=int, default=20000, help='phrasebook size')
    p.add_argument('--seconds', type=float, default=60., help='about this long in all; training gets half')
    p.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda'")
    p.add_argument('--precision', default='auto', choices=PRECISIONS,
                   help="training precision; 'auto' (default): as `fastseq train` chooses on this device")
    p.add_argument('--bs', type=int, default=125, help='sentences per training and decoding batch')
    p.add_argument('--shortlist', type=int, default=TrainConfig.shortlist, metavar='N',
                   help="training in fp32 on a CPU, the softmax's shortlist of target words (0: the whole vocabulary)")
    p.add_argument('--model', help='exported learner to decode with (default: the briefly trained benchmark model)')
    p.add_argument('--json', action='store_true', help='print one JSON object instead of a table')


def _add_serve(sub):
    p = sub.add_parser('serve', help='serve a bundle over HTTP: POST /translate, GET / (a page), /health, /ready, '
                                     '/metrics')
    p.add_argument('model', help='a bundle folder (learn.save_translator); an export only with --allow-pickle')
    _add_config_flags(p, ServeConfig)
    _add_decoding_flags(p)
    p.add_argument('--allow-pickle', action='store_true',
                   help='also load a learner export: a pickle, whose loading can run code; only for files you trust')


def parser():
    "The argument parser of the `fastseq` command."
    p = argparse.ArgumentParser(prog='fastseq', description='Neural machine translation with fastai and GRUs.')
    sub = p.add_subparsers(dest='command', required=True)
    for add in (_add_train, _add_distill, _add_translate, _add_evaluate, _add_demo, _add_bench, _add_serve):
        add(sub)
    return p


def _stdin_lines():
    "stdin as text lines; bytes that are not UTF-8 become U+FFFD, with one warning naming the first such line."
    warned = False
    for n, raw in enumerate(sys.stdin.buffer, 1):
        try: line = raw.decode('utf-8')
        except UnicodeDecodeError as e:
            line = raw.decode('utf-8', errors='replace')
            if not warned:
                print(f"fastseq translate: warning: stdin line {n}, byte {e.start + 1}: not UTF-8; undecodable bytes "
                      f"replaced by U+FFFD (this warning is shown once)", file=sys.stderr)
                warned = True
        yield line.rstrip('\r\n')


def _stdin_chunks(size):
    lines = _stdin_lines()
    while chunk := list(islice(lines, size)): yield chunk


def train(args):
    "`fastseq train`: the options given on the command line, over the preset's."
    options = _nested({k: v for k, v in vars(args).items() if k != 'command'})
    training.train(options.pop('data'), options.pop('valid'), preset=options.pop('preset'), **options)


def distill(args):
    "`fastseq distill`: the teachers' translations, then the student trained on them with the options given."
    from .distillation import distill as run_distill
    options = _nested({k: v for k, v in vars(args).items() if k != 'command'})
    run_distill(options.pop('teachers'), options.pop('data'), options.pop('valid'), preset=options.pop('preset'),
                beam=options.pop('beam'), distilled=options.pop('distilled', None), **options)


def translate(args):
    "Print one translation per input, in input order; stdin is streamed in chunks."
    models, texts = _models_and_texts(args.model, args.text)
    learn = _loaded(models, args)
    chunks, line = [texts] if texts else _stdin_chunks(args.bs * 16), 0
    for outs in translate_chunks(learn, chunks, args.workers, beam=args.beam, bs=args.bs, copy_unk=args.copy_unk,
                                 precision=args.precision, split=args.split, return_info=True):
        for out, info in outs:
            line += 1
            print(out, flush=False)
            if not info.ok: _warn_info(line, info)
        sys.stdout.flush()


def _loaded(models, args):
    "The translator of `models` (one, or an ensemble) as the decoding flags say."
    translator = load_ensemble(models, args.device, args.int8)
    if args.full_vocab: translator.shortlist = None
    return translator


def _warn_info(line, info):
    "A warning on stderr for input `line` whose translation may have lost text (`Info`)."
    what = [f"sentence {', '.join(str(i + 1) for i in info.too_short)} came out far shorter than its source"
            ] if info.too_short else []
    what += ['it was cut at the longest input the model takes'] if info.truncated else []
    print(f"fastseq translate: input {line}: {'; '.join(what)}", file=sys.stderr)


def _models_and_texts(model, texts):
    "The leading arguments that name existing files or folders are models (an ensemble), the rest texts."
    n = next((i for i, t in enumerate(texts) if not _is_path(t)), len(texts))
    return [model, *texts[:n]], texts[n:]


def _is_path(text):
    "Whether `text` names an existing file or folder (a long or odd sentence is no path, and no error)."
    from pathlib import Path
    try: return Path(text).exists()
    except (OSError, ValueError): return False


def evaluate(args):
    "Decode the source column of a test file and print BLEU and chrF against its raw references as JSON."
    model = _loaded(args.model, args)
    scores = training.evaluate(model, args.data, src=args.src, tgt=args.tgt, beam=args.beam, bs=args.bs,
                               copy_unk=args.copy_unk, precision=args.precision, split=args.split)
    print(json.dumps({**{k: round(v, 2) if isinstance(v, float) else v for k, v in scores.items()},
                      'data': str(args.data), 'models': [str(m) for m in args.model]}))


def demo(args):
    "`fastseq demo`: run the demo and print its summary line last."
    options = {k: v for k, v in vars(args).items() if k not in ('command', 'out')}
    *_, bleu, n, path, secs = training.run_demo(args.out, **options)
    print(f"(demo took {secs / 60:.1f} min)")
    print(f"demo: BLEU {bleu:.1f} on {n} held-out phrasebook pairs; exported to {path}")


def bench(args):
    "Run the benchmark; print its JSON object, or one aligned line per figure."
    from .bench import run_bench
    model = load_translator(args.model, args.device) if args.model else None
    result = run_bench(args.data, args.valid, args.seconds, args.device, args.precision, model, args.n_pairs,
                       bs=args.bs, shortlist=args.shortlist)
    if args.json: print(json.dumps(result)); return
    for key, value in _flatten(result):
        text = (f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}") if isinstance(value, float) else str(value)
        print(f"{key:<28} {text:>16}")


def _flatten(d, prefix=''):
    for k, v in d.items():
        if isinstance(v, dict): yield from _flatten(v, f"{prefix}{k}.")
        else: yield f"{prefix}{k}", v


def serve(args):
    "Serve the model until SIGTERM or SIGINT."
    from pathlib import Path
    from importlib.util import find_spec
    from .serve import serve as run_server
    missing = [m for m in ('starlette', 'uvicorn', 'prometheus_client') if find_spec(m) is None]
    if missing: raise ValueError(f"fastseq serve needs the serve extra ({', '.join(missing)} missing): "
                                 f"pip install 'fastseq[serve]'")
    if not Path(args.model).is_dir() and not args.allow_pickle:
        raise ModelFileError(f"{args.model} is not a bundle folder; a learner export is a pickle that can run code "
                             f"when loaded: pass --allow-pickle to serve one you trust, or share a bundle "
                             f"(learn.save_translator)")
    names = {f.name for f in fields(ServeConfig)}
    options = _nested({k: v for k, v in vars(args).items() if k.split('.')[0] in names and v is not None})
    config = ServeConfig.from_dict(options)
    print(f"fastseq serve: {args.model} on http://{config.host}:{config.port}", flush=True)
    run_server(args.model, config, device=args.device, int8=args.int8, copy_unk=args.copy_unk,
               precision=args.precision, full_vocab=args.full_vocab)
    print("fastseq serve: stopped", flush=True)


def _flag_names(e):
    "The message of an `OptionError` with the options it names written as this command's flags."
    params = getattr(e, 'params', ())
    if not params: return str(e)
    pattern = rf"(?<![\w-])({'|'.join(params)})(?![\w-])"
    return re.sub(pattern, lambda m: '--' + m.group(1).replace('_', '-'), str(e))


def parse(argv=None):
    """The command line as a namespace; a command's flags and texts may come in any order (argparse's intermixed
    parsing, which a parser with sub-commands cannot use itself, so each sub-command's parser runs it)."""
    top, argv = parser(), list(sys.argv[1:] if argv is None else argv)
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices
    if not argv or argv[0] not in commands: return top.parse_args(argv)   # --help, or argparse's error for the command
    args = commands[argv[0]].parse_intermixed_args(argv[1:])
    args.command = argv[0]
    return args


def main(argv=None):
    "Entry point of the `fastseq` console script."
    args = parse(argv)
    commands = {'train': train, 'distill': distill, 'translate': translate, 'evaluate': evaluate, 'demo': demo,
                'bench': bench, 'serve': serve}
    try: commands[args.command](args)
    except (CorpusError, ModelFileError, FileNotFoundError, ValueError, NonFiniteLossError, WorkerError) as e:
        print(f"fastseq {args.command}: error: {_flag_names(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fastseq {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == '__main__': sys.exit(main())
