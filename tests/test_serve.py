"""`fastseq serve` for real: a server process on 127.0.0.1 with the demo model, concurrent clients, every bad input,
request batching, and the page driven in headless Chromium."""
import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings

import httpx
import pytest
from fastai.learner import load_learner

from fastseq.bundle import save_bundle
from fastseq.datasets import phrasebook
from fastseq.inference import Info
from fastseq.serve import Limits, RequestBatcher, RequestError, parse_request


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(url, proc, timeout=90):
    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None: raise RuntimeError(f"the process ended: {proc.stdout.read()}")
        try: return httpx.get(url, timeout=2)
        except httpx.HTTPError: time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope='module')
def server(demo_notebook, tmp_path_factory):
    "The demo model (notebook 03's export) as a bundle, served by a real `fastseq serve` process."
    folder, _ = demo_notebook
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        translator = load_learner(folder / 'demo.pkl').translator()
    bundle = save_bundle(translator, tmp_path_factory.mktemp('serve') / 'demo')
    port = free_port()
    proc = subprocess.Popen([sys.executable, '-m', 'fastseq.cli', 'serve', str(bundle), '--port', str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + '/health', proc)
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


class Stub:
    "A translator that records its calls and fails on the text 'boom'."
    def __init__(self): self.calls = []
    def translate(self, texts, beam=1, with_attention=False, return_info=False):
        self.calls.append(list(texts))
        if 'boom' in texts: raise RuntimeError('boom')
        return [(t.upper(), Info(1, [], False)) if return_info else t.upper() for t in texts]


def test_requests_arriving_together_are_decoded_as_one_batch_and_a_failure_stays_alone():
    stub = Stub()
    async def run():
        batcher = RequestBatcher(stub, max_batch=64, wait_ms=50)
        batcher.start()
        return await asyncio.gather(*(batcher.translate(t) for t in (['a', 'b'], ['c'], ['boom'], ['d'])),
                                    return_exceptions=True)
    out = asyncio.run(run())
    texts = lambda result: [t for t, _ in result]
    assert [texts(r) for r in out[:2]] == [['A', 'B'], ['C']] and texts(out[3]) == ['D']
    assert isinstance(out[2], RuntimeError) and out[0][0][1] == Info(1, [], False)._asdict()
    assert stub.calls[0] == ['a', 'b', 'c', 'boom', 'd']            # one batch, then each request alone
    assert ['a', 'b'] in stub.calls[1:] and ['boom'] in stub.calls[1:]


def test_request_parsing_names_the_limit():
    with pytest.raises(RequestError, match='at most 3') as e:
        parse_request(b'{"texts": ["a", "b", "c", "d"]}', Limits(3))
    assert e.value.status == 413
    assert parse_request(b'{"texts": ["a"]}', Limits(), default_beam=4) == (['a'], 4, False)


CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


def test_the_page_translates_in_a_real_browser_and_draws_the_attention(server, tmp_path):
    if CHROMIUM is None:
        if os.environ.get('CI'): pytest.fail("no chromium: .ci/run installs it with apt-get")
        pytest.skip("no headless Chromium: `apt-get install chromium` to run this test")
    from websockets.sync.client import connect
    url, translator = server
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
            paragraph = "Nous avons vu trois petits chiens dans le jardin. Le chat noir est sous la table."
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
    (tmp_path / 'page.png').write_bytes(png)
    assert shown == translator.translate(paragraph) and shown
    sentences = translator.translate(paragraph, with_attention=True)
    words = lambda ws: [w for w in ws if w is not None]
    assert per_sentence == [[len(words(a.out_words)) * len(words(a.src_words)), len(words(a.out_words))]
                            for a in sentences] and len(sentences) == 2
    assert 'chiens' in labels and 'The' in labels and not any(label.startswith('xx') for label in labels)
    assert len(png) > 10_000


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
