"""API keys: read from a file and the environment, checked as a Bearer header, and required of a server that other
machines can reach."""
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from fastseq.errors import OptionError
from fastseq.guard import Authenticated, check_exposure, load_keys

KEY, OTHER = 'k' * 20, 'o' * 24


def test_keys_come_from_the_file_and_the_variable_and_short_ones_are_refused(tmp_path):
    path = tmp_path / 'keys'
    path.write_text(f"# the team's keys\n{KEY}\n\n  {OTHER}  \n")
    assert load_keys(path, {}) == [KEY, OTHER]
    assert load_keys(None, {'FASTSEQ_API_KEYS': f"{KEY}, {OTHER}"}) == [KEY, OTHER]
    assert load_keys(path, {'FASTSEQ_API_KEYS': 'x' * 16}) == [KEY, OTHER, 'x' * 16]
    path.write_text(f"{KEY}\nshort\n")
    with pytest.raises(OptionError, match=r'keys, line 2: an API key of 5 characters is too easy to guess'):
        load_keys(path, {})
    with pytest.raises(OptionError, match='api_key_file .*missing'):
        load_keys(tmp_path / 'missing', {})


def test_a_server_other_machines_reach_needs_keys_or_an_explicit_no():
    for host in ('127.0.0.1', 'localhost', '::1', '127.0.0.2'): check_exposure(host, [])
    for host in ('0.0.0.0', '192.168.1.5', '::', 'example.org'):
        with pytest.raises(OptionError, match=f"host {host} lets other machines connect and no API key is set"):
            check_exposure(host, [])
        check_exposure(host, [KEY]); check_exposure(host, [], auth=False)
    with pytest.raises(OptionError, match='API keys are given and auth is off'): check_exposure('0.0.0.0', [KEY], False)


def test_requests_need_a_valid_bearer_key_except_on_open_paths():
    ok = lambda request: PlainTextResponse('ok')
    app = Authenticated(Starlette(routes=[Route('/translate', ok, methods=['POST']), Route('/health', ok)]),
                        [KEY, OTHER])
    client = TestClient(app)
    for headers in ({}, {'Authorization': 'Bearer wrong'}, {'Authorization': f'Basic {KEY}'},
                    {'Authorization': f'Bearer {KEY[:-1]}'}, {'Authorization': KEY}):
        r = client.post('/translate', headers=headers)
        assert r.status_code == 401 and r.headers['www-authenticate'] == 'Bearer', headers
        assert 'Authorization: Bearer KEY' in r.json()['error']
    for key in (KEY, OTHER):
        assert client.post('/translate', headers={'Authorization': f'Bearer {key}'}).text == 'ok'
    assert client.get('/health').text == 'ok'
    assert TestClient(Authenticated(app.app, [])).post('/translate').text == 'ok'   # no keys: open
