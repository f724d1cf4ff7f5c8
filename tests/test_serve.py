"""`fastseq serve` for real: a server process on 127.0.0.1 with the demo model, concurrent clients, every bad input,
request batching, and the page driven in headless Chromium."""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

import httpx
import pytest
import torch
from fastai.learner import load_learner

from fastseq.bundle import save_bundle
from fastseq.datasets import phrasebook
from fastseq.inference import Info
from fastseq.protocol import Limits


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(url, proc, timeout=90, log=None):
    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None: raise RuntimeError(f"the process ended: {log.read_text() if log else ''}")
        try: return httpx.get(url, timeout=2)
        except httpx.HTTPError: time.sleep(0.3)
    raise TimeoutError(url)


def start_server(bundle, log, *args):
    "A `fastseq serve` process on a free port of 127.0.0.1, its output in the file `log`: (process, url)."
    port = free_port()
    with open(log, 'w') as out:
        proc = subprocess.Popen([sys.executable, '-m', 'fastseq.cli', 'serve', str(bundle), '--port', str(port),
                                 *map(str, args)], stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try: wait_for(url + '/health', proc, log=log)
    except BaseException: proc.kill(); raise
    return proc, url


@pytest.fixture(scope='module')
def server(demo_notebook, tmp_path_factory):
    "The demo model (notebook 03's export) as a bundle, served by a real `fastseq serve` process."
    folder, _ = demo_notebook
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        translator = load_learner(folder / 'demo.pkl').translator()
    folder = tmp_path_factory.mktemp('serve')
    proc, url = start_server(save_bundle(translator, folder / 'demo'), folder / 'server.log')
    try:
        yield url, translator
    finally:
        proc.terminate(); proc.wait(timeout=30)


TEXTS = ["Le chat noir est sous la table.", "", "Où est la voiture de Marie ?", "Nous avons vu trois petits chiens.",
         "Zorvakine a vu 1 234 chats sur https://www.chats.fr/a ."]


@pytest.mark.parametrize('beam', [1, 3])
def test_json_round_trip_equals_translate_with_info_and_attention_per_sentence(server, beam):
    """Plain requests answer the translations and each one's `Info`; attention requests, each sentence's attention,
    its rows summing to 1, labelled with words as written and printed (no case markers, no eos)."""
    url, translator = server
    texts = TEXTS + ["Le chat noir est sous la table. Marie voit le petit chien."]
    plain = httpx.post(url + '/translate', json={'texts': texts, 'beam': beam}, timeout=60).json()
    expected = translator.translate(texts, beam=beam, return_info=True)
    assert plain == {'translations': [t for t, _ in expected], 'info': [info._asdict() for _, info in expected]}
    assert all(e in plain['translations'][4] for e in ('Zorvakine', '1 234', 'https://www.chats.fr/a'))
    assert [i['sentences'] for i in plain['info']] == [1, 0, 1, 1, 1, 2]
    r = httpx.post(url + '/translate', json={'texts': texts, 'beam': beam, 'attention': True}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body['translations'] == plain['translations'] and [len(a) for a in body['attention']] == [1, 0, 1, 1, 1, 2]
    for sentences in body['attention']:
        for att in sentences:
            assert len(att['weights']) == len(att['output_tokens'])
            assert all(len(row) == len(att['source_tokens']) and abs(sum(row) - 1) < 2e-3 for row in att['weights'])
            words = att['source_words'] + att['output_words']
            assert not any(w.startswith('xx') for w in words) and None not in words
            assert len(att['word_weights']) == len(att['output_words'])
            assert all(len(row) == len(att['source_words']) and abs(sum(row) - 1) < 5e-3 for row in att['word_weights'])
    first = body['attention'][0][0]
    assert first['source_words'][:3] == ['Le', 'chat', 'noir'] and first['output_words'][0] == 'The'
    assert 'Zorvakine' in body['attention'][4][0]['source_words']


def test_fifty_concurrent_clients_each_get_their_own_translations(server):
    url, translator = server
    sentences = list(dict.fromkeys(phrasebook(400, seed=5).fr))[:100]
    expected = dict(zip(sentences, translator.translate(sentences)))
    wrong, lost = [], []
    def client(i):
        with httpx.Client(timeout=120) as c:
            for j in range(20):
                texts = [sentences[(i * 20 + j + k) % len(sentences)] for k in range(1 + j % 3)]
                r = c.post(url + '/translate', json={'texts': texts})
                if r.status_code != 200: lost.append(r.text); continue
                if r.json()['translations'] != [expected[t] for t in texts]: wrong.append((texts, r.json()))
    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert not lost and not wrong, (lost[:2], wrong[:2])


BAD = [(b'{not json', 400, 'not valid JSON'), (b'[1, 2]', 400, 'a JSON object with a "texts" field'),
       (b'{"text": ["a"]}', 400, '"texts" field'), (b'{"texts": "a"}', 422, '"texts" must be a list of strings'),
       (b'{"texts": [1]}', 422, 'list of strings'), (b'{"texts": ["a"], "beam": "5"}', 422, '"beam" must be'),
       (b'{"texts": ["a"], "beam": 0}', 422, 'from 1 to 10'), (b'{"texts": ["a"], "attention": "yes"}', 422,
                                                               '"attention" must be true or false'),
       (json.dumps({'texts': ['a'] * 65}).encode(), 413, '65 texts; at most 64'),
       (json.dumps({'texts': ['a' * 1001]}).encode(), 413, 'text 0 has 1001 characters; at most 1000'),
       (json.dumps({'texts': ['a'] * 60_000}).encode(), 413, 'bytes; at most 262144')]


def test_bad_requests_get_their_status_and_a_clear_message_and_the_server_lives_on(server):
    url, _ = server
    for body, status, message in BAD:
        r = httpx.post(url + '/translate', content=body, headers={'content-type': 'application/json'}, timeout=30)
        assert r.status_code == status and message in r.json()['error'], (body[:40], r.status_code, r.text)
    assert httpx.post(url + '/translate', json={'texts': []}, timeout=30).json() == {'translations': [], 'info': []}
    assert httpx.post(url + '/translate', json={'texts': ['']}, timeout=30).json() == {
        'translations': [''], 'info': [{'sentences': 0, 'too_short': [], 'truncated': False}]}
    health = httpx.get(url + '/health', timeout=30).json()
    assert health['status'] == 'ok' and health['device'] == 'cpu' and health['src_vocab'] > 100


KEY = 'test-key-' + 'k' * 24


@pytest.fixture(scope='module')
def tiny(small_dls, tmp_path_factory):
    """An untrained tiny translator, weights drawn wide (init_range 1) so that each input gets its own output (a
    trained tiny model answers '' to everything, which would hide a server that mixed up answers), and its bundle."""
    from fastseq.learner import seq2seq_learner
    torch.manual_seed(0)
    learn = seq2seq_learner(small_dls, path=tmp_path_factory.mktemp('tiny'), emb_sz_src=32, emb_sz_tgt=32,
                            n_hid_enc=24, n_hid_dec=32, att_sz=16, bidir=True, init_range=1.)
    translator = learn.translator()
    return translator, save_bundle(translator, tmp_path_factory.mktemp('tiny') / 'tiny')


GATHER = 1.5                                        # seconds the guarded server gathers a batch


@pytest.fixture(scope='module')
def guarded(tiny, tmp_path_factory):
    """A server with an API key, a queue of 128 texts, a 2-second read timeout, and batches gathered for GATHER s (so
    that requests stay queued a while): a function giving (process, url, translator, log), starting the server again
    if a test stopped it."""
    folder, servers = tmp_path_factory.mktemp('guarded'), []
    (folder / 'keys').write_text(f"# keys\n{KEY}\n")
    def running():
        if not servers or servers[-1][0].poll() is not None:
            log = folder / f'server{len(servers)}.log'
            options = ('--api-key-file', folder / 'keys', '--max-queue', 128, '--read-timeout', 2,
                       '--wait-ms', int(GATHER * 1000), '--max-batch', 1000)
            servers.append((*start_server(tiny[1], log, *options), log))
        return (*servers[-1][:2], tiny[0], servers[-1][2])
    yield running
    for proc, *_ in servers: proc.kill(); proc.wait(timeout=30)


AUTH = {'Authorization': f'Bearer {KEY}'}
SENTENCES = list(dict.fromkeys(phrasebook(600, seed=7).fr))


def rss_mb(pid):
    return int(next(line for line in open(f'/proc/{pid}/status') if line.startswith('VmRSS')).split()[1]) / 1024


def metrics(url):
    "The server's metrics as {(name, labels as a sorted tuple): value}, parsed by prometheus_client."
    from prometheus_client.parser import text_string_to_metric_families
    text = httpx.get(url + '/metrics', headers=AUTH, timeout=30).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.xdist_group('guarded')
def test_a_key_is_needed_and_checked_and_the_probes_stay_open(guarded):
    _, url, translator, _ = guarded()
    body = {'texts': SENTENCES[:3]}
    assert httpx.post(url + '/translate', json=body, timeout=30).status_code == 401
    assert httpx.post(url + '/translate', json=body, headers={'Authorization': 'Bearer ' + 'x' * 33}).status_code == 401
    assert httpx.get(url + '/metrics', timeout=30).status_code == 401
    r = httpx.post(url + '/translate', json=body, headers=AUTH, timeout=30)
    assert r.status_code == 200 and r.json()['translations'] == translator.translate(SENTENCES[:3])
    assert httpx.get(url + '/health').status_code == 200 and httpx.get(url + '/ready').json()['ready'] is True


@pytest.mark.xdist_group('guarded')
def test_over_sized_bodies_get_a_readable_413_from_every_client_and_a_trickle_is_cut(guarded, tmp_path):
    import urllib.error
    import urllib.request
    proc, url, _, _ = guarded()
    pid = proc.pid
    before = rss_mb(pid)
    for size in (1 << 20, 10 << 20):
        body = json.dumps({'texts': ['a' * 1000] * (size // 1006)}).encode()
        try: urllib.request.urlopen(urllib.request.Request(url + '/translate', body, AUTH), timeout=30)
        except urllib.error.HTTPError as e: assert e.code == 413 and b'at most 262144' in e.read()
        r = httpx.post(url + '/translate', content=body, headers=AUTH, timeout=30)
        assert r.status_code == 413 and 'at most 262144' in r.json()['error']
        chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))      # chunked: no Content-Length
        r = httpx.post(url + '/translate', content=chunks, headers=AUTH, timeout=30)
        assert r.status_code == 413 and 'over 262144 bytes' in r.json()['error']
        if shutil.which('curl') or os.environ.get('CI'):
            (tmp_path / 'body').write_bytes(body)
            for extra in ([], ['-H', 'Transfer-Encoding: chunked']):
                out = subprocess.run(['curl', '-sS', '-w', '\n%{http_code}', '-H', f'Authorization: Bearer {KEY}',
                                      *extra, '--data-binary', f'@{tmp_path / "body"}', url + '/translate'],
                                     capture_output=True, text=True, timeout=60)
                assert out.stdout.endswith('\n413') and 'at most 262144' in out.stdout, (out.stdout, out.stderr)
    assert rss_mb(pid) - before < 100                                 # nothing was held whole
    host, port = url.removeprefix('http://').split(':')
    head = f'POST /translate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n'
    with socket.create_connection((host, int(port)), timeout=10) as s:     # 10× the limit, chunked: the 413 comes
        s.sendall((head + 'Transfer-Encoding: chunked\r\n\r\n').encode())  # after 2×, with 8× still unsent
        for _ in range(8): s.sendall(b'10000\r\n' + b'x' * 0x10000 + b'\r\n')
        assert s.recv(4096).startswith(b'HTTP/1.1 413')
    with socket.create_connection((host, int(port)), timeout=10) as s:     # a trickle: cut after the 2 s timeout
        s.sendall((head + 'Content-Length: 1000\r\n\r\n{').encode())
        start, answer = time.time(), b''
        while not answer.endswith(b'}') and time.time() - start < 8:
            s.sendall(b' '); time.sleep(0.2)
            s.setblocking(False)
            try: answer += s.recv(4096)
            except BlockingIOError: pass
            s.setblocking(True)
        assert answer.startswith(b'HTTP/1.1 408') and b'within 2 s' in answer and 1.8 < time.time() - start < 4


PROBE = """import json, sys, time, httpx
seen, end = [], time.time() + float(sys.argv[2])
with httpx.Client(timeout=30) as c:
    while time.time() < end:
        start = time.perf_counter(); c.get(sys.argv[1] + '/health'); seen.append(time.perf_counter() - start)
        time.sleep(0.02)
print(json.dumps(seen))"""


async def exchange(reader, writer, body, headers):
    "One POST /translate on an open connection: (status, headers, JSON answer, seconds)."
    data = json.dumps(body).encode()
    head = ''.join(f'{k}: {v}\r\n' for k, v in {'Host': 'test', 'Content-Type': 'application/json',
                                                  'Content-Length': len(data), **headers}.items())
    start = time.perf_counter()
    writer.write(f'POST /translate HTTP/1.1\r\n{head}\r\n'.encode() + data)
    status, *lines = (await reader.readuntil(b'\r\n\r\n')).decode().strip().split('\r\n')
    answer_headers = {k.lower(): v.strip() for k, _, v in (line.partition(':') for line in lines)}
    answer = json.loads(await reader.readexactly(int(answer_headers['content-length'])))
    return int(status.split()[1]), answer_headers, answer, time.perf_counter() - start


def overload(url, bodies, headers, rounds=3):
    """Every body in `bodies` POSTed by its own client (one connection, opened beforehand), all at once, `rounds`
    times in a row: per client and round, (status, headers, JSON answer, seconds)."""
    import asyncio
    host, port = url.removeprefix('http://').split(':')
    async def run():
        conns = [await asyncio.open_connection(host, int(port)) for _ in bodies]
        async def client(conn, body): return [await exchange(*conn, body, headers) for _ in range(rounds)]
        try: return await asyncio.gather(*(client(conn, body) for conn, body in zip(conns, bodies)))
        finally:
            for _, writer in conns: writer.close()
    return asyncio.run(run())


@pytest.mark.xdist_group('guarded')
def test_overload_is_refused_at_once_the_admitted_are_answered_right_and_health_stays_quick(guarded):
    """300 clients sending 64 texts each, all at once and three times in a row, against a queue of 128 texts: the
    admitted get their own translations, the rest 503 with Retry-After without waiting for the queue: all within the
    1.5-s gathering of a batch that a queued request waits for, half of them within a fifth of it (the event loop's
    time for 300 requests at once, with the other tests' load beside it; the burst's figures on a quiet machine are in
    docs/serving.md); a probe in another process gets /health within a third of it."""
    proc, url, translator, _ = guarded()
    pid = proc.pid
    requests = [[SENTENCES[(7 * i + k) % 100] for k in range(64)] for i in range(300)]   # 100 sentences, in 300 orders
    distinct = sorted({t for texts in requests for t in texts})
    expected, before = dict(zip(distinct, translator.translate(distinct))), rss_mb(pid)
    probe = subprocess.Popen([sys.executable, '-c', PROBE, url, '4'], stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    answers = overload(url, [{'texts': texts} for texts in requests], AUTH)
    seen = json.loads(probe.communicate(timeout=60)[0])
    admitted = [(i, a) for i, rounds in enumerate(answers) for a in rounds if a[0] == 200]
    refused = [a for rounds in answers for a in rounds if a[0] != 200]
    assert admitted and refused and len(admitted) + len(refused) == 900
    assert all(a[2]['translations'] == [expected[t] for t in requests[i]] for i, a in admitted)
    assert all(status == 503 and int(head['retry-after']) >= 1 and 'the server is busy' in body['error']
               for status, head, body, _ in refused)
    waits = sorted(seconds for *_, seconds in refused)
    assert waits[len(waits) // 2] < GATHER / 5 and waits[-1] < GATHER, (waits[len(waits) // 2], waits[-1])
    assert max(seen) < GATHER / 3 and len(seen) > 50, max(seen)
    assert rss_mb(pid) - before < 200


@pytest.mark.xdist_group('guarded')
def test_metrics_parse_and_count_what_was_sent_and_the_access_log_has_no_text(guarded):
    _, url, _, log = guarded()
    before = metrics(url)
    texts = ['Le chat dort.', 'Où est Marie ?']
    for _ in range(3): httpx.post(url + '/translate', json={'texts': texts}, headers=AUTH, timeout=30)
    for _ in range(2): httpx.post(url + '/translate', json={'texts': texts}, timeout=30)
    httpx.post(url + '/translate', json={'texts': texts * 40}, headers=AUTH, timeout=30)
    after = metrics(url)
    delta = lambda name, **labels: after.get((name, tuple(sorted(labels.items()))), 0) - before.get(
        (name, tuple(sorted(labels.items()))), 0)
    assert delta('fastseq_requests_total', path='/translate', status='200') == 3
    assert delta('fastseq_requests_total', path='/translate', status='401') == 2
    assert delta('fastseq_requests_total', path='/translate', status='413') == 1
    assert delta('fastseq_texts_translated_total') == 6 and delta('fastseq_words_translated_total') == 3 * (3 + 4)
    assert delta('fastseq_request_seconds_count', path='/translate') == 6
    assert after[('fastseq_queue_texts', ())] == 0 and delta('fastseq_batch_texts_count') >= 1
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith('{')]
    assert {'id', 'method', 'path', 'status', 'texts', 'chars', 'ms'} <= set(lines[-1])
    assert [line['status'] for line in lines if line['path'] == '/translate'][-6:] == [200, 200, 200, 401, 401, 413]
    assert 'chat' not in log.read_text() and any(line['chars'] == 27 for line in lines)


def test_a_server_open_to_other_machines_needs_keys_and_options_that_cannot_work_are_named(tiny):
    from conftest import call
    r = call('serve', tiny[1], '--host', '0.0.0.0')
    assert r.returncode == 2 and '--host 0.0.0.0 lets other machines connect' in r.stderr
    assert '--api-key-file' in r.stderr and '--no-auth' in r.stderr
    for args, message in ((['--workers', 0], '--workers must be 1 or more, got 0'),
                          (['--max-queue', 10], "--max-queue (10) must hold one request's --max-texts (64)"),
                          (['--read-timeout', 0], '--read-timeout must be more than 0 seconds, got 0.0')):
        r = call('serve', tiny[1], *args)
        assert r.returncode == 2 and message in r.stderr, r.stderr


def test_an_internal_error_answers_500_with_an_id_and_logs_the_traceback(caplog):
    from starlette.testclient import TestClient
    from fastseq.serve import create_app
    class Failing:
        def translate(self, texts, **kwargs):
            if texts != ['.']: raise RuntimeError('secret detail /home/user/model')
    with TestClient(create_app(Failing())) as client:
        r = client.post('/translate', json={'texts': ['Bonjour.']})
    assert r.status_code == 500 and r.json() == {'error': 'internal error', 'id': r.headers['x-request-id']}
    assert 'secret' not in r.text
    record = next(rec for rec in caplog.records if rec.name == 'fastseq.serve')
    assert r.json()['id'] in record.getMessage() and 'secret detail' in str(record.exc_info[1])


def test_cors_is_off_unless_origins_are_named_and_a_full_queue_shows_in_ready_and_refuses_unread():
    from starlette.testclient import TestClient
    from fastseq.serve import ServeConfig, create_app
    class Held:
        "A translator whose decoding waits until released."
        def __init__(self): self.release = threading.Event()
        def translate(self, texts, **kwargs):
            if texts != ['.']: self.release.wait(30)
            return [(t, Info(1, [], False)) for t in texts]
    preflight = {'Origin': 'https://a.example', 'Access-Control-Request-Method': 'POST'}
    with TestClient(create_app(Held())) as client:
        assert 'access-control-allow-origin' not in client.options('/translate', headers=preflight).headers
    held = Held()
    config = ServeConfig(cors_origin='https://a.example', max_queue=2, limits=Limits(max_texts=2))
    with TestClient(create_app(held, config=config)) as client:
        assert client.options('/translate', headers=preflight).headers['access-control-allow-origin'] == \
            'https://a.example'
        other = client.options('/translate', headers={**preflight, 'Origin': 'https://b.example'})
        assert 'access-control-allow-origin' not in other.headers
        assert client.get('/ready').json() == {'ready': True, 'queued_texts': 0}
        posts = [threading.Thread(target=client.post, args=('/translate',), kwargs={'json': {'texts': ['a', 'b']}})
                 for _ in range(2)]                                    # one decoding (held), one waiting: full
        for t in posts: t.start(); time.sleep(0.3)
        full = client.get('/ready')
        early = client.post('/translate', content=b'{"texts": ["a"')     # refused before its body is even parsed
        held.release.set()
        for t in posts: t.join()
        assert full.status_code == 503 and full.json()['why'] == 'the queue is full' and 'retry-after' in full.headers
        assert early.status_code == 503 and 'the server is busy' in early.json()['error'] and \
            int(early.headers['retry-after']) >= 1
        assert client.get('/ready').status_code == 200


@pytest.mark.xdist_group('guarded')
def test_clients_that_disconnect_have_nothing_decoded_and_the_queue_drains(guarded):
    _, url, translator, _ = guarded()
    host, port = url.removeprefix('http://').split(':')
    dropped = ('fastseq_texts_dropped_total', (('reason', 'disconnected'),))
    translated = ('fastseq_texts_translated_total', ())
    before, sockets = metrics(url), []
    for i in range(100):
        body = json.dumps({'texts': [SENTENCES[i]]}).encode()
        s = socket.create_connection((host, int(port)))
        s.sendall(f'POST /translate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Length: '
                  f'{len(body)}\r\n\r\n'.encode() + body)
        sockets.append(s)
    for s in sockets: s.close()
    start = time.time()
    while (m := metrics(url))[dropped] - before[dropped] < 100:
        assert time.time() - start < 10, m
        time.sleep(0.2)
    time.sleep(2)                                                     # past the batch's 1.5 s of gathering
    m = metrics(url)
    assert m[translated] == before[translated] and m[dropped] - before[dropped] == 100
    assert m[('fastseq_queue_texts', ())] == 0
    r = httpx.post(url + '/translate', json={'texts': SENTENCES[:2]}, headers=AUTH, timeout=30)
    assert r.json()['translations'] == translator.translate(SENTENCES[:2])


@pytest.mark.xdist_group('guarded')
def test_sigterm_answers_the_requests_in_flight_then_exits_0(guarded):
    proc, url, translator, _ = guarded()
    answers = []
    clients = threading.Thread(target=lambda: answers.extend(overload(url, [{'texts': [t]} for t in SENTENCES[:50]],
                                                                      AUTH, rounds=1)))
    clients.start()
    start = time.time()
    while metrics(url)[('fastseq_queue_texts', ())] < 50: assert time.time() - start < 20; time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    clients.join()
    assert proc.wait(timeout=30) == 0
    assert [a[0][0] for a in answers] == [200] * 50
    assert [a[0][2]['translations'][0] for a in answers] == translator.translate(SENTENCES[:50])
    with pytest.raises(httpx.ConnectError): httpx.get(url + '/health', timeout=5)


CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


def test_the_page_translates_in_a_real_browser_and_draws_the_attention(server, tmp_path):
    """The page, served at a default beam of 2 (as a distilled student's may be), shows that beam, translates a
    paragraph at it and draws each sentence's attention."""
    if CHROMIUM is None:
        if os.environ.get('CI'): pytest.fail("no chromium: .ci/run installs it with apt-get")
        pytest.skip("no headless Chromium: `apt-get install chromium` to run this test")
    _, translator = server
    paragraph = "Nous avons vu trois petits chiens dans le jardin. Le chat noir est sous la table."
    proc, url = start_server(save_bundle(translator, tmp_path / 'demo'), tmp_path / 'server.log', '--beam', 2)
    try: beam, shown, per_sentence, labels, png = _page_translates(url, paragraph, tmp_path)
    finally: proc.terminate(); proc.wait(timeout=30)
    (tmp_path / 'page.png').write_bytes(png)
    assert beam == '2' and shown == translator.translate(paragraph, beam=2) and shown
    sentences = translator.translate(paragraph, beam=2, with_attention=True)
    words = lambda ws: [w for w in ws if w is not None]
    assert per_sentence == [[len(words(a.out_words)) * len(words(a.src_words)), len(words(a.out_words))]
                            for a in sentences] and len(sentences) == 2
    assert 'chiens' in labels and 'The' in labels and not any(label.startswith('xx') for label in labels)
    assert len(png) > 10_000


def _page_translates(url, paragraph, tmp_path):
    """Headless Chromium opens the page at `url`, reads its beam field, translates `paragraph` with the button: (beam
    field, translation shown, per sentence [heatmap cells, step plots], labels, screenshot PNG)."""
    from websockets.sync.client import connect
    port = free_port()
    args = ['--headless=new', '--no-sandbox', '--disable-gpu', f'--remote-debugging-port={port}',
            f'--user-data-dir={tmp_path / "profile"}', '--window-size=1200,1400', 'about:blank']
    browser = subprocess.Popen([CHROMIUM, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pages = wait_for(f"http://127.0.0.1:{port}/json/list", browser).json()
        ws_url = next(p['webSocketDebuggerUrl'] for p in pages if p['type'] == 'page')
        with connect(ws_url, max_size=None) as ws:
            cdp = Devtools(ws)
            cdp('Page.enable'); cdp('Page.navigate', url=url + '/')
            cdp.until("document.readyState === 'complete' && !!document.getElementById('translate')")
            cdp.until("document.getElementById('model').textContent.includes('→')")
            beam = cdp.js("document.getElementById('beam').value")
            cdp.js(f"document.getElementById('source').value = {json.dumps(paragraph)};"
                   "document.getElementById('translate').click(); true")
            cdp.until("document.querySelectorAll('.sentence .cell').length > 0")
            shown = cdp.js("document.getElementById('translation').textContent")
            per_sentence = cdp.js("[...document.querySelectorAll('.sentence')].map(s => [s.querySelectorAll('.cell')"
                                  ".length, s.querySelectorAll('.step').length])")
            labels = cdp.js("[...document.querySelectorAll('.sentence .label')].map(l => l.textContent)")
            png = base64.b64decode(cdp('Page.captureScreenshot', format='png')['data'])
    finally:
        browser.terminate(); browser.wait(timeout=30)
    return beam, shown, per_sentence, labels, png


class Devtools:
    "The few Chrome DevTools Protocol calls the browser test needs, over one websocket."
    def __init__(self, ws): self.ws, self.n = ws, 0

    def __call__(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({'id': self.n, 'method': method, 'params': params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get('id') == self.n:
                if 'error' in msg: raise RuntimeError(msg['error'])
                return msg['result']

    def js(self, expr): return self('Runtime.evaluate', expression=expr, returnByValue=True)['result'].get('value')

    def until(self, expr, timeout=60):
        start = time.time()
        while not self.js(expr):
            if time.time() - start > timeout: raise TimeoutError(expr)
            time.sleep(0.2)
