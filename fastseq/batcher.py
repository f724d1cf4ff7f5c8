"""`RequestBatcher`: the server's admission and batching. Texts are admitted into a queue bounded in texts (a request
that does not fit is refused at once; while the queue is full, `RefusedWhenFull` refuses before reading the body),
requests arriving together are decoded as one batch in a worker thread, and a request whose client went away or whose
deadline passed is dropped before it is decoded."""
import asyncio
import math
import time
from dataclasses import dataclass, field

from .protocol import RequestError, attention_json
from .sentences import split_sentences

__all__ = ['RequestBatcher', 'RefusedWhenFull']


@dataclass(eq=False)
class _Job:
    "One admitted request: its texts and options, the future its answer goes to, its deadline (loop time), its state."
    texts: list
    beam: int
    attention: bool
    done: asyncio.Future
    deadline: float
    state: str = field(default='queued')   # queued → taken (decoding) | dropped


class RequestBatcher:
    """Decodes the texts of the requests that arrive within `wait_ms` of each other as one batch (at most `max_batch`
    texts; 1 turns batching off), one batch at a time in a worker thread; each request gets exactly its own results,
    in order. A batch that fails is decoded again request by request, so one bad request fails alone. At most
    `max_queue` texts wait: a request that does not fit is refused with 503 and Retry-After; a request not decoded
    within `timeout` seconds is answered 503 and dropped. `telemetry` (`Telemetry`) counts what happens."""
    def __init__(self, translator, max_batch=64, wait_ms=5., max_queue=256, timeout=30., telemetry=None):
        if telemetry is None:
            from .telemetry import Telemetry
            telemetry = Telemetry()
        self.translator, self.max_batch, self.wait, self.max_queue = translator, max_batch, wait_ms / 1000, max_queue
        self.timeout, self.telemetry = timeout, telemetry
        self.queue, self.worker, self.queued, self.rate = None, None, 0, None

    def start(self):
        self.queue = asyncio.Queue()
        self.worker = asyncio.get_running_loop().create_task(self._work())

    @property
    def full(self): return self.queued >= self.max_queue

    def retry_after(self):
        "Whole seconds until the texts now waiting are decoded, at the recent rate (1 to 60)."
        return 1 if not self.rate else min(60, max(1, math.ceil(self.queued / self.rate)))

    async def translate(self, texts, beam=1, attention=False, watch=None):
        """Translations of `texts` (with attention: (translation, attention JSON) pairs), decoded with others' texts;
        dropped undecoded if the coroutine `watch()` (which returns when the client disconnects) ends first."""
        if not texts: return []
        job = self._admit(texts, beam, attention)
        gone = None if watch is None else asyncio.ensure_future(watch())
        try:
            finished, _ = await asyncio.wait({job.done} if gone is None else {job.done, gone},
                                             timeout=job.deadline - asyncio.get_running_loop().time(),
                                             return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:                              # the request's task itself was cancelled
            self._drop(job, 'disconnected'); raise
        finally:
            if gone is not None: gone.cancel()
        if job.done in finished and not job.done.cancelled(): return job.done.result()
        left = gone is not None and gone in finished
        self._drop(job, 'disconnected' if left else 'deadline')
        if left: raise RequestError(499, 'the client went away')
        raise RequestError(503, f"no translation within {self.timeout:g} s: the server is overloaded",
                           {'Retry-After': str(self.retry_after())})

    def refusal(self, n_texts=1):
        "The 503 `RequestError` (with Retry-After) for a request of `n_texts` texts that do not fit; None if they fit."
        if self.queued + n_texts <= self.max_queue: return None
        wait = self.retry_after()
        return RequestError(503, f"the server is busy: {self.queued} texts are waiting and at most {self.max_queue} "
                                 f"may; retry in {wait} s", {'Retry-After': str(wait)})

    def _admit(self, texts, beam, attention):
        "A queued `_Job`, or a 503 `RequestError` with Retry-After when its texts do not fit in the queue."
        if (error := self.refusal(len(texts))) is not None: raise error
        loop = asyncio.get_running_loop()
        job = _Job(texts, beam, attention, loop.create_future(), loop.time() + self.timeout)
        self.queue.put_nowait(job)
        self._count(len(texts))
        return job

    def _count(self, n):
        self.queued += n
        self.telemetry.queue.set(self.queued)

    def _drop(self, job, reason):
        "Take a job that is still waiting out of the queue (its work is never done), counted under `reason`."
        if job.state != 'queued': return
        job.state = 'dropped'
        self._count(-len(job.texts))
        self.telemetry.dropped.labels(reason).inc(len(job.texts))
        job.done.cancel()

    def _take(self, job):
        "Whether `job` is to be decoded now: still queued and within its deadline (else dropped)."
        if job.state == 'queued' and asyncio.get_running_loop().time() > job.deadline: self._drop(job, 'deadline')
        if job.state != 'queued': return False
        job.state = 'taken'
        self._count(-len(job.texts))
        return True

    async def _work(self):
        while True:
            batch = await self._gather()
            for key in dict.fromkeys((job.beam, job.attention) for job in batch):
                group = [job for job in batch if (job.beam, job.attention) == key and self._take(job)]
                if group: await self._run(group)

    async def _run(self, group):
        "Decode `group` in the worker thread and answer each of its requests."
        start, n = time.perf_counter(), sum(len(job.texts) for job in group)
        results = await asyncio.get_running_loop().run_in_executor(None, self._decode_group, group)
        self.rate = n / max(time.perf_counter() - start, 1e-3)
        self.telemetry.decoded(n, sum(len(t.split()) for job in group for t in job.texts))
        for job, result in zip(group, results):
            if job.done.done(): continue                               # answered already (its deadline passed)
            if isinstance(result, Exception): job.done.set_exception(result)
            else: job.done.set_result(result)

    async def _next(self, timeout=None):
        "The next job still waiting in the queue (dropped ones are skipped), or `asyncio.TimeoutError`."
        while True:
            job = await (self.queue.get() if timeout is None else asyncio.wait_for(self.queue.get(), timeout))
            if job.state == 'queued': return job

    async def _gather(self):
        "The first waiting request and those arriving within `wait_ms` after it, up to `max_batch` texts."
        batch = [await self._next()]
        n, deadline = len(batch[0].texts), asyncio.get_running_loop().time() + self.wait
        while n < self.max_batch:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0: break
            try: job = await self._next(left)
            except asyncio.TimeoutError: break
            batch.append(job); n += len(job.texts)
        return batch

    def _decode_group(self, group):
        "Per request, its results or the exception it raised: all texts in one call, or one call each on failure."
        texts, beam, attention = [t for job in group for t in job.texts], group[0].beam, group[0].attention
        try: return self._split(group, self._decode(texts, beam, attention))
        except Exception:
            out = []
            for job in group:
                try: out.append(self._decode(job.texts, beam, attention))
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
        for job in group: out.append(results[i:i + len(job.texts)]); i += len(job.texts)
        return out


class RefusedWhenFull:
    """ASGI middleware: while `batcher`'s queue is full, a POST to `path` is answered 503 with Retry-After before its
    body is read or parsed, so that a burst of requests is refused at the cost of its headers (docs/serving.md)."""
    def __init__(self, app, batcher, path='/translate'): self.app, self.batcher, self.path = app, batcher, path

    async def __call__(self, scope, receive, send):
        error = self.batcher.refusal() if scope['type'] == 'http' and scope['path'] == self.path and \
            scope['method'] == 'POST' else None
        if error is None: return await self.app(scope, receive, send)
        from starlette.responses import JSONResponse
        await JSONResponse({'error': str(error)}, error.status, error.headers)(scope, receive, send)
