"""Warm start: a model begins from a trained one's weights, the embedding and output rows matched word by word."""
import pytest
import torch
from fastseq.data import Seq2SeqDataLoaders
from fastseq.errors import OptionError
from fastseq.learner import seq2seq_learner
from fastseq.warm_start import warm_start, warm_start_line


def _learner(df, arch, tmp_path, seed=1):
    torch.manual_seed(seed)
    dls = Seq2SeqDataLoaders.from_df(df, bs=32, valid_pct=0.2, seed=0, path=tmp_path, verbose=False)
    return seq2seq_learner(dls, path=tmp_path, **arch)


def test_a_model_with_other_vocabularies_starts_from_the_trained_ones_words(trained, small_df, tiny_arch, tmp_path):
    "Rows follow words across vocabularies; the loss starts where the trained model's is, far under a fresh model's."
    learn = _learner(small_df.iloc[100:], tiny_arch, tmp_path)                # other sentences: other vocabularies
    mine, theirs = learn.dls.processor.tgt_vocab, trained.dls.processor.tgt_vocab
    assert mine.itos != theirs.itos
    fresh_loss, fresh_out = learn.validate()[0], learn.model.decoder.out.weight.clone()
    copied = warm_start(learn.model, learn.dls.processor, trained.translator())
    shared = [w for w in mine.itos if w in theirs.stoi]
    assert copied['tgt'] == len(shared) < len(mine) and copied['src'] > 0.8 * len(learn.dls.processor.src_vocab)
    out, trained_out = learn.model.decoder.out, trained.model.decoder.out
    for w in (shared[10], shared[-1]):
        assert torch.equal(out.weight[mine.stoi[w]], trained_out.weight[theirs.stoi[w]])
        assert out.bias[mine.stoi[w]] == trained_out.bias[theirs.stoi[w]]
    new = next(i for i, w in enumerate(mine.itos) if w not in theirs.stoi)
    assert torch.equal(out.weight[new], fresh_out[new])                        # a new word keeps its initialisation
    assert learn.model.decoder.emb.weight is out.weight                        # still tied
    assert torch.equal(learn.model.encoder.rnn.weight_hh_l0, trained.model.encoder.rnn.weight_hh_l0)
    assert learn.validate()[0] < 0.8 * fresh_loss and copied['kept'] == []


def test_a_smaller_decoder_starts_from_the_encoder_and_another_model_is_refused(trained, small_df, tiny_arch,
                                                                                  tmp_path):
    learn = _learner(small_df, {**tiny_arch, 'att_sz': 24, 'n_layers_dec': 1}, tmp_path)
    fresh = {k: v.clone() for k, v in learn.model.state_dict().items()}
    copied = warm_start(learn.model, learn.dls.processor, trained.translator())
    assert sorted({k.split('.')[1] for k in copied['kept']}) == ['attn']       # its key, query and score weights
    now, theirs = learn.model.state_dict(), trained.model.state_dict()
    assert all(torch.equal(now[k], fresh[k]) for k in copied['kept'])
    assert all(torch.equal(now[k], theirs[k]) for k in now if k.startswith('encoder.rnn') or 'decoder.rnn' in k)
    assert 'decoder.attn' in warm_start_line(copied, learn.dls.processor, 'teacher.pkl')
    other = _learner(small_df, dict(emb_sz_src=16, emb_sz_tgt=20, n_hid_enc=12, att_sz=8, bidir=False), tmp_path)
    with pytest.raises(OptionError, match='shares no layer'):
        warm_start(other.model, other.dls.processor, trained.translator())
