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
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from tornado import httputil
from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RedirectHandler, RequestHandler, StaticFileHandler, stream_request_body
from tornado.websocket import WebSocketHandler

from . import security
from .app import App, Handler
from .assets import index_html, www_dir
from .broker import Broker
from .listener import Gate, Listener
from .uploads import MultipartUpload, UploadError, UploadStore

log = logging.getLogger('wave_jupyter')

DEFAULT_PORT = 10101
PORT_ENV = 'WAVE_JUPYTER_PORT'
ORIGINS_ENV = 'WAVE_JUPYTER_ALLOWED_ORIGINS'
SECRET_ENV = 'WAVE_JUPYTER_SECRET'
#: Pages that may embed the app: loopback notebooks (any port), VS Code webviews, and the page's own origin (proxy).
#: CSP host sources cannot name an IPv6 literal (browsers reject ``[::1]``): open such a notebook as localhost.
FRAME_ANCESTORS = ("'self'", 'http://localhost:*', 'http://127.0.0.1:*', 'https://localhost:*',
                   'https://127.0.0.1:*', 'vscode-webview:')
#: WebSocket origins allowed besides the server's own: VS Code's notebook webviews.
DEFAULT_ORIGINS = ('vscode-webview://*',)
#: A client that lets this much pile up unsent is too slow: it is closed (visibly; the UI reconnects and gets the page).
MAX_PENDING = 16 << 20
MAX_MESSAGE = 1 << 20  # waved's read limit for one WebSocket frame
MAX_UPLOAD = 256 << 20
#: The most a request other than an upload may carry.
MAX_BODY = 64 << 10
#: Seconds a connection may take to send a request's headers (and may sit idle between requests), and its body.
HEADER_TIMEOUT = 30.0
BODY_TIMEOUT = 600.0
#: Connections that have not yet sent a request with the secret; past this the oldest is dropped.
MAX_UNPROVEN = 128
#: Index pages kept, one per proxy prefix seen.
MAX_INDEX_PAGES = 16
_UPLOAD_KEY = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[^/]')
_FORBIDDEN = ('Forbidden: this wave_jupyter server needs its secret in the path; open the URL that listen() '
              'printed (apps[route].url)')


class Server:
    """One Wave server: a loopback port, a secret, a broker (clients, pages) and the apps mounted on it.

    Everything is served under ``root`` (``{base_url}{secret}/``), the one thing a browser must know to reach the
    server; uploaded files are also served at ``{base_url}_f/<uuid>/<name>``, where the random uuid is the key.
    """

    def __init__(self, port: int = 0, *, host: str = '127.0.0.1', base_url: str = '/', secret: str | None = None,
                 data_dir: str | None = None, allowed_origins: Iterable[str] = (), max_upload_size: int = MAX_UPLOAD,
                 reconnect_timeout: float = 5.0, header_timeout: float = HEADER_TIMEOUT,
                 body_timeout: float = BODY_TIMEOUT, max_unproven: int = MAX_UNPROVEN) -> None:
        if not (base_url.startswith('/') and base_url.endswith('/') and security.safe_prefix(base_url) + '/'
                == base_url):
            raise ValueError(f'base_url must be a path that starts and ends with "/"; got {base_url!r}')
        self.host = host
        self.port = port
        self.base_url = base_url
        self.secret = secret or os.environ.get(SECRET_ENV) or security.new_secret()
        if not security.valid_secret(self.secret):
            raise ValueError(f'the secret ({SECRET_ENV} or secret=) must be 16 to 128 characters of A-Z a-z 0-9 _ -')
        #: The path every request must start with: the base URL and the secret.
        self.root = f'{base_url}{self.secret}/'
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_unproven = max_unproven
        env_origins = [o.strip() for o in os.environ.get(ORIGINS_ENV, '').split(',') if o.strip()]
        self.allowed_origins = [*DEFAULT_ORIGINS, *allowed_origins, *env_origins]
        self.frame_ancestors = ' '.join([*FRAME_ANCESTORS, *(o for o in self.allowed_origins if '*' not in o)])
        self.max_upload_size = max_upload_size
        self.broker = Broker(self.root, reconnect_timeout)
        self._data_dir = data_dir
        if data_dir is None:  # our own temporary folder: removed on close, or when the process exits
            data_dir = tempfile.mkdtemp(prefix='wave_jupyter_')
            self._remove_data = weakref.finalize(self, shutil.rmtree, data_dir, ignore_errors=True)
        else:
            self._remove_data = None
        self.uploads = UploadStore(os.path.join(data_dir, 'f'))
        self.cache: dict[str, dict[str, Any]] = {}
        #: Called with the server when its apps change.
        self.watchers: list[Callable[[Server], None]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._http: Listener | None = None
        #: ``index.html`` per external base (one per proxy prefix seen), the newest ``MAX_INDEX_PAGES`` of them.
        self.index_pages: OrderedDict[str, str] = OrderedDict()

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
        self._http = Listener(Gate(self._application(), self._check), max_unproven=self.max_unproven,
                              max_body_size=self.max_upload_size + (1 << 20), xheaders=False,
                              idle_connection_timeout=self.header_timeout, body_timeout=self.body_timeout)
        self._http.add_sockets(sockets)
        self._thread = threading.get_ident()
        log.info('wave_jupyter server on %s:%d', self.host, self.port)
        return self

    @property
    def listener(self) -> Listener | None:
        """The HTTP listener (its ``sockets``, ``unproven`` connections), while running."""
        return self._http

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
        if self._remove_data is not None:
            self._remove_data()
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

    def publish(self, path: str, raw: str, ops: list, announce: bool = True) -> None:
        """Send an ops batch to the page's browsers and store it. Call on the loop's thread. ``announce``: a new
        page at ``path`` is a page of its own (a script's), not an app's ``q.page``."""
        self.broker.patch(path, raw, ops, announce)

    def publish_threadsafe(self, path: str, raw: str, ops: list) -> None:
        """``publish`` from any thread. On the loop's thread it writes at once, even inside a blocking cell."""
        if self._thread == threading.get_ident() or self.loop is None:
            self.publish(path, raw, ops)
        else:
            self.loop.call_soon_threadsafe(self.publish, path, raw, ops)

    # --- URLs and requests ---------------------------------------------------------------------------------------

    def url(self, route: str = '/') -> str:
        """A URL for a browser on this machine. It holds the secret: keep it out of saved notebooks and logs."""
        return f'http://{self.host}:{self.port}{self.root}{route.lstrip("/")}'

    def external_base(self, request: httputil.HTTPServerRequest) -> str:
        """The base URL the browser sees: the proxy's ``X-Forwarded-Prefix`` (jupyter-server-proxy sends
        ``{base}proxy/{port}``) in front of ``root``. Only a plain path counts: this decides where the page loads code
        from. A WebSocket gets no such header; its frames' paths are matched on ``root`` wherever it appears."""
        return security.safe_prefix(request.headers.get('X-Forwarded-Prefix')) + self.root

    def files_base(self, request: httputil.HTTPServerRequest) -> str:
        """Where the browser finds uploaded files (``{prefix}{base_url}_f/``): outside ``root``, so that the paths
        an app stores and shows (``q.args``, page dumps, history) never hold the secret."""
        return security.safe_prefix(request.headers.get('X-Forwarded-Prefix')) + self.base_url + '_f/'

    def index(self, base: str) -> str:
        pages = self.index_pages
        if base in pages:
            pages.move_to_end(base)
        else:
            pages[base] = index_html(base)
            while len(pages) > MAX_INDEX_PAGES:
                pages.popitem(last=False)
        return pages[base]

    def _check(self, start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders) -> tuple[int, str | None]:
        """The door (see :mod:`.listener`): ``(body limit, None)`` for a request with the secret in its path, or for
        an uploaded file's key; ``(status, message)`` for anything else, before its body is read."""
        path = start_line.path.split('?', 1)[0]
        if path.startswith('//') or '\\' in path:
            return 400, 'Bad Request: the path must start with exactly one "/"'
        if path.startswith(self.base_url):
            rest = path[len(self.base_url):]
            given, slash, tail = rest.partition('/')
            if slash and security.same_secret(given, self.secret):
                big = tail == '_f/' and start_line.method == 'POST'
                return (self.max_upload_size + (1 << 20) if big else MAX_BODY), None
            if (start_line.method in ('GET', 'HEAD') and rest.startswith('_f/')
                    and _UPLOAD_KEY.match(rest, len('_f/'))):
                return MAX_BODY, None
        return 403, _FORBIDDEN

    def _log_request(self, handler: RequestHandler) -> None:
        """tornado's access log, without the secret."""
        status = handler.get_status()
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        req = handler.request
        logging.getLogger('tornado.access').log(level, '%d %s %s %.2fms', status, req.method,
                                                 req.uri.replace(self.secret, '<secret>'),
                                                 1000.0 * req.request_time())

    def _application(self) -> Application:
        r = self.root
        ctx = {'server': self}
        files = {**ctx, 'path': str(self.uploads.root)}
        return Application([
            (rf'{r}_s/', SocketHandler, ctx),
            (rf'{r}_s', RedirectHandler, {'url': f'{r}_s/'}),
            (rf'{r}_f/', UploadHandler, ctx),
            (rf'{r}_f/(.+)', UploadedFileHandler, files),
            (rf'{r}((?:[^/]*/)*[^/]*\.[^/]*)', AssetHandler, {**ctx, 'path': str(www_dir())}),
            (rf'{r}.*', IndexHandler, ctx),
            (rf'{self.base_url}_f/(.+)', UploadedFileHandler, files),
        ], websocket_max_message_size=MAX_MESSAGE, websocket_ping_interval=50, compress_response=True,
            log_function=self._log_request)

    def __repr__(self) -> str:
        state = 'running' if self.running else 'stopped'
        return f'<Server {self.host}:{self.port} {state} apps={list(self.broker.apps)}>'


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error('wave_jupyter task failed', exc_info=task.exception())


# --- request handlers ------------------------------------------------------------------------------------------------


class _Guarded:
    """Hardening headers on every answer; a state-changing request must come from our own pages.

    The secret was checked before the request got here (:meth:`Server._check`, as its headers arrived).
    """

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
        req = self.request
        if security.cross_site_write(req.method or 'GET', req.headers, req.host, self.server.allowed_origins):
            log.warning('refused a %s to %s from another site (Origin %s, Sec-Fetch-Site %s)', req.method,
                        req.path.replace(self.server.secret, '<secret>'), req.headers.get('Origin'),
                        req.headers.get('Sec-Fetch-Site'))
            raise HTTPError(403, reason='Forbidden: a page of another origin may not change this server')

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header('Content-Type', 'text/plain; charset=UTF-8')
        self.finish(f'{status_code} {self._reason}\n')


class IndexHandler(_Guarded, RequestHandler):
    """Every extensionless path is the UI's document; the UI's router reads the route from the location."""

    def get(self) -> None:
        self.set_header('Content-Type', 'text/html; charset=UTF-8')
        self.set_header('Cache-Control', 'no-cache, must-revalidate')
        self.finish(self.server.index(self.server.external_base(self.request)))


class AssetHandler(_Guarded, StaticFileHandler):
    pass


class UploadedFileHandler(_Guarded, StaticFileHandler):
    """Uploaded files. What a browser uploaded is someone's data, not part of the app: it is served as an attachment
    in a sandbox, so an uploaded ``.html`` or ``.svg`` never runs script in the app's origin. Files the app itself
    published (``q.site.upload``) are served inline, as under waved."""

    def set_extra_headers(self, path: str) -> None:
        if self.server.uploads.is_untrusted(path):
            name = path.rsplit('/', 1)[-1]
            self.set_header('Content-Disposition', f"attachment; filename*=UTF-8''{quote(name)}")
            self.set_header('Content-Security-Policy', "sandbox; default-src 'none'")

    def delete(self, path: str) -> None:
        try:
            self.server.uploads.delete(path)
        except UploadError as e:
            raise HTTPError(404, reason=str(e)) from None


@stream_request_body
class UploadHandler(_Guarded, RequestHandler):
    """``POST _f/``: multipart field ``files``, streamed to disk as it arrives; answers the paths the browser then
    sends to the app. A bad body is refused with a 400 that says why, and leaves nothing behind."""

    def prepare(self) -> None:
        super().prepare()
        self._upload: MultipartUpload | None = None
        self._error: str | None = None
        self._size = 0
        if self.request.method != 'POST':
            raise HTTPError(405)
        length = self.request.headers.get('Content-Length')
        if length and length.isdigit() and int(length) > self.server.max_upload_size:
            raise HTTPError(413, reason=f'upload too large: {int(length)} bytes; '
                                        f'the limit is {self.server.max_upload_size} bytes')
        one_folder = self.request.headers.get('Wave-Directory-Upload', '').lower() == 'true'
        try:
            self._upload = self.server.uploads.receive(self.request.headers.get('Content-Type', ''), one_folder)
        except UploadError as e:
            self._error = str(e)

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._upload is None or self._error is not None:
            return
        if self._size > self.server.max_upload_size:
            self._error = f'upload too large; the limit is {self.server.max_upload_size} bytes'
        else:
            try:
                self._upload.feed(chunk)
                return
            except UploadError as e:
                self._error = str(e)
        self._upload.abort()

    def post(self) -> None:
        if self._error is None and self._upload is not None:
            try:
                stored = self._upload.finish()
            except UploadError as e:
                self._error = str(e)
        if self._error is not None:
            if self._upload is not None:
                self._upload.abort()
            status = 413 if 'too large' in self._error else 400
            raise HTTPError(status, reason=self._error.replace('\n', ' ').replace('\r', ' '))
        self.set_header('Content-Type', 'application/json')
        base = self.server.files_base(self.request)
        self.finish(json.dumps({'files': [f'{base}{s}' for s in stored]}))

    def on_connection_close(self) -> None:
        upload = getattr(self, '_upload', None)
        if upload is not None and not self._finished:
            upload.abort()
        super().on_connection_close()


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
        self.largest = 0
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
        """Write one frame. A client is too slow when more than ``MAX_PENDING`` bytes beyond its largest frame are
        still unsent: it is closed (its tab reconnects and gets its page). One large frame alone is never too slow."""
        conn = self.ws_connection
        if conn is None or conn.is_closing():
            return
        frame = text_frame(text)
        stream = conn.stream
        if pending_bytes(stream) > MAX_PENDING + self.largest:
            log.warning('client %s is too slow (over %d bytes unsent): closing it; its tab will reconnect',
                        getattr(self, 'client', None) and self.client.id, MAX_PENDING)
            stream.close()
            return
        if len(frame) > self.largest:
            self.largest = len(frame)
        try:
            stream.write(frame)
        except StreamClosedError:
            pass


def pending_bytes(stream: IOStream) -> int:
    """Bytes written to a tornado stream and not yet handed to the socket. tornado has no public accessor: this is
    the one place that reads its private counter (``test_security.py`` fails loudly if tornado renames it)."""
    buffer = stream._write_buffer
    return len(buffer) if buffer is not None else 0


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
