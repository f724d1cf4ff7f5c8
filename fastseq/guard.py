"""Who may call `fastseq serve`: API keys (a file, one per line, or `FASTSEQ_API_KEYS`), checked as
`Authorization: Bearer KEY` in constant time by the ASGI middleware `Authenticated`, and the rule that a server
reachable from other machines needs keys unless authentication is turned off explicitly."""
import hmac
import ipaddress
import os
from pathlib import Path

from .errors import OptionError

__all__ = ['load_keys', 'check_exposure', 'Authenticated', 'KEYS_VARIABLE', 'MIN_KEY_LEN', 'OPEN_PATHS']

KEYS_VARIABLE = 'FASTSEQ_API_KEYS'
MIN_KEY_LEN = 16                                  # shorter keys are guessable; `secrets.token_urlsafe()` gives 43
OPEN_PATHS = ('/', '/health', '/ready')           # probes and the page answer without a key; the page sends one


def load_keys(path=None, environ=None):
    """The API keys of `path` (one per line; blank lines and lines starting with # are skipped) and of the variable
    FASTSEQ_API_KEYS (comma- or space-separated); a key under `MIN_KEY_LEN` characters is an error naming where."""
    found = []
    if path is not None:
        try: lines = Path(path).read_text(encoding='utf-8').splitlines()
        except OSError as e: raise OptionError(f"api_key_file {path}: {e.strerror or e}", 'api_key_file') from None
        found += [(k.strip(), f"{path}, line {i}") for i, k in enumerate(lines, 1)
                  if k.strip() and not k.strip().startswith('#')]
    variable = (os.environ if environ is None else environ).get(KEYS_VARIABLE, '')
    found += [(k, KEYS_VARIABLE) for k in variable.replace(',', ' ').split()]
    for key, where in found:
        if len(key) < MIN_KEY_LEN:
            raise OptionError(f"{where}: an API key of {len(key)} characters is too easy to guess; use at least "
                              f"{MIN_KEY_LEN} (python -c 'import secrets; print(secrets.token_urlsafe())')",
                              'api_key_file')
    return [k for k, _ in found]


def is_loopback(host):
    "Whether binding `host` keeps the server on this machine."
    if host == 'localhost': return True
    try: return ipaddress.ip_address(host).is_loopback
    except ValueError: return False


def check_exposure(host, keys, auth=True):
    "Refuse a server reachable from other machines without API keys, unless `auth` is False (said explicitly)."
    if not auth and keys: raise OptionError("API keys are given and auth is off: drop one of them", 'auth')
    if auth and not keys and not is_loopback(host):
        raise OptionError(f"host {host} lets other machines connect and no API key is set: give api_key_file or "
                          f"{KEYS_VARIABLE}, or turn auth off explicitly (no_auth) to serve without keys",
                          'host', 'api_key_file', 'no_auth')


class Authenticated:
    """ASGI middleware: an HTTP request outside `OPEN_PATHS` (and not a CORS preflight) needs `Authorization: Bearer
    KEY` with one of `keys`, compared in constant time; else 401 with WWW-Authenticate. No keys: everything passes."""
    def __init__(self, app, keys):
        self.app, self.keys = app, [k.encode() for k in keys]

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http' or not self.keys or scope['path'] in OPEN_PATHS or scope['method'] == 'OPTIONS' or \
                self._valid(dict(scope['headers']).get(b'authorization', b'')):
            return await self.app(scope, receive, send)
        from starlette.responses import JSONResponse
        await JSONResponse({'error': 'a valid API key is needed: send the header "Authorization: Bearer KEY"'}, 401,
                           {'WWW-Authenticate': 'Bearer'})(scope, receive, send)

    def _valid(self, header):
        "Whether `header` is 'Bearer KEY' with a known KEY; every key is compared, in constant time."
        scheme, _, given = header.partition(b' ')
        matches = [hmac.compare_digest(given.strip(), key) for key in self.keys]
        return scheme.lower() == b'bearer' and any(matches)
