"""`fastseq serve`: a translator behind HTTP (Starlette and uvicorn, the `serve` extra). POST /translate decodes the
texts of requests that arrive within a few milliseconds as one batch; GET /health describes the model; GET / is a
page that translates and draws the attention. Every request is bounded (texts, characters, bytes, beam)."""
import asyncio
import json
from dataclasses import dataclass
from importlib.resources import files

from .sentences import split_sentences

__all__ = ['Limits', 'RequestError', 'RequestBatcher', 'parse_request', 'create_app', 'serve']


@dataclass
class Limits:
    "The most one request may ask for; more is answered 413 (size) or 422 (value)."
    max_texts: int = 64
    max_chars: int = 1000
    max_body: int = 256 * 1024
    max_beam: int = 10


class RequestError(ValueError):
    "A request that cannot be served: `status` is the HTTP status to answer with, the message says why."
    def __init__(self, status, msg): super().__init__(msg); self.status = status


def parse_request(body: bytes, limits: Limits, default_beam=1):
    "(texts, beam, attention) of a /translate body, or a `RequestError` with its status (400, 413 or 422)."
    if len(body) > limits.max_body: raise RequestError(413, f"the body is {len(body)} bytes; at most {limits.max_body}")
    try: req = json.loads(body)
    except ValueError as e: raise RequestError(400, f"the body is not valid JSON: {e}") from None
    if not isinstance(req, dict) or 'texts' not in req:
        raise RequestError(400, 'the body must be a JSON object with a "texts" field: {"texts": ["..."]}')
    texts, beam, attention = req['texts'], req.get('beam', default_beam), req.get('attention', False)
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise RequestError(422, '"texts" must be a list of strings')
    if isinstance(beam, bool) or not isinstance(beam, int) or not 1 <= beam <= limits.max_beam:
        raise RequestError(422, f'"beam" must be a whole number from 1 to {limits.max_beam}, got {beam!r}')
    if not isinstance(attention, bool): raise RequestError(422, f'"attention" must be true or false, got {attention!r}')
    if len(texts) > limits.max_texts: raise RequestError(413, f"{len(texts)} texts; at most {limits.max_texts}")
    long = next((i for i, t in enumerate(texts) if len(t) > limits.max_chars), None)
    if long is not None:
        raise RequestError(413, f"text {long} has {len(texts[long])} characters; at most {limits.max_chars}")
    return texts, beam, attention


def attention_json(res):
    """One sentence's attention (`Attended`) as JSON: its tokens and weights (output × source), and for reading, its
    words as written and as printed with `word_weights`, where a case marker's column and row count for its word and
    the eos row is left out."""
    weights = [] if res.weights is None else res.weights.tolist()
    out = {'source_tokens': res.src_tokens, 'output_tokens': res.out_tokens, 'weights': _rounded(weights)}
    src_groups, out_groups = _word_groups(res.src_words), _word_groups(res.out_words)
    out['source_words'] = [res.src_words[g[-1]] for g in src_groups]
    out['output_words'] = [res.out_words[g[-1]] for g in out_groups]
    by_word = [[sum(row[j] for j in g) for g in src_groups] for row in weights]
    out['word_weights'] = _rounded([[sum(by_word[i][k] for i in g) / len(g) for k in range(len(src_groups))]
                                    for g in out_groups] if weights else [])
    return out


def _word_groups(words):
    "Token indices per word: the case markers before a word (None) with it; a trailing None (eos) in none."
    groups, pending = [], []
    for i, w in enumerate(words):
        pending.append(i)
        if w is not None: groups.append(pending); pending = []
    return groups


def _rounded(rows): return [[round(float(w), 4) for w in row] for row in rows]


class RequestBatcher:
    """Decodes the texts of the requests that arrive within `wait_ms` of each other as one batch (at most `max_batch`
    texts; 1 turns batching off), one batch at a time in a worker thread; each request gets exactly its own results,
    in order. A batch that fails is decoded again request by request, so one bad request fails alone."""
    def __init__(self, translator, max_batch=64, wait_ms=5., timeout=120.):
        self.translator, self.max_batch, self.wait, self.timeout = translator, max_batch, wait_ms / 1000, timeout
        self.queue, self.worker = None, None

    def start(self):
        self.queue = asyncio.Queue()
        self.worker = asyncio.get_running_loop().create_task(self._work())

    async def translate(self, texts, beam=1, attention=False):
        "Translations of `texts` (with attention: (translation, attention JSON) pairs), decoded with others' texts."
        if not texts: return []
        done = asyncio.get_running_loop().create_future()
        await self.queue.put((texts, beam, attention, done))
        try: return await asyncio.wait_for(asyncio.shield(done), self.timeout)
        except asyncio.TimeoutError:
            raise RequestError(503, f"no translation within {self.timeout:.0f} s: the server is overloaded") from None

    async def _work(self):
        while True:
            batch = await self._gather()
            for key in dict.fromkeys((beam, att) for _, beam, att, _ in batch):
                group = [item for item in batch if item[1:3] == key]
                results = await asyncio.get_running_loop().run_in_executor(None, self._decode_group, group)
                for (*_, done), result in zip(group, results):
                    if done.done(): continue                       # the client went away
                    if isinstance(result, Exception): done.set_exception(result)
                    else: done.set_result(result)

    async def _gather(self):
        "The first waiting request and those arriving within `wait_ms` after it, up to `max_batch` texts."
        batch = [await self.queue.get()]
        n, deadline = len(batch[0][0]), asyncio.get_running_loop().time() + self.wait
        while n < self.max_batch:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0: break
            try: item = await asyncio.wait_for(self.queue.get(), left)
            except asyncio.TimeoutError: break
            batch.append(item); n += len(item[0])
        return batch

    def _decode_group(self, group):
        "Per request, its results or the exception it raised: all texts in one call, or one call each on failure."
        texts, beam, attention = [t for item in group for t in item[0]], group[0][1], group[0][2]
        try: return self._split(group, self._decode(texts, beam, attention))
        except Exception:
            out = []
            for item in group:
                try: out.append(self._decode(item[0], beam, attention))
                except Exception as e: out.append(e)
            return out

    def _decode(self, texts, beam, attention):
        "Per text, (translation, its `Info` as JSON) or with `attention` (translation, its sentences' attention)."
        if not attention:
            return [(t, info._asdict()) for t, info in self.translator.translate(texts, beam=beam, return_info=True)]
        lang = self.translator.processor.src_tok.lang
        per_text = self.translator.translate(texts, beam=beam, with_attention=True)
        return [(split_sentences(text, lang).join([res.text for res in sentences]) if sentences else '',
                 [attention_json(res) for res in sentences]) for text, sentences in zip(texts, per_text)]

    @staticmethod
    def _split(group, results):
        out, i = [], 0
        for texts, *_ in group: out.append(results[i:i + len(texts)]); i += len(texts)
        return out


def _model_info(translator, name):
    p, model = translator.processor, translator.model
    return {'status': 'ok', 'model': name, 'src_lang': p.src_tok.lang, 'tgt_lang': p.tgt_tok.lang,
            'src_vocab': len(p.src_vocab), 'tgt_vocab': len(p.tgt_vocab),
            'device': str(next(model.parameters()).device)}


def create_app(translator, name='model', beam=1, max_batch=64, wait_ms=5., limits=None):
    "The Starlette app: GET / (the page), GET /health, POST /translate."
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route
    limits, batcher = limits or Limits(), RequestBatcher(translator, max_batch, wait_ms)
    page = files('fastseq').joinpath('static/index.html').read_text(encoding='utf-8')

    async def translate(request):
        try:
            size = request.headers.get('content-length', '0')
            if not size.isdigit(): raise RequestError(400, f"a Content-Length of {size!r} is not a number of bytes")
            if int(size) > limits.max_body:
                raise RequestError(413, f"the body is {size} bytes; at most {limits.max_body}")
            texts, k, attention = parse_request(await request.body(), limits, beam)
            out = await batcher.translate(texts, k, attention)
        except RequestError as e: return JSONResponse({'error': str(e)}, status_code=e.status)
        except Exception as e: return JSONResponse({'error': f"{type(e).__name__}: {e}"}, status_code=500)
        return JSONResponse({'translations': [t for t, _ in out], ('attention' if attention else 'info'): [
            extra for _, extra in out]})

    async def health(request):
        return JSONResponse({**_model_info(translator, name), 'beam': beam, 'limits': vars(limits)})
    async def index(request): return HTMLResponse(page)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield

    return Starlette(routes=[Route('/', index), Route('/health', health), Route('/translate', translate,
                                                                                 methods=['POST'])], lifespan=lifespan)


def serve(translator, host='127.0.0.1', port=8000, name='model', **kwargs):
    "Run the app with uvicorn until interrupted; 127.0.0.1 by default, so only this machine can reach it."
    import uvicorn
    uvicorn.run(create_app(translator, name, **kwargs), host=host, port=port, log_level='warning')
