"""`fastseq bench`: training, decoding and data throughput at the lesson's model sizes, beside the machine's measured
matmul peak, so a speed claim comes with the command and the machine that produced it."""
import resource
import time
from dataclasses import replace

import torch
from fastai.callback.progress import ProgressCallback

from .callbacks import TeacherForcing, ThroughputMeter, sync_device
from .data import Seq2SeqDataLoaders, pad_batch
from .datasets import phrasebook, read_tsv
from .decode import decode_batch
from .inference import Translator
from .learner import seq2seq_learner
from .fused import FusedProjectionLoss
from .shortlist import shortlist_callback
from .precision import decoding_dtype, precision_callbacks, prepare_device, resolve_precision
from .config import TrainConfig, learner_options

__all__ = ['LESSON', 'matmul_peak', 'train_flops_per_token', 'bench_data',
           'bench_train', 'bench_decode', 'run_bench']

LESSON = TrainConfig.from_preset('lesson')  # the lesson's sizes, batch, learning rate and forcing


def matmul_peak(device='cpu', dtype=torch.float32, n=2048, seconds=1.0):
    """GFLOP/s of an n³ matrix product on `device` in `dtype`, repeated for about `seconds`: the ceiling the model's
    throughput is compared with (bf16 without hardware support is emulated and slow, so it is timed as briefly)."""
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    t0 = time.perf_counter()
    a @ b; sync_device(device)
    reps = max(1, min(20, int(seconds / (time.perf_counter() - t0))))
    t0 = time.perf_counter()
    for _ in range(reps): a @ b
    sync_device(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def _gru_macs(n_in, n_hid, n_layers, n_dirs):
    "Multiply-adds per time step of a stacked GRU (three gates, input and hidden products)."
    per_layer = [3 * n_dirs * ((n_in if i == 0 else n_hid * n_dirs) * n_hid + n_hid * n_hid) for i in range(n_layers)]
    return sum(per_layer)


def train_flops_per_token(c, src_per_tgt=1.0, mean_src_len=10.0):
    """Training FLOPs per target token, from the shapes (forward multiply-adds × 2 FLOPs × 3 for forward+backward):
    decoder GRU, attention, mix and vocabulary projection per target token; encoder GRU and keys per source token."""
    enc_out = c.n_hid_enc * (2 if c.bidir else 1)
    dec = _gru_macs(c.emb_sz_tgt, c.n_hid_dec, c.n_layers_dec, 1) + c.n_hid_dec * c.tgt_vocab
    if c.attention:
        dec += c.n_hid_dec * c.att_sz + mean_src_len * (c.att_sz + enc_out) + (c.n_hid_dec + enc_out) * c.n_hid_dec
    enc = _gru_macs(c.emb_sz_src, c.n_hid_enc, c.n_layers_enc, 2 if c.bidir else 1) + enc_out * c.att_sz
    return 6 * (dec + src_per_tgt * enc)


def bench_data(data='phrasebook', valid=None, n_pairs=20000, device=None, bs=LESSON.bs):
    "DataLoaders at the benchmark's settings, and pairs/s through tokenization + numericalization (reading excluded)."
    df = phrasebook(n_pairs, 0) if data == 'phrasebook' else read_tsv(data, 'fr', 'en')
    valid_df = None if valid is None else read_tsv(valid, 'fr', 'en')
    t0 = time.perf_counter()
    dls = Seq2SeqDataLoaders.from_df(df, bs=bs, valid_pct=0.1, valid_df=valid_df, seed=0, max_len=30,
                                     min_freq=2, device=device, verbose=False)
    n = len(df) + (0 if valid_df is None else len(valid_df))
    return dls, {'pairs': n, 'pairs_per_s': n / (time.perf_counter() - t0)}


def bench_train(dls, seconds=30., precision='auto', warmup=10, fused_loss=True, config=LESSON):
    """Train `config` (a `TrainConfig`, by default the lesson preset) for `seconds` after `warmup` batches; throughput,
    memory and FLOP figures. `fused_loss=False` trains bf16 on a CPU through logits (without `FusedProjectionLoss`),
    to measure what the fusion buys."""
    learn = seq2seq_learner(dls, metrics=[], **learner_options(config))
    learn.remove_cb(ProgressCallback)
    meter = ThroughputMeter(seconds, warmup, dls.processor.tgt_vocab.pad_idx)
    c = learn.model.config
    precision = resolve_precision(precision, dls.device, c.n_hid_dec, c.tgt_vocab)
    cbs = [TeacherForcing(config.tf_start, config.tf_end), meter] + [
        cb for cb in precision_callbacks(precision, dls.device, config.shortlist)
        if fused_loss or type(cb) is not FusedProjectionLoss]
    if dls.device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
    with learn.no_logging(): learn.fit(1000, float(config.lr), cbs=cbs)
    if meter.elapsed == 0: raise ValueError("the training data ran out before the benchmark's warm-up batches ended")
    ds = dls.train_ds
    flops = train_flops_per_token(c, ds.src_lens.sum() / ds.tgt_lens.sum(), float(ds.src_lens.mean()))
    tok_s = meter.tgt / meter.elapsed
    out = {'tgt_tok_per_s': tok_s, 'src_tok_per_s': meter.src / meter.elapsed, 'batches': meter.n,
           'seconds': meter.elapsed, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           'params': sum(p.numel() for p in learn.model.parameters()), 'flops_per_tgt_tok': flops,
           'gflops': tok_s * flops / 1e9, 'precision': precision,
           'shortlist': getattr(shortlist_callback(cbs), 'n_frequent', 0)}
    if dls.device.type == 'cuda': out['peak_gpu_mem_mb'] = torch.cuda.max_memory_allocated() / 2 ** 20
    return learn, out


def bench_decode(model, processor, texts, beams=(1, 5), bs=LESSON.bs, prefix='', precision='auto'):
    """Sentences/s and output tokens/s (up to and including eos) of greedy and beam decoding, batches sorted by length;
    `precision` of the vocabulary projection as `translate_texts` takes it."""
    ids = sorted((s for s in processor.src_ids(texts) if s), key=len, reverse=True)
    device, dtype = next(model.parameters()).device, decoding_dtype(model, precision)
    model.eval()
    out = {}
    for beam in beams:
        n_tok, t0 = 0, time.perf_counter()
        for i in range(0, len(ids), bs):
            src = pad_batch(ids[i:i + bs], processor.src_vocab.pad_idx).to(device)
            hyps, _ = decode_batch(model, src, beam, dtype=dtype)
            n_tok += sum(len(processor.tgt_vocab.until_eos(h[0][0], keep_eos=True)) for h in hyps)
        secs = time.perf_counter() - t0
        name = prefix + ('greedy' if beam == 1 else f'beam{beam}')
        out.update({f'{name}_sent_per_s': len(ids) / secs, f'{name}_tok_per_s': n_tok / secs})
    out['sentences'] = len(ids)
    if not prefix: out['precision'] = 'bf16' if dtype else 'fp32'         # of the projection (int8: its own)
    return out


def run_bench(data='phrasebook', valid=None, seconds=60., device='cpu', precision='auto', model=None, n_pairs=20000,
              n_decode=2000, bs=LESSON.bs, shortlist=LESSON.shortlist):
    """The whole benchmark as one dict: data, then training for about half of `seconds` (fp32 on a CPU with the
    softmax over a `shortlist` of target words, 0: all), then decoding of up to `n_decode` validation sentences (with
    `model`, an exported learner, when given: its outputs have real lengths), on a CPU also with int8 weights."""
    device = torch.device(device)
    prepare_device(device)
    dls, data_out = bench_data(data, valid, n_pairs, device, bs)
    n = 2048 if device.type == 'cpu' else 8192
    peak_fp32, peak_bf16 = matmul_peak(device, torch.float32, n), matmul_peak(device, torch.bfloat16, n // 2)
    learn, train = bench_train(dls, max(seconds / 2, 5.), precision, config=replace(LESSON, shortlist=shortlist))
    train['mfu'] = train['gflops'] / (peak_fp32 if train['precision'] == 'fp32' else peak_bf16)
    translator = learn.translator() if model is None else model
    translator.model.to(device)
    texts = [s for s, _ in dls.valid_pairs()[:n_decode]]
    decode = bench_decode(translator.model, translator.processor, texts, bs=bs,
                          precision='bf16' if train['precision'] == 'bf16' else 'fp32')   # as it trained
    if device.type == 'cpu':
        q = Translator(translator.model, translator.processor).quantize()
        decode.update(bench_decode(q.model, q.processor, texts, bs=bs, prefix='int8_'))
    return {'device': _device_name(device), 'threads': torch.get_num_threads(), 'torch': torch.__version__,
            'data': {**data_out, 'bs': bs}, 'train': train, 'decode': decode,
            'peak': {'fp32_gflops': peak_fp32, 'bf16_gflops': peak_bf16}}


def _device_name(device):
    if device.type == 'cuda': return torch.cuda.get_device_name(device)
    import platform
    return f"cpu ({platform.processor() or platform.machine()}, {torch.backends.cpu.get_cpu_capability()})"
