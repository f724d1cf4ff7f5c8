"""Warm start: a new model begins from a trained one's weights (a distilled student from its teacher, a model
fine-tuned on other data), layer by layer, and the embedding and output rows word by word, since the two models'
vocabularies differ."""
import torch

from .errors import OptionError

__all__ = ['VOCAB_ROWS', 'warm_start', 'warm_start_line']

# the parameters with one row per word of a side's vocabulary (the output weight is tied to the target embedding)
VOCAB_ROWS = {'encoder.emb.weight': 'src', 'decoder.emb.weight': 'tgt', 'decoder.out.weight': 'tgt',
              'decoder.out.bias': 'tgt'}


@torch.no_grad()
def warm_start(model, processor, source):
    """Copy the weights of `source` (a `Translator`; of an int8 one, its float weights) into `model`, whose
    vocabularies are `processor`'s: every parameter the two share in name and shape, and of the embeddings and output
    layer the rows of the words both vocabularies hold; the rest keeps its initialisation (a smaller decoder starts
    from the source's encoder alone). Returns {'src': words copied, 'tgt': words copied, 'kept': names of the
    parameters not copied}; an error when the two share no layer besides the output bias."""
    new, old = model.state_dict(), (source.float_model or source.model).state_dict()
    rows = {'src': _shared_rows(processor.src_vocab, source.processor.src_vocab),
            'tgt': _shared_rows(processor.tgt_vocab, source.processor.tgt_vocab)}
    kept = [name for name, t in new.items() if not _same_shape(t, old.get(name), name in VOCAB_ROWS)]
    if all(name in kept for name in new if name not in VOCAB_ROWS):
        raise OptionError("init: the model to start from shares no layer with this one: train with its model options",
                          'init')
    for name, t in new.items():
        if name in kept: continue
        if name in VOCAB_ROWS:
            to, frm = rows[VOCAB_ROWS[name]]
            t[to] = old[name][frm].to(t.dtype)
        else: t.copy_(old[name])
    words = lambda side, emb: 0 if emb in kept else len(rows[side][0])
    return {'src': words('src', 'encoder.emb.weight'), 'tgt': words('tgt', 'decoder.emb.weight'), 'kept': kept}


def _same_shape(t, other, per_word):
    "Whether `other` exists and has `t`'s shape (per row, for a parameter with one row per word)."
    return other is not None and other.shape[per_word:] == t.shape[per_word:]


def _shared_rows(vocab, source_vocab):
    "The indices in `vocab` and in `source_vocab` of the words both hold, as two aligned tensors."
    pairs = [(i, source_vocab.stoi[w]) for i, w in enumerate(vocab.itos) if w in source_vocab.stoi]
    to, frm = zip(*pairs)       # never empty: both start with the special tokens
    return torch.tensor(to), torch.tensor(frm)


def warm_start_line(copied, processor, path):
    "One line for logs: where the weights came from, how many words of each vocabulary they covered, what was not."
    kept = sorted({name.rsplit('.', 1)[0] for name in copied['kept']})
    return (f"started from {path}: the rows of {copied['src']:,} of {len(processor.src_vocab):,} source and "
            f"{copied['tgt']:,} of {len(processor.tgt_vocab):,} target words, "
            + (f"every other layer but {', '.join(kept)} (another shape)" if kept else "and every other layer"))
