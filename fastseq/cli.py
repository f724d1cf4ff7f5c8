"""The `fastseq` command: train, translate, evaluate, demo, bench."""
import argparse
import json
import sys
import warnings
from itertools import islice

from fastcore.xtras import Path

from .errors import CorpusError, ModelFileError, NonFiniteLossError

__all__ = ['main']


def _add_train(sub):
    p = sub.add_parser('train', help='train a model on a TSV corpus or the generated phrasebook')
    p.add_argument('--data', default='phrasebook', help="TSV/CSV file, or 'phrasebook' (generated, default)")
    p.add_argument('--valid', help='separate validation TSV (default: a seeded random split)')
    p.add_argument('--src', default='fr'); p.add_argument('--tgt', default='en')
    p.add_argument('--n-pairs', type=int, default=20000, help='phrasebook size')
    p.add_argument('--valid-pct', type=float, default=0.1)
    p.add_argument('--epochs', type=int, default=8, help='epochs (with --time-budget: at most this many)')
    p.add_argument('--time-budget', type=float, metavar='MINUTES',
                   help='plan the one-cycle schedule by the clock so that training ends within MINUTES')
    p.add_argument('--eval-beam', type=int, default=0, metavar='K',
                   help='after training, decode the whole validation split with beam K and print BLEU both ways')
    p.add_argument('--no-normalize', action='store_true',
                   help='tokenize raw text (default: unify apostrophes and typographic spaces first)')
    p.add_argument('--questions', action='store_true', help="keep only the lesson's 'Wh… ?' question pairs")
    p.add_argument('--lr', default='3e-3', help="learning rate, or 'auto' to take lr_find's suggestion")
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--emb-sz', type=int, default=300, help='embedding size (also the decoder hidden size)')
    p.add_argument('--n-hid', type=int, default=256, help='encoder hidden size')
    p.add_argument('--n-layers', type=int, default=2)
    p.add_argument('--bidir', action='store_true', help='bidirectional encoder')
    p.add_argument('--vecs-src', help="fastText .bin/.vec file for the source embeddings, or 'train'")
    p.add_argument('--vecs-tgt', help="fastText .bin/.vec file for the target embeddings (and tied output), or 'train'")
    p.add_argument('--freeze-epochs', type=int, default=0, help='first train this many epochs with embeddings frozen')
    p.add_argument('--tf-start', type=float, default=1.0); p.add_argument('--tf-end', type=float, default=0.0)
    p.add_argument('--tf-warmup', type=float, default=0.0, help='fraction of training before forcing starts to decay')
    p.add_argument('--min-freq', type=int, default=1)
    p.add_argument('--max-len', type=int, help='drop training pairs longer than this (default: 99th percentile)')
    p.add_argument('--skip-bad-lines', action='store_true',
                   help='skip (and count) TSV lines with a wrong column count or bytes that are not UTF-8')
    p.add_argument('--stream-cache', metavar='DIR', help='stream --data (a TSV, or the source side with --data-tgt) '
                   'into a memory-mapped cache in DIR, reused when complete, and train from it: for corpora larger '
                   'than memory; validation is a --valid-pct split')
    p.add_argument('--data-tgt', help='with --stream-cache: the target side, line-aligned with --data')
    p.add_argument('--workers', type=int, default=1, help='with --stream-cache: tokenizing processes (0: this one)')
    p.add_argument('--seed', type=int, default=42)
    p.add_argument('--plot-dir', help='save PNGs here: lr_find (run even with a fixed --lr), losses, attention')
    p.add_argument('--out', default='model.pkl', help='where to export the trained learner (a checkpoint is kept '
                                                    'beside it after every epoch: OUT-stem.checkpoint.pth)')
    p.add_argument('--resume', action='store_true', help="continue from OUT's checkpoint with the same arguments")


def _add_model_args(p):
    p.add_argument('model', help='a learner exported by fastseq train / learn.export, or a bundle folder '
                                 '(learn.save_translator)')
    p.add_argument('--beam', type=int, default=1, help='beam size (1: greedy)')
    p.add_argument('--bs', type=int, default=64, help='sentences per batch')
    p.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda'")


def _add_translate(sub):
    p = sub.add_parser('translate', help='translate TEXT arguments, or stdin line by line')
    _add_model_args(p)
    p.add_argument('text', nargs='*', help='texts to translate (default: read stdin, one per line, in chunks)')


def _add_evaluate(sub):
    p = sub.add_parser('evaluate', help='BLEU and chrF (sacrebleu) of decodes of a TSV test set, as JSON')
    _add_model_args(p)
    p.add_argument('--data', required=True, help='TSV/CSV with source and reference columns')
    p.add_argument('--src', default='fr'); p.add_argument('--tgt', default='en')


def _add_demo(sub):
    p = sub.add_parser('demo', help='train on the phrasebook, plot, export, reload in a new process, translate')
    p.add_argument('--out', default='demo_out', help='folder for plots and the exported model')
    p.add_argument('--epochs', type=int, default=8)
    p.add_argument('--n-pairs', type=int, default=20000)
    p.add_argument('--tf-end', type=float, default=0.5, help='teacher forcing decays linearly from 1 to this')
    p.add_argument('--tf-warmup', type=float, default=0.5, help='fraction of training before the decay starts')


def _add_bench(sub):
    p = sub.add_parser('bench', help='training, decoding and data throughput at the lesson preset (README)')
    p.add_argument('--data', default='phrasebook', help="TSV with fr and en columns, or 'phrasebook' (default)")
    p.add_argument('--valid', help='validation TSV to decode (default: a 10%% split of --data)')
    p.add_argument('--n-pairs', type=int, default=20000, help='phrasebook size')
    p.add_argument('--seconds', type=float, default=60., help='about this long in all; training gets half')
    p.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda'")
    p.add_argument('--precision', default='fp32', choices=['fp32', 'bf16'], help='bf16: autocast in training')
    p.add_argument('--model', help='exported learner to decode with (default: the briefly trained benchmark model)')
    p.add_argument('--json', action='store_true', help='print one JSON object instead of a table')


def parser():
    "The argument parser of the `fastseq` command."
    p = argparse.ArgumentParser(prog='fastseq', description='Neural machine translation with fastai and GRUs.')
    sub = p.add_subparsers(dest='command', required=True)
    for add in (_add_train, _add_translate, _add_evaluate, _add_demo, _add_bench): add(sub)
    return p


def load_model(path, device='cpu'):
    "A bundle folder as a `Translator`, or an exported learner; clear errors for missing or unreadable files."
    from fastai.learner import load_learner
    from .inference import Translator
    path = Path(path)
    if path.is_dir(): return Translator.load(path, device)
    if not path.is_file(): raise FileNotFoundError(f"model file not found: {path}")
    try:
        with warnings.catch_warnings():  # fastai warns that exports are pickles; the CLI loads what the user names
            warnings.filterwarnings('ignore', message='load_learner` uses Python')
            learn = load_learner(path, cpu=(device == 'cpu'))
    except Exception as e:
        raise ModelFileError(f"{path} is not a fastseq learner export ({type(e).__name__}: {e})") from None
    if not hasattr(learn, 'translate'): raise ModelFileError(f"{path} holds a fastai learner, not a fastseq one")
    if device != 'cpu': learn.model.to(device)
    return learn


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


def translate(args):
    "Print one translation per input, in input order; stdin is streamed in chunks."
    learn = load_model(args.model, args.device)
    chunks = [args.text] if args.text else _stdin_chunks(args.bs * 16)
    for chunk in chunks:
        for out in learn.translate(chunk, beam=args.beam, bs=args.bs): print(out, flush=False)
        sys.stdout.flush()


def evaluate(args):
    "Decode the source column of a test file and print BLEU and chrF against its raw references as JSON."
    from .datasets import read_tsv
    from .metrics import corpus_bleu, corpus_chrf
    learn = load_model(args.model, args.device)
    df = read_tsv(args.data, args.src, args.tgt)
    hyps, refs = learn.translate(list(df[args.src]), beam=args.beam, bs=args.bs), list(df[args.tgt])
    print(json.dumps({'bleu': round(corpus_bleu(hyps, refs), 2), 'chrf': round(corpus_chrf(hyps, refs), 2),
                      'n': len(refs), 'beam': args.beam, 'data': str(args.data)}))


def bench(args):
    "Run the benchmark; print its JSON object, or one aligned line per figure."
    from .bench import run_bench
    model = load_model(args.model, args.device) if args.model else None
    result = run_bench(args.data, args.valid, args.seconds, args.device, args.precision, model, args.n_pairs)
    if args.json: print(json.dumps(result)); return
    for key, value in _flatten(result):
        text = (f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}") if isinstance(value, float) else str(value)
        print(f"{key:<28} {text:>16}")


def _flatten(d, prefix=''):
    for k, v in d.items():
        if isinstance(v, dict): yield from _flatten(v, f"{prefix}{k}.")
        else: yield f"{prefix}{k}", v


def main(argv=None):
    "Entry point of the `fastseq` console script."
    args = parser().parse_args(argv)
    from . import recipes
    commands = {'train': recipes.train_from_args, 'translate': translate, 'evaluate': evaluate,
                'demo': recipes.demo_from_args, 'bench': bench}
    try: commands[args.command](args)
    except (CorpusError, ModelFileError, FileNotFoundError, ValueError, NonFiniteLossError) as e:
        print(f"fastseq {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fastseq {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == '__main__': sys.exit(main())
