"""`fastseq serve`: a translator behind HTTP (Starlette and uvicorn, the `serve` extra). POST /translate decodes the
texts of requests that arrive within a few milliseconds as one batch (`RequestBatcher`); GET / is a page that
translates and draws the attention; GET /health (alive), /ready (model loaded, queue not full) and /metrics
(Prometheus). Every request is bounded (bytes, time, texts, cost); the queue is bounded and refuses early; keys guard
a server open to other machines; SIGTERM and SIGINT stop it after answering what was admitted."""
import asyncio
import json
import logging
import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from importlib.resources import files
from pathlib import Path

from .batcher import RefusedWhenFull, RequestBatcher
from .bundle import load_translator
from .errors import OptionError
from .guard import Authenticated, check_exposure, load_keys
from .inference import Translator
from .options import option
from .protocol import Limits, RequestError, drain_body, parse_request, read_body
from .telemetry import ACCESS_LOG

__all__ = ['ServeConfig', 'Limits', 'RequestError', 'RequestBatcher', 'parse_request', 'create_app', 'serve',
           'app_from_environment']

LOG = logging.getLogger('fastseq.serve')
CONFIG_VARIABLE = 'FASTSEQ_SERVE_CONFIG'   # how `serve` hands its options to worker processes


@dataclass
class ServeConfig:
    "Every option of `fastseq serve` (its flags are generated from these fields)."
    host: str = option('127.0.0.1', 'address to bind (127.0.0.1: this machine only)')
    port: int = option(8000, 'port to listen on')
    beam: int = option(None, "beam size when a request does not say (default: the model's own, greedy unless it was "
                       "measured better at a beam)")
    max_batch: int = option(64, 'texts decoded together at most (1: no batching)')
    wait_ms: float = option(5., 'how long a batch waits for more requests', metavar='MS')
    max_queue: int = option(256, 'texts admitted and waiting at most; a request that does not fit is refused at once '
                            '(503 with Retry-After)', metavar='TEXTS')
    timeout: float = option(30., 'a request not answered within this many seconds is dropped (503); also how long '
                            'shutdown waits for admitted requests', metavar='SECONDS')
    read_timeout: float = option(10., 'a request body must arrive within this many seconds (else 408)',
                                 metavar='SECONDS')
    max_connections: int = option(1024, 'open connections at most; more are answered 503 by uvicorn')
    api_key_file: str = option(None, 'file of API keys, one per line (also: the FASTSEQ_API_KEYS variable); '
                               'requests then need "Authorization: Bearer KEY"', metavar='FILE')
    auth: bool = option(True, 'with --no-auth, serve other machines without keys (on purpose)')
    cors_origin: str = option(None, 'origins whose pages may call the server, comma-separated (default: none)',
                              metavar='ORIGINS')
    access_log: bool = option(True, 'one JSON line per request on stderr (id, status, texts, characters, ms)')
    workers: int = option(1, 'server processes sharing the port, each with its own model (docs/serving.md)')
    limits: Limits = option(Limits(), 'what one request may ask for')

    @classmethod
    def from_dict(cls, options):
        "The config of a nested dict of options (`asdict`'s form; `limits` a dict of some `Limits` fields)."
        return cls(**{**options, 'limits': Limits(**options.get('limits', {}))})


def create_app(translator, name='model', config=None, keys=()):
    """The Starlette app: GET / (the page), /health, /ready, /metrics, POST /translate, served as `config`
    (`ServeConfig`) says; `keys`: the API keys requests need (none: open)."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    from .telemetry import Observed, Telemetry
    cfg, telemetry = config or ServeConfig(), Telemetry()
    cfg = replace(cfg, beam=getattr(translator, 'beam', 1) if cfg.beam is None else cfg.beam)   # a model's own
    batcher = RequestBatcher(translator, cfg.max_batch, cfg.wait_ms, cfg.max_queue, cfg.timeout, telemetry)
    page = files('fastseq').joinpath('static/index.html').read_text(encoding='utf-8')

    async def translate(request):
        try: return JSONResponse(await _translate(request, batcher, cfg))
        except RequestError as e: return await _refusal(e, request, cfg.read_timeout)
        except Exception:
            LOG.exception("request %s failed", request.state.id)
            return JSONResponse({'error': 'internal error', 'id': request.state.id}, status_code=500)

    async def health(request):
        return JSONResponse({**_model_info(translator, name), 'beam': cfg.beam, 'limits': asdict(cfg.limits)})

    async def ready(request):
        if batcher.worker is None: return JSONResponse({'ready': False, 'why': 'starting'}, status_code=503)
        if batcher.full: return JSONResponse({'ready': False, 'why': 'the queue is full'}, status_code=503,
                                             headers={'Retry-After': str(batcher.retry_after())})
        return JSONResponse({'ready': True, 'queued_texts': batcher.queued})

    async def metrics(request):
        body, kind = telemetry.exposition()
        return Response(body, media_type=kind)

    async def index(request): return HTMLResponse(page)

    @asynccontextmanager
    async def lifespan(app):
        await asyncio.get_running_loop().run_in_executor(None, translator.translate, ['.'])  # the first call is slow
        batcher.start()
        yield

    cors = [Middleware(CORSMiddleware, allow_origins=cfg.cors_origin.split(','), allow_methods=['GET', 'POST'],
                       allow_headers=['Authorization', 'Content-Type'])] if cfg.cors_origin else []
    routes = [Route('/', index), Route('/health', health), Route('/ready', ready), Route('/metrics', metrics),
              Route('/translate', translate, methods=['POST'])]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[
        Middleware(Observed, telemetry=telemetry), *cors, Middleware(Authenticated, keys=list(keys)),
        Middleware(RefusedWhenFull, batcher=batcher)])


async def _translate(request, batcher, cfg):
    "The /translate answer: the body read as it streams, parsed, and decoded unless the client goes away."
    body = await read_body(request.receive, request.headers, cfg.limits.max_body, cfg.read_timeout)
    texts, beam, attention = parse_request(body, cfg.limits, cfg.beam)
    request.state.texts, request.state.chars = len(texts), sum(map(len, texts))
    out = await batcher.translate(texts, beam, attention, watch=lambda: _disconnected(request.receive))
    return {'translations': [t for t, _ in out], ('attention' if attention else 'info'): [x for _, x in out]}


async def _disconnected(receive):
    "Returns when the client disconnects (after the body, uvicorn's `receive` waits for that)."
    while (await receive())['type'] != 'http.disconnect': pass


async def _refusal(error, request, read_timeout):
    """The JSON answer to a refused request; one refused for its body's size is sent before the rest of the body is
    read (and dropped), so that a client still sending it reads the answer instead of a reset connection."""
    from starlette.responses import JSONResponse
    response = JSONResponse({'error': str(error)}, status_code=error.status, headers=error.headers)
    if not error.drain: return response
    response.headers['Connection'] = 'close'
    async def send_then_drain(scope, receive, send):
        await send({'type': 'http.response.start', 'status': response.status_code, 'headers': response.raw_headers})
        await send({'type': 'http.response.body', 'body': response.body, 'more_body': True})
        await drain_body(receive, read_timeout)
        await send({'type': 'http.response.body', 'body': b''})
    return send_then_drain


def _model_info(translator, name):
    p, model = translator.processor, translator.model
    return {'status': 'ok', 'model': name, 'src_lang': p.src_tok.lang, 'tgt_lang': p.tgt_tok.lang,
            'src_vocab': len(p.src_vocab), 'tgt_vocab': len(p.tgt_vocab),
            'device': str(next(model.parameters()).device)}


def serve(model, config=None, name=None, **load):
    """Serve `model` (a `Translator`, or a bundle folder loaded by `load_translator(model, **load)` in every process)
    with uvicorn as `config` (`ServeConfig`) says, until SIGTERM or SIGINT: then it stops accepting, answers what was
    admitted (for at most `timeout` seconds) and returns. A host other than loopback needs API keys or `auth=False`."""
    import uvicorn
    cfg = config or ServeConfig()
    keys = load_keys(cfg.api_key_file)
    check_exposure(cfg.host, keys, cfg.auth)
    _check(cfg, model)
    name = name or ('model' if isinstance(model, Translator) else Path(model).name)
    run = dict(host=cfg.host, port=cfg.port, log_level='warning', access_log=False,
               limit_concurrency=cfg.max_connections, timeout_graceful_shutdown=cfg.timeout + 5)
    _log_to_stderr(cfg.access_log)
    if cfg.workers == 1:
        app = create_app(model if isinstance(model, Translator) else _load(model, load), name, cfg, keys)
        with _stopped_quietly(): uvicorn.run(app, **run)
        return
    os.environ[CONFIG_VARIABLE] = json.dumps({'model': str(model), 'name': name, 'load': load, 'config': asdict(cfg)})
    with _stopped_quietly():   # uvicorn's health check waits 60 s: a worker loading its model answers late
        uvicorn.run(f'{__name__}:app_from_environment', factory=True, workers=cfg.workers,
                    timeout_worker_healthcheck=60, **run)


def _check(cfg, model):
    "An `OptionError` naming the option of `cfg` that cannot work."
    if cfg.workers < 1: raise OptionError(f"workers must be 1 or more, got {cfg.workers}", 'workers')
    if cfg.workers > 1 and isinstance(model, Translator):
        raise OptionError("each worker process loads the model: give the bundle's folder, not a Translator", 'workers')
    if cfg.limits.max_texts > cfg.max_queue:
        raise OptionError(f"max_queue ({cfg.max_queue}) must hold one request's max_texts ({cfg.limits.max_texts})",
                          'max_queue', 'max_texts')
    bad = next((opt for opt in ('timeout', 'read_timeout') if getattr(cfg, opt) <= 0), None)
    if bad: raise OptionError(f"{bad} must be more than 0 seconds, got {getattr(cfg, bad)}", bad)
    if cfg.wait_ms < 0: raise OptionError(f"wait_ms must be 0 or more, got {cfg.wait_ms}", 'wait_ms')


def app_from_environment():
    "The app of one worker process of `serve`: its options from FASTSEQ_SERVE_CONFIG, its share of the cores."
    import torch
    spec = json.loads(os.environ[CONFIG_VARIABLE])
    cfg = ServeConfig.from_dict(spec['config'])
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // cfg.workers))
    _log_to_stderr(cfg.access_log)
    return create_app(_load(spec['model'], spec['load']), spec['name'], cfg, load_keys(cfg.api_key_file))


def _load(path, load):
    """The translator of the bundle at `path`: `device` and `int8` as it loads, `copy_unk` and `precision` after;
    `full_vocab` drops its lexical shortlist."""
    translator = load_translator(path, load.get('device', 'cpu'), load.get('int8', False))
    for attr in ('copy_unk', 'precision'):
        if attr in load: setattr(translator, attr, load[attr])
    if load.get('full_vocab'): translator.shortlist = None
    return translator


def _log_to_stderr(access_log=True):
    "The server's errors (with tracebacks) and, with `access_log`, its JSON access lines, on stderr."
    handler = logging.StreamHandler()
    for logger, on in ((LOG, True), (ACCESS_LOG, access_log)):
        if on and not logger.handlers: logger.addHandler(handler)
        logger.setLevel(logging.INFO if on else logging.WARNING)


@contextmanager
def _stopped_quietly():
    """SIGTERM and SIGINT end `uvicorn.run` after its graceful shutdown, which then raises the signal again: a no-op
    here, so that the server exits with status 0 (in the main thread only, where signals are handled)."""
    if threading.current_thread() is not threading.main_thread(): yield; return
    before = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGTERM, signal.SIGINT)}
    try: yield
    finally:
        for sig, handler in before.items(): signal.signal(sig, handler)
