"""The tornado server that replaces waved: the Wave UI, its ``_s/`` WebSocket and ``_f/`` uploads, on the current loop.

Nothing here starts a thread or a process: :meth:`Server.start` binds a loopback socket and registers it with the
running (or current) asyncio loop, which in a notebook is the kernel's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.iostream import StreamBufferFullError, StreamClosedError
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RedirectHandler, RequestHandler, StaticFileHandler, stream_request_body
from tornado.websocket import WebSocketHandler

from . import security
from .app import App, Handler
from .assets import index_html, www_dir
from .broker import Broker
from .uploads import UploadError, UploadStore

log = logging.getLogger('wave_jupyter')

DEFAULT_PORT = 10101
PORT_ENV = 'WAVE_JUPYTER_PORT'
ORIGINS_ENV = 'WAVE_JUPYTER_ALLOWED_ORIGINS'
SECRET_ENV = 'WAVE_JUPYTER_SECRET'
#: Pages that may embed the app: loopback notebooks (any port), VS Code webviews, and the page's own origin (proxy).
FRAME_ANCESTORS = ("'self'", 'http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*', 'https://localhost:*',
                   'https://127.0.0.1:*', 'vscode-webview:')
#: WebSocket origins allowed besides the server's own: VS Code's notebook webviews.
DEFAULT_ORIGINS = ('vscode-webview://*',)
#: A client that lets this much pile up unsent is too slow: it is closed (visibly; the UI reconnects and gets the page).
MAX_PENDING = 16 << 20
MAX_MESSAGE = 1 << 20  # waved's read limit for one WebSocket frame
MAX_UPLOAD = 256 << 20
_SAFE_PREFIX = re.compile(r"/[A-Za-z0-9._~%!$&()*+,;=:@/-]*")


class Server:
    """One Wave server: a loopback port, a secret, a broker (clients, pages) and the apps mounted on it."""

    def __init__(self, port: int = 0, *, host: str = '127.0.0.1', base_url: str = '/', secret: str | None = None,
                 data_dir: str | None = None, allowed_origins: Iterable[str] = (), max_upload_size: int = MAX_UPLOAD,
                 reconnect_timeout: float = 5.0) -> None:
        if not (base_url.startswith('/') and base_url.endswith('/')):
            raise ValueError(f'base_url must start and end with "/"; got {base_url!r}')
        self.host = host
        self.port = port
        self.base_url = base_url
        self.secret = secret or os.environ.get(SECRET_ENV) or security.new_secret()
        env_origins = [o.strip() for o in os.environ.get(ORIGINS_ENV, '').split(',') if o.strip()]
        self.allowed_origins = [*DEFAULT_ORIGINS, *allowed_origins, *env_origins]
        self.frame_ancestors = ' '.join([*FRAME_ANCESTORS, *(o for o in self.allowed_origins if '*' not in o)])
        self.max_upload_size = max_upload_size
        self.broker = Broker(base_url, reconnect_timeout)
        self._data_dir = data_dir
        self.uploads = UploadStore(os.path.join(data_dir or tempfile.mkdtemp(prefix='wave_jupyter_'), 'f'))
        self.cache: dict[str, dict[str, Any]] = {}
        #: Called with the server when its apps change.
        self.watchers: list[Callable[[Server], None]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._http: HTTPServer | None = None
        self._index: dict[str, str] = {}

    # --- lifecycle -----------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._http is not None and self.loop is not None and not self.loop.is_closed()

    def start(self) -> Server:
        """Bind and serve on this thread's event loop; returns at once."""
        if self.running:
            return self
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = asyncio.get_event_loop_policy().get_event_loop()
        try:
            sockets = bind_sockets(self.port, self.host)
        except OSError as e:
            raise OSError(e.errno, f'cannot listen on {self.host}:{self.port}: {e.strerror}. '
                                   f'Pick another port (--port N or {PORT_ENV}=N; 0 = any free port).') from None
        self.port = sockets[0].getsockname()[1]
        self._http = HTTPServer(self._application(), max_body_size=self.max_upload_size + (1 << 20),
                                xheaders=False)
        self._http.add_sockets(sockets)
        self._thread = threading.get_ident()
        log.info('wave_jupyter server on http://%s:%d%s', self.host, self.port, self.base_url)
        return self

    async def aclose(self) -> None:
        """Stop listening, drop every socket, cancel handlers, call apps' ``on_shutdown``."""
        if self._http is None:
            return
        self._http.stop()
        self._http = None
        for client in list(self.broker.clients.values()):
            if client.expiry:
                client.expiry.cancel()
            if client.conn:
                client.conn.close()
        for app in list(self.broker.apps.values()):
            self.broker.unregister(app)
            await app.shutdown()
        global _default
        if _default is self:
            _default = None

    def stop(self) -> None:
        """``aclose`` from synchronous code on the loop's thread (the task finishes when the loop next runs)."""
        if self.loop and not self.loop.is_closed():
            self.loop.create_task(self.aclose())

    # --- apps ----------------------------------------------------------------------------------------------------

    def mount(self, route: str, handler: Handler, mode: str | None = None, on_startup: Callable | None = None,
              on_shutdown: Callable | None = None) -> App:
        """Serve ``handler`` at ``route``. A route already served keeps its app (and state) and swaps the handler."""
        app = self.broker.apps.get(route)
        if isinstance(app, App):
            app.swap(handler, mode)
            return app
        app = App(self, route, handler, mode, on_startup, on_shutdown)
        self.broker.register(app)
        self._spawn(app.start())
        self.changed()
        return app

    def unmount(self, app: App) -> None:
        self.broker.unregister(app)
        self._spawn(app.shutdown())
        self.changed()

    def changed(self) -> None:
        """Apps were mounted, unmounted or swapped: tell whoever watches (the notebook's app list)."""
        for watcher in list(self.watchers):
            try:
                watcher(self)
            except Exception:
                log.exception('wave_jupyter: an app watcher failed')

    @property
    def apps(self) -> dict[str, App]:
        return {r: a for r, a in self.broker.apps.items() if isinstance(a, App)}

    def _spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        task.add_done_callback(_log_failure)

    # --- pages ---------------------------------------------------------------------------------------------------

    def publish(self, path: str, raw: str, ops: list) -> None:
        """Send an ops batch to the page's browsers and store it. Call on the loop's thread."""
        self.broker.patch(path, raw, ops)

    def publish_threadsafe(self, path: str, raw: str, ops: list) -> None:
        """``publish`` from any thread. On the loop's thread it writes at once, even inside a blocking cell."""
        if self._thread == threading.get_ident() or self.loop is None:
            self.publish(path, raw, ops)
        else:
            self.loop.call_soon_threadsafe(self.publish, path, raw, ops)

    # --- URLs and requests ---------------------------------------------------------------------------------------

    def url(self, route: str = '/') -> str:
        """A URL for a browser on this machine; it carries the secret, which the server trades for a cookie."""
        return f'http://{self.host}:{self.port}{self.base_url}{route.lstrip("/")}?{security.TOKEN_ARG}={self.secret}'

    def external_base(self, request: httputil.HTTPServerRequest) -> str:
        """The base URL the browser sees: ``X-Forwarded-Prefix`` (jupyter-server-proxy sends ``{base}proxy/{port}``)
        in front of our own; the UI needs it in ``data-base-url`` and in every path it sends back."""
        prefix = request.headers.get('X-Forwarded-Prefix', '')
        if not prefix:
            # jupyter-server-proxy adds the header to HTTP requests only: the page left it in a cookie for its socket.
            cookie = request.cookies.get(self.prefix_cookie)
            prefix = cookie.value if cookie else ''
        if prefix and _SAFE_PREFIX.fullmatch(prefix):
            return prefix.rstrip('/') + self.base_url
        return self.base_url

    @property
    def prefix_cookie(self) -> str:
        return f'{self.cookie}_prefix'


    def index(self, base: str) -> str:
        if base not in self._index:
            self._index[base] = index_html(base)
        return self._index[base]

    @property
    def cookie(self) -> str:
        return security.cookie_name(self.port)

    def authorized(self, handler: RequestHandler) -> bool:
        req = handler.request
        given = (handler.get_cookie(self.cookie) or handler.get_query_argument(security.TOKEN_ARG, None)
                 or security.bearer(req.headers.get('Authorization')))
        return security.same_secret(given, self.secret)

    def _application(self) -> Application:
        b = self.base_url
        ctx = {'server': self}
        return Application([
            (rf'{b}_s/', SocketHandler, ctx),
            (rf'{b}_s', RedirectHandler, {'url': f'{b}_s/'}),
            (rf'{b}_f/', UploadHandler, ctx),
            (rf'{b}_f/(.+)', UploadedFileHandler, {**ctx, 'path': str(self.uploads.root)}),
            (rf'{b}((?:[^/]*/)*[^/]*\.[^/]*)', AssetHandler, {**ctx, 'path': str(www_dir())}),
            (rf'{b}.*', IndexHandler, ctx),
        ], websocket_max_message_size=MAX_MESSAGE, websocket_ping_interval=50, compress_response=True)

    def __repr__(self) -> str:
        state = 'running' if self.running else 'stopped'
        return f'<Server http://{self.host}:{self.port}{self.base_url} {state} apps={list(self.broker.apps)}>'


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error('wave_jupyter task failed', exc_info=task.exception())


# --- request handlers ------------------------------------------------------------------------------------------------


class _Guarded:
    """Every request needs the secret; hardening headers on every answer."""

    server: Server

    def initialize(self, server: Server, **kwargs: Any) -> None:
        self.server = server
        self.set_default_headers()  # tornado set them before the server was known
        if kwargs:
            super().initialize(**kwargs)  # type: ignore[misc]

    def set_default_headers(self) -> None:
        self.set_header('X-Content-Type-Options', 'nosniff')
        self.set_header('Referrer-Policy', 'no-referrer')
        server = getattr(self, 'server', None)
        if server is not None:  # who may frame the app: loopback notebooks, VS Code, the proxy's own page
            self.set_header('Content-Security-Policy', f'frame-ancestors {server.frame_ancestors}')

    def prepare(self) -> None:
        if not self.server.authorized(self):
            raise HTTPError(403, reason='Forbidden: this wave_jupyter server needs its secret; '
                                        'open the URL that listen() printed (apps[route].url)')

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header('Content-Type', 'text/plain; charset=UTF-8')
        self.finish(f'{status_code} {self._reason}\n')


class IndexHandler(_Guarded, RequestHandler):
    """Every extensionless path is the UI's document; the UI's router reads the route from the location."""

    def get(self) -> None:
        token = self.get_query_argument(security.TOKEN_ARG, None)
        if token is not None:
            # Trade the secret in the URL for a cookie, then show the clean URL.
            self.set_cookie(self.server.cookie, self.server.secret, httponly=True, samesite='Lax',
                            path=self.server.external_base(self.request))
            rest = [(k, v) for k, vs in self.request.query_arguments.items() if k != security.TOKEN_ARG
                    for v in vs]
            self.redirect(self.request.path + (f'?{urlencode([(k, v.decode()) for k, v in rest])}' if rest else ''))
            return
        base = self.server.external_base(self.request)
        prefix = self.request.headers.get('X-Forwarded-Prefix')
        if prefix and base != self.server.base_url:
            self.set_cookie(self.server.prefix_cookie, prefix, httponly=True, samesite='Lax', path=base)
        self.set_header('Content-Type', 'text/html; charset=UTF-8')
        self.set_header('Cache-Control', 'no-cache, must-revalidate')
        self.finish(self.server.index(base))


class AssetHandler(_Guarded, StaticFileHandler):
    pass


class UploadedFileHandler(_Guarded, StaticFileHandler):
    def delete(self, path: str) -> None:
        try:
            self.server.uploads.delete(path)
        except UploadError as e:
            raise HTTPError(404, reason=str(e)) from None


@stream_request_body
class UploadHandler(_Guarded, RequestHandler):
    """``POST _f/``: multipart field ``files``; answers the paths the browser then sends to the app."""

    def prepare(self) -> None:
        super().prepare()
        self._body: list[bytes] = []
        self._size = 0
        length = self.request.headers.get('Content-Length')
        if length and length.isdigit() and int(length) > self.server.max_upload_size:
            raise HTTPError(413, reason=f'upload too large: {int(length)} bytes; '
                                        f'the limit is {self.server.max_upload_size} bytes')

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= self.server.max_upload_size:
            self._body.append(chunk)

    def post(self) -> None:
        if self._size > self.server.max_upload_size:
            raise HTTPError(413, reason=f'upload too large; the limit is {self.server.max_upload_size} bytes')
        args: dict = {}
        files: dict = {}
        httputil.parse_body_arguments(self.request.headers.get('Content-Type', ''), b''.join(self._body), args, files)
        parts = files.get('files', [])
        if not parts:
            raise HTTPError(400, reason='no files: send multipart/form-data with one "files" part per file')
        one_folder = self.request.headers.get('Wave-Directory-Upload', '').lower() == 'true'
        try:
            stored = self.server.uploads.save([(p.filename, p.body) for p in parts], one_folder)
        except UploadError as e:
            raise HTTPError(400, reason=str(e)) from None
        self.set_header('Content-Type', 'application/json')
        base = self.server.external_base(self.request)
        self.finish(json.dumps({'files': [f'{base}_f/{s}' for s in stored]}))


class SocketHandler(_Guarded, WebSocketHandler):
    """The UI's socket; it speaks to the broker through the two-method Connection interface."""

    def check_origin(self, origin: str) -> bool:
        ok = security.origin_allowed(origin, self.request.host, self.server.allowed_origins)
        if not ok:
            log.warning('refused a WebSocket from origin %s (allowed: same host, %s)', origin,
                        self.server.allowed_origins or 'nothing else')
        return ok

    def open(self) -> None:
        self.set_nodelay(True)  # small frames go out at once (with Nagle on, a second frame waits ~40 ms for an ACK)
        self.ws_connection.stream.max_write_buffer_size = MAX_PENDING
        headers: dict[str, list[str]] = {}
        for name, value in self.request.headers.get_all():
            if name.lower() != 'cookie':
                headers.setdefault(name, []).append(value)
        self.client = self.server.broker.connect(self, self.get_query_argument('client-id', None), headers,
                                                 self.server.external_base(self.request))

    def on_message(self, message: str | bytes) -> None:
        self.server.broker.receive(self.client, message)

    def on_close(self) -> None:
        client = getattr(self, 'client', None)
        if client is not None:
            self.server.broker.disconnected(client, self)

    def send(self, text: str) -> None:
        conn = self.ws_connection
        if conn is None or conn.is_closing():
            return
        try:
            conn.stream.write(text_frame(text))
        except StreamClosedError:
            pass
        except StreamBufferFullError:
            log.warning('client %s is too slow (over %d bytes unsent): closing it; its tab will reconnect',
                        getattr(self, 'client', None) and self.client.id, MAX_PENDING)
            stream = self.ws_connection and self.ws_connection.stream
            if stream is not None:
                stream.close()


_last_frame: tuple[str | None, bytes] = (None, b'')


def text_frame(text: str) -> bytes:
    """One final, unmasked, uncompressed text frame (RFC 6455 §5.2), built once per broadcast.

    The broker hands the same ``str`` to every subscriber of a page, so a one-entry cache (by identity) encodes it
    once. Writing the frame to the stream skips ``write_message``'s per-message coroutine, the server's main cost
    when a page fans out to hundreds of clients. Valid because the server never negotiates permessage-deflate.
    """
    global _last_frame
    if _last_frame[0] is text:
        return _last_frame[1]
    data = text.encode()
    n = len(data)
    head = bytes([0x81, n]) if n < 126 else (b'\x81\x7e' + n.to_bytes(2, 'big') if n < 1 << 16
                                             else b'\x81\x7f' + n.to_bytes(8, 'big'))
    _last_frame = (text, head + data)
    return _last_frame[1]


# --- the process's default server ----------------------------------------------------------------------------------

_default: Server | None = None


def default_server(port: int | None = None) -> Server:
    """The server that ``listen``, ``app`` and ``site`` use unless told otherwise; started on first use."""
    global _default
    if _default is None or not _default.running:
        if port is None:
            port = int(os.environ.get(PORT_ENV, '0'))
        _default = Server(port).start()
    return _default


def set_default_server(server: Server | None) -> None:
    global _default
    _default = server
