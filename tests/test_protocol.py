"""The /translate protocol: bodies read as they stream (bounded in bytes and time), requests parsed and checked."""
import asyncio

import pytest

from fastseq.protocol import Limits, RequestError, drain_body, parse_request, read_body


def test_request_parsing_names_the_limit_and_the_cost():
    with pytest.raises(RequestError, match='at most 3') as e:
        parse_request(b'{"texts": ["a", "b", "c", "d"]}', Limits(3))
    assert e.value.status == 413
    assert parse_request(b'{"texts": ["a"]}', Limits(), default_beam=4) == (['a'], 4, False)
    body = b'{"texts": ["' + b'x' * 600 + b'"], "beam": 5}'
    assert parse_request(body, Limits(max_cost=3000))[1] == 5
    with pytest.raises(RequestError, match=r'costs 3,000 \(characters × beam\); at most 2,999') as e:
        parse_request(body, Limits(max_cost=2999))
    assert e.value.status == 413


def receiving(chunks, delay=0.):
    "An ASGI `receive` giving `chunks` as the body, `delay` seconds apart, then waiting forever."
    messages = [{'type': 'http.request', 'body': c, 'more_body': i < len(chunks) - 1} for i, c in enumerate(chunks)]
    async def receive():
        await asyncio.sleep(delay)
        if messages: return messages.pop(0)
        await asyncio.Event().wait()
    return receive, messages


def read(chunks, headers=None, max_body=100, timeout=5., delay=0.):
    receive, left = receiving(chunks, delay)
    try: return asyncio.run(read_body(receive, headers or {}, max_body, timeout)), len(left)
    except RequestError as e: return e, len(left)


def test_a_body_is_read_whole_within_its_bounds():
    assert read([b'{"te', b'xts": []}']) == (b'{"texts": []}', 0)
    assert read([b'x' * 100]) == (b'x' * 100, 0)


def test_a_body_over_the_limit_is_refused_as_it_arrives_declared_or_not():
    e, left = read([b'x' * 60] * 10)                                 # chunked: stops at the chunk that passes 100
    assert e.status == 413 and e.drain and 'over 100 bytes' in str(e) and left == 8
    e, left = read([b'x' * 60] * 10, {'content-length': '600'})      # declared: refused before reading
    assert e.status == 413 and 'the body is 600 bytes; at most 100' in str(e) and left == 10
    e, _ = read([b'x'], {'content-length': '12abc'})
    assert e.status == 400 and "'12abc' is not a number" in str(e)


def test_a_trickling_body_is_cut_after_the_read_timeout():
    e, left = read([b'x'] * 50, timeout=0.3, delay=0.05)
    assert e.status == 408 and 'within 0.3 s' in str(e) and e.headers == {'Connection': 'close'} and left > 30


def test_draining_reads_the_rest_up_to_its_bounds():
    receive, left = receiving([b'x' * 10] * 20)
    asyncio.run(drain_body(receive, 5., limit=55))
    assert len(left) == 14                                           # 6 chunks read: 60 bytes ≥ the limit of 55
    receive, left = receiving([b'x'] * 20)
    asyncio.run(drain_body(receive, 5.))
    assert not left
