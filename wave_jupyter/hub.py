"""waved's hub API, for Wave programs in other processes: scripts that save pages, apps that ``wave run`` serves.

Under the server's ``root`` and behind a second key, as waved guards it: every request carries the server's access
key pair (HTTP basic auth), which :func:`hub_env` hands to a child process with the rest of what the SDK reads.

* ``POST {root}`` ``{"register_app": {...}}`` / ``{"unregister_app": {...}}``: an app in another process
  (:class:`~.remote.RemoteApp`) takes a route, or leaves it. A notebook's own app keeps its route (409).
* ``PATCH {root}<page>`` ``{"d": [...]}``: ops for a page, the same pages our apps and scripts write;
  ``GET {root}<page>`` (JSON): the stored page.
* ``GET/PUT/DELETE {root}_c/<shard>[/<key>]``: ``q.site.cache``, the same values as our apps'.
* ``POST``/``DELETE {root}_m/<path>``: a frame of an uplinked stream, the stream's end (browsers get it from
  ``handlers.StreamHandler``).
* Uploads are the browser's handlers (``POST {root}_f/``; ``GET``/``DELETE {base}_f/<key>/<name>``, see
  ``Server.check``). waved's proxy (``_p/``) is not served: 501.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

from tornado.httputil import HTTPServerRequest
from tornado.routing import Matcher
from tornado.web import HTTPError, RequestHandler

from . import protocol
from .app import App
from .handlers import Guarded, Host
from .modes import MODES
from .remote import RemoteApp
from .security import KeyPair

log = logging.getLogger('wave_jupyter')

_MIME = re.compile(r'[\w.+-]+/[\w.+-]+')

class HubHost(Host, Protocol):
    """What the hub uses of the server besides what every handler does."""

    root: str
    hub_keys: KeyPair


class HubMatcher(Matcher):
    """The hub's requests among the browser's at the same paths: they carry ``Authorization`` and are a write, a
    JSON read, or a cache request. An upload or the socket is never the hub's."""

    def __init__(self, root: str) -> None:
        self.root = root

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        path = request.path
        if not path.startswith(self.root) or 'Authorization' not in request.headers:
            return None
        rest = path[len(self.root):]
        if rest.startswith(('_f/', '_s')):
            return None
        method = request.method
        json_read = method in ('GET', 'HEAD') and request.headers.get('Content-Type', '').startswith(
            'application/json')
        hub_path = rest.startswith(('_c/', '_m/', '_p/'))
        if (method == 'POST' and rest == '') or method == 'PATCH' or json_read or hub_path:
            return {'path_args': [unquote_to_bytes(rest)], 'path_kwargs': {}}
        return None


class HubHandler(Guarded, RequestHandler):
    """The hub API: nothing here runs without the server's key pair."""

    server: HubHost

    def prepare(self) -> None:
        super().prepare()
        if not self.server.hub_keys.matches(self.request.headers.get('Authorization')):
            # No WWW-Authenticate: a browser never prompts for (or remembers) the pair.
            raise HTTPError(401, reason='Unauthorized: the hub API needs this server\'s access key pair '
                                        '(%wave env, or `python -m wave_jupyter serve`, prints it)')
        if self.path_args and self.path_args[0].startswith('_p/'):
            raise HTTPError(501, reason='Not Implemented: wave_jupyter serves no proxy (_p/)')

    def _json(self) -> Any:
        try:
            return json.loads(self.request.body)
        except (ValueError, RecursionError):
            raise HTTPError(400, reason='Bad Request: the body is not JSON') from None

    def _reply(self, text: str = '', content_type: str = 'text/plain; charset=UTF-8') -> None:
        self.set_header('Content-Type', content_type)
        self.finish(text)

    # --- apps ----------------------------------------------------------------------------------------------------

    def post(self, rest: str) -> None:
        if rest.startswith('_m/'):
            self._uplink(rest[3:])
            return
        doc = self._json()
        if isinstance(doc, dict) and isinstance(doc.get('register_app'), dict):
            self._register(doc['register_app'])
        elif isinstance(doc, dict) and isinstance(doc.get('unregister_app'), dict):
            route = doc['unregister_app'].get('route')
            existing = self.server.runtime.broker.apps.get(route) if isinstance(route, str) else None
            if isinstance(existing, RemoteApp):
                self.server.runtime.unregister(existing)
                self.server.runtime.spawn(existing.shutdown())
        else:
            raise HTTPError(400, reason='Bad Request: expected {"register_app": {...}} or {"unregister_app": {...}}')
        self._reply()

    def _register(self, spec: dict) -> None:
        route, mode, address = spec.get('route'), spec.get('mode') or 'unicast', spec.get('address')
        key_id, key_secret = spec.get('key_id'), spec.get('key_secret')
        if not (isinstance(route, str) and route.startswith('/') and '\n' not in route):
            raise HTTPError(400, reason='Bad Request: register_app needs a route that starts with "/"')
        if mode not in MODES:
            raise HTTPError(400, reason=f'Bad Request: mode must be one of {", ".join(MODES)}')
        if not (isinstance(address, str) and re.fullmatch(r'https?://[^\s/]+(/\S*)?', address)):
            raise HTTPError(400, reason='Bad Request: register_app needs the app\'s http(s) address')
        if not (isinstance(key_id, str) and isinstance(key_secret, str) and key_id and key_secret):
            raise HTTPError(400, reason='Bad Request: register_app needs the app\'s key_id and key_secret')
        runtime = self.server.runtime
        existing = runtime.broker.apps.get(route)
        if isinstance(existing, App):
            log.warning('wave_jupyter: an app at %s tried to register over the notebook\'s own app there', address)
            raise HTTPError(409, reason=f'Conflict: {route} is served by an app of this notebook; stop it first')
        if existing is not None:
            runtime.unregister(existing)
            runtime.spawn(existing.shutdown())
        runtime.register(RemoteApp(runtime, route, mode, address, KeyPair(key_id, key_secret)))
        log.info('wave_jupyter: %s is served by %s', route, address)

    # --- pages ---------------------------------------------------------------------------------------------------

    def patch(self, rest: str) -> None:
        path = '/' + rest
        doc = self._json()
        if not (isinstance(doc, dict) and isinstance(doc.get('d'), list)):
            raise HTTPError(400, reason='Bad Request: expected an ops document {"d": [...]}')
        try:
            raw = self.request.body.decode('utf-8')
        except UnicodeDecodeError:  # JSON in UTF-16 or -32: json reads it, the UI would not
            raw = '\n'
        if '\n' in raw or '\r' in raw:
            raw = protocol.dumps(doc)  # the UI splits frames on newlines
        try:
            self.server.runtime.publish(path, raw, doc['d'])
        except (ValueError, TypeError, KeyError) as e:
            raise HTTPError(400, reason=f'Bad Request: {e}'.replace('\n', ' ')) from None
        self._reply()

    def get(self, rest: str) -> None:
        if rest.startswith('_c/'):
            self._cache_get(rest[3:])
            return
        page = self.server.runtime.broker.pages.dump('/' + rest)
        if page is None:
            raise HTTPError(404, reason='Not Found: no page there')
        self._reply(protocol.page_doc(page), 'application/json')

    # --- streams -------------------------------------------------------------------------------------------------

    def _uplink(self, path: str) -> None:
        """``q.site.uplink``: one frame of a stream, as a multipart body with one file."""
        if not path or (not self.request.files and not self.request.body):
            raise HTTPError(400, reason='Bad Request: expected _m/<path> and a multipart body with one file')
        files = [f for parts in self.request.files.values() for f in parts]
        if len(files) != 1:
            raise HTTPError(400, reason='Bad Request: an uplink carries one file (multipart/form-data)')
        content_type = files[0].content_type if _MIME.fullmatch(files[0].content_type or '') else \
            'application/octet-stream'
        self.server.runtime.streams.publish(path, content_type, files[0].body)
        self._reply()

    # --- the cache -----------------------------------------------------------------------------------------------

    def _shard_key(self, rest: str) -> tuple[str, str]:
        shard, _, key = rest[3:].partition('/') if rest.startswith('_c/') else ('', '', '')
        if not shard or not key or '/' in key:
            raise HTTPError(400, reason='Bad Request: expected _c/<shard>/<key>')
        return shard, key

    def _cache_get(self, rest: str) -> None:
        shards = self.server.runtime.cache
        shard, slash, key = rest.partition('/')
        if not slash or not key:
            self._reply('\n'.join(shards.get(shard.rstrip('/'), {})))
            return
        if key not in shards.get(shard, {}):
            raise HTTPError(404, reason='Not Found')
        try:
            self._reply(protocol.dumps(shards[shard][key]), 'application/json')
        except (TypeError, ValueError):
            log.warning('wave_jupyter: q.site.cache %s/%s holds a value that is not JSON', shard, key)
            raise HTTPError(404, reason='Not Found: the value is not JSON') from None

    def put(self, rest: str) -> None:
        shard, key = self._shard_key(rest)
        value = self._json()
        shards = self.server.runtime.cache
        if value is None:
            shards.get(shard, {}).pop(key, None)
        else:
            shards.setdefault(shard, {})[key] = value
        self._reply()

    def delete(self, rest: str) -> None:
        if rest.startswith('_m/'):
            if not self.server.runtime.streams.end(rest[3:]):
                raise HTTPError(404, reason='Not Found: no such stream')
            self._reply()
            return
        shard, key = self._shard_key(rest)
        self.server.runtime.cache.get(shard, {}).pop(key, None)
        self._reply()


def hub_env(host: str, port: int, root: str, keys: KeyPair) -> dict[str, str]:
    """What an h2o_wave program in another process needs to use this server as its Wave server (``wave run``
    included: it must find the server at ``H2O_WAVE_LISTEN`` and start no waved of its own)."""
    return {
        'H2O_WAVE_ADDRESS': f'http://{host}:{port}',
        'H2O_WAVE_BASE_URL': root,
        'H2O_WAVE_ACCESS_KEY_ID': keys.id,
        'H2O_WAVE_ACCESS_KEY_SECRET': keys.secret,
        'H2O_WAVE_LISTEN': f'{host}:{port}',
        'H2O_WAVE_NO_AUTOSTART': 'true',
        'H2O_WAVE_NO_COPY_UPLOAD': 'true',
    }


def write_env_file(path: str, env: dict[str, str]) -> None:
    """``export`` lines for a shell to ``source``, readable by this user only (they hold the server's secrets)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(fd, 'w') as f:
        f.writelines(f"export {k}='{v}'\n" for k, v in env.items())


__all__ = ['HubHandler', 'HubMatcher', 'hub_env', 'write_env_file']
