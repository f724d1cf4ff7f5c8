"""What `fastseq serve` tells its operators: Prometheus metrics of one app (`Telemetry`, its own registry, no global
state) and `Observed`, the ASGI middleware that gives each request an id, counts and times it, and writes one JSON
access-log line for it (never the texts themselves)."""
import json
import logging
import time
import uuid

__all__ = ['Telemetry', 'Observed', 'ROUTES']

ROUTES = ('/', '/health', '/ready', '/metrics', '/translate')   # other paths are counted as 'other'
ACCESS_LOG = logging.getLogger('fastseq.access')


class Telemetry:
    "The server's Prometheus metrics (the `prometheus_client` library), in a registry of their own."
    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        self.registry = r = CollectorRegistry()
        self.requests = Counter('fastseq_requests', 'HTTP requests answered, by path and status', ['path', 'status'],
                                registry=r)
        self.latency = Histogram('fastseq_request_seconds', 'time from a request to its answer, by path', ['path'],
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60), registry=r)
        self.queue = Gauge('fastseq_queue_texts', 'texts admitted and waiting to be decoded', registry=r)
        self.batch = Histogram('fastseq_batch_texts', 'texts per decoded batch', registry=r,
                               buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
        self.texts = Counter('fastseq_texts_translated', 'texts decoded', registry=r)
        self.words = Counter('fastseq_words_translated', 'source words decoded (whitespace-separated)', registry=r)
        self.dropped = Counter('fastseq_texts_dropped', 'texts admitted but never decoded: their client went away '
                               '(disconnected) or their deadline passed (deadline)', ['reason'], registry=r)
        for reason in ('disconnected', 'deadline'): self.dropped.labels(reason)

    def decoded(self, n_texts, n_words):
        "Count one decoded batch."
        self.batch.observe(n_texts); self.texts.inc(n_texts); self.words.inc(n_words)

    def exposition(self):
        "(body, content type) of the metrics in Prometheus' text format."
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class Observed:
    """ASGI middleware: an id per HTTP request (`scope['state']['id']`, and the X-Request-Id header), its status and
    latency counted in `telemetry`, and one JSON line on the 'fastseq.access' logger: id, method, path, status, texts,
    characters (set by the handler in `scope['state']`) and milliseconds."""
    def __init__(self, app, telemetry): self.app, self.telemetry = app, telemetry

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http': return await self.app(scope, receive, send)
        start, state = time.perf_counter(), scope.setdefault('state', {})
        state['id'], status = uuid.uuid4().hex[:16], [499]
        async def sending(message):
            if message['type'] == 'http.response.start':
                status[0] = message['status']
                message['headers'] = [*message.get('headers', []), (b'x-request-id', state['id'].encode())]
            await send(message)
        try: await self.app(scope, receive, sending)
        finally: self._record(scope, state, status[0], time.perf_counter() - start)

    def _record(self, scope, state, status, seconds):
        path = scope['path'] if scope['path'] in ROUTES else 'other'
        self.telemetry.requests.labels(path, str(status)).inc()
        self.telemetry.latency.labels(path).observe(seconds)
        ACCESS_LOG.info(json.dumps({'id': state['id'], 'method': scope['method'], 'path': path, 'status': status,
                                    'texts': state.get('texts', 0), 'chars': state.get('chars', 0),
                                    'ms': round(1000 * seconds, 1)}))
