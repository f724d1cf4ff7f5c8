"""What `fastseq serve` reads and writes: the limits of one request, its body read as it streams (bounded in bytes and
time), the /translate JSON parsed and checked, attention as JSON, and the error a request is refused with."""
import asyncio
import json
from dataclasses import dataclass

from .options import option

__all__ = ['Limits', 'RequestError', 'parse_request', 'read_body', 'attention_json', 'DRAIN_BYTES']

DRAIN_BYTES = 32 * 2**20  # an over-sized body is read (and dropped) up to this much after the 413, so clients read it


@dataclass
class Limits:
    "The most one request may ask for; more is answered 413 (size) or 422 (value)."
    max_texts: int = option(64, 'texts per request at most')
    max_chars: int = option(1000, 'characters per text at most')
    max_body: int = option(256 * 1024, 'bytes per request body at most', metavar='BYTES')
    max_beam: int = option(10, 'beam size a request may ask for at most')
    max_cost: int = option(100_000, "characters × beam per request at most, what one request may hold the worker for "
                           "(docs/serving.md)", metavar='COST')


class RequestError(ValueError):
    """A request that cannot be served: `status` is the HTTP status to answer with, the message says why; `headers`
    go with the answer (Retry-After); `drain`: read the rest of the body after answering, so the client reads it."""
    def __init__(self, status, msg, headers=None, drain=False):
        super().__init__(msg)
        self.status, self.headers, self.drain = status, headers or {}, drain


async def read_body(receive, headers, max_body, timeout):
    """The request body from the ASGI `receive`, read as it arrives: a `RequestError` 413 (to drain) as soon as it
    passes `max_body` bytes, declared or not (chunked), 408 when it has not all arrived within `timeout` seconds,
    400 for a Content-Length that is not a number."""
    size = headers.get('content-length')
    if size is not None and not size.isdigit():
        raise RequestError(400, f"a Content-Length of {size!r} is not a number of bytes")
    if size is not None and int(size) > max_body:
        raise RequestError(413, f"the body is {size} bytes; at most {max_body}", drain=True)
    chunks, n = [], 0
    try:
        async with asyncio.timeout(timeout):          # one timer for the whole body: a trickle cannot stretch it
            while True:
                message = await receive()
                if message['type'] == 'http.disconnect': raise RequestError(499, 'the client went away')
                chunks.append(message.get('body', b'')); n += len(chunks[-1])
                if n > max_body: raise RequestError(413, f"the body is over {max_body} bytes; at most {max_body}",
                                                    drain=True)
                if not message.get('more_body', False): return b''.join(chunks)
    except TimeoutError:
        raise RequestError(408, f"the body did not arrive within {timeout:g} s", {'Connection': 'close'}) from None


async def drain_body(receive, timeout, limit=DRAIN_BYTES):
    "Read and drop the rest of a request body, up to `limit` bytes or `timeout` seconds, whichever comes first."
    n = 0
    try:
        async with asyncio.timeout(timeout):
            while n < limit:
                message = await receive()
                if message['type'] != 'http.request' or not message.get('more_body', False): return
                n += len(message.get('body', b''))
    except TimeoutError: return


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
    cost = sum(map(len, texts)) * beam
    if cost > limits.max_cost:
        raise RequestError(413, f"this request costs {cost:,} (characters × beam); at most {limits.max_cost:,}: send "
                                f"fewer or shorter texts, or ask for a smaller beam")
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
