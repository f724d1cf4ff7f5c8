"""`RequestBatcher`: requests batched together, a failure alone, the queue bounded in texts, and the work of clients
that went away or ran out of time dropped before it is decoded."""
import asyncio

import pytest

from fastseq.batcher import RequestBatcher
from fastseq.inference import Info
from fastseq.protocol import RequestError
from fastseq.telemetry import Telemetry


class Stub:
    "A translator that records its calls and fails on the text 'boom'."
    def __init__(self): self.calls = []
    def translate(self, texts, beam=1, with_attention=False, return_info=False):
        self.calls.append(list(texts))
        if 'boom' in texts: raise RuntimeError('boom')
        return [(t.upper(), Info(1, [], False)) if return_info else t.upper() for t in texts]


def texts_of(result): return [t for t, _ in result]


def test_requests_arriving_together_are_decoded_as_one_batch_and_a_failure_stays_alone():
    stub = Stub()
    async def run():
        batcher = RequestBatcher(stub, max_batch=64, wait_ms=50)
        batcher.start()
        return await asyncio.gather(*(batcher.translate(t) for t in (['a', 'b'], ['c'], ['boom'], ['d'])),
                                    return_exceptions=True)
    out = asyncio.run(run())
    assert [texts_of(r) for r in out[:2]] == [['A', 'B'], ['C']] and texts_of(out[3]) == ['D']
    assert isinstance(out[2], RuntimeError) and out[0][0][1] == Info(1, [], False)._asdict()
    assert stub.calls[0] == ['a', 'b', 'c', 'boom', 'd']            # one batch, then each request alone
    assert ['a', 'b'] in stub.calls[1:] and ['boom'] in stub.calls[1:]


def count(telemetry, name, **labels):
    return telemetry.registry.get_sample_value(name, labels or None) or 0.


def test_a_request_that_does_not_fit_the_queue_is_refused_at_once_with_retry_after():
    stub, telemetry = Stub(), Telemetry()
    async def run():
        batcher = RequestBatcher(stub, max_batch=64, wait_ms=200, max_queue=5, telemetry=telemetry)
        batcher.start()
        first = asyncio.ensure_future(batcher.translate(['a', 'b', 'c']))
        await asyncio.sleep(0.01)
        assert batcher.queued == 3 and count(telemetry, 'fastseq_queue_texts') == 3
        with pytest.raises(RequestError, match='3 texts are waiting and at most 5 may') as e:
            await batcher.translate(['d', 'e', 'f'])
        fits = await batcher.translate(['g', 'h'])                   # 3 + 2 fit
        return e.value, await first, fits, batcher.queued
    refusal, first, fits, left = asyncio.run(run())
    assert refusal.status == 503 and int(refusal.headers['Retry-After']) >= 1
    assert texts_of(first) == ['A', 'B', 'C'] and texts_of(fits) == ['G', 'H'] and left == 0
    assert not any('d' in call for call in stub.calls)


def test_work_of_a_client_that_left_or_ran_out_of_time_is_never_decoded():
    stub, telemetry = Stub(), Telemetry()
    async def run():
        batcher = RequestBatcher(stub, max_batch=64, wait_ms=300, timeout=0.15, telemetry=telemetry)
        batcher.start()
        gone = asyncio.Event()
        leaving = asyncio.ensure_future(batcher.translate(['left'], watch=gone.wait))
        late = asyncio.ensure_future(batcher.translate(['late']))
        await asyncio.sleep(0.05)
        gone.set()                                                    # the first client disconnects
        cancelled = asyncio.ensure_future(batcher.translate(['cancelled']))
        await asyncio.sleep(0.01)
        cancelled.cancel()                                            # its request's task is cancelled
        results = await asyncio.gather(leaving, late, return_exceptions=True)
        await asyncio.sleep(0.4)                                      # the gathering window ends: nothing to decode
        return results, batcher.queued
    (leaving, late), left = asyncio.run(run())
    assert leaving.status == 499 and late.status == 503 and 'within 0.15 s' in str(late)
    assert left == 0 and stub.calls == []
    assert count(telemetry, 'fastseq_texts_dropped_total', reason='disconnected') == 2
    assert count(telemetry, 'fastseq_texts_dropped_total', reason='deadline') == 1
    assert count(telemetry, 'fastseq_texts_translated_total') == 0
