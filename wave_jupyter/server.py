"""The tornado transport: a Wave server on a loopback port, in front of a :class:`~.runtime.Runtime`.

Nothing here starts a thread or a process: :meth:`Server.start` binds a loopback socket and registers it with the
running (or current) asyncio loop, which in a notebook is the kernel's own. Configuration, the secret root and the
door (:meth:`Server.check`) are here; the request handlers are in :mod:`.handlers`, the front door's mechanics in
:mod:`.listener`.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable

from tornado import httputil
from tornado.routing import Rule
from tornado.web import Application, RedirectHandler, RequestHandler

from . import security, urls
from .app import App, Handler, mount
from .assets import index_html, www_dir
from .config import PORT_ENV, SECRET_ENV, Config
from .frames import Outbox
from .handlers import (
    AssetHandler,
    DoorHandler,
    IndexHandler,
    SocketHandler,
    StreamHandler,
    UploadedFileHandler,
    UploadHandler,
)
from .hub import HubHandler, HubMatcher, hub_env, write_env_file
from .listener import Gate, Listener, Verdict, bind_loopbacks
from .runtime import Runtime

log = logging.getLogger('wave_jupyter')

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
#: The most a hub request (a page's ops, a cache value) may carry: waved's -max-request-size.
MAX_HUB_BODY = 5 << 20
#: Seconds a connection may take to send a request's headers (and may sit idle between requests), and its body.
HEADER_TIMEOUT = 30.0
BODY_TIMEOUT = 600.0
#: Connections that have not yet sent a request with the secret; past this the oldest is dropped.
MAX_UNPROVEN = 128
#: Index pages kept, one per proxy prefix seen.
MAX_INDEX_PAGES = 16
_UPLOAD_KEY = re.compile(r'_f/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.+')
_FORBIDDEN = ('Forbidden: this wave_jupyter server needs its secret in the path; open the URL that listen() '
              'printed (apps[route].url)')


class Server:
    """A Wave server on a loopback port: a secret, tornado's HTTP and WebSocket handlers, in front of a runtime
    (its own unless one is given) that holds the apps, pages and clients.

    Everything is served under ``root`` (``{base_url}{secret}/``), the one thing a browser must know to reach the
    server; uploaded files are also served at ``{base_url}_f/<uuid>/<name>``, where the random uuid is the key.

    The secret is new for every server. A fixed one (``secret=`` or ``WAVE_JUPYTER_SECRET``) is only a *door*: a
    bookmarkable ``{base_url}{door}/<route>`` that opens the app under this server's own secret (the page moves its
    address there before the UI starts, without a request). Whatever a tab sends afterwards (its reloads, its
    reconnects) holds only the server's own secret, which is worthless once this server is gone: another local user
    who takes the port after it stops learns nothing that opens the next one. Open tabs therefore do not survive a
    restart: open the door again.
    """

    def __init__(self, port: int = 0, *, base_url: str = '/', secret: str | None = None,
                 data_dir: str | None = None, allowed_origins: Iterable[str] = (), max_upload_size: int = MAX_UPLOAD,
                 reconnect_timeout: float = 5.0, header_timeout: float = HEADER_TIMEOUT,
                 body_timeout: float = BODY_TIMEOUT, max_unproven: int = MAX_UNPROVEN,
                 max_pending: int = MAX_PENDING, runtime: Runtime | None = None,
                 owns_runtime: bool | None = None) -> None:
        if not (base_url.startswith('/') and base_url.endswith('/') and security.safe_prefix(base_url) + '/'
                == base_url):
            raise ValueError(f'base_url must be a path that starts and ends with "/"; got {base_url!r}')
        #: Where browsers reach it: the IPv4 loopback (the server holds ``[::1]`` at the same port too, unserved by
        #: any URL, so that no one else can stand there).
        self.host = urls.LOOPBACK
        self.port = port
        self.base_url = base_url
        config = Config.from_env()
        door = secret or config.secret
        if door is not None and not security.valid_secret(door):
            raise ValueError(f'the secret ({SECRET_ENV} or secret=) must be 16 to 128 characters of A-Z a-z 0-9 _ -')
        #: The fixed secret, if one was given: a door to ``root``, never served under.
        self.door: str | None = door
        self.secret = security.new_secret()
        #: The path every request must start with: the base URL and the secret.
        self.root = urls.root(base_url, self.secret)
        #: What another process shows to use the hub API (``env()``), besides ``root``: new for every server.
        self.hub_keys = security.KeyPair.new()
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_unproven = max_unproven
        #: A client with more than this many bytes unsent beyond its largest frame is too slow: it is closed (its
        #: tab reconnects and gets its page).
        self.max_pending = max_pending
        self.outbox = Outbox()
        self.allowed_origins = [*DEFAULT_ORIGINS, *allowed_origins, *config.allowed_origins]
        self.frame_ancestors = ' '.join([*FRAME_ANCESTORS, *(o for o in self.allowed_origins if '*' not in o)])
        self.max_upload_size = max_upload_size
        #: Closing the server closes its runtime (its apps stop) when the server made it, or was told it owns it.
        self._own_runtime = runtime is None if owns_runtime is None else owns_runtime
        self.runtime = runtime or Runtime(base_url=base_url, data_dir=data_dir, reconnect_timeout=reconnect_timeout)
        self._http: Listener | None = None
        #: ``index.html`` per external base (one per proxy prefix seen), the newest ``MAX_INDEX_PAGES`` of them.
        self.index_pages: OrderedDict[str, str] = OrderedDict()

    # --- lifecycle -----------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        loop = self.runtime.loop
        return self._http is not None and loop is not None and not loop.is_closed()

    @property
    def listener(self) -> Listener | None:
        """The HTTP listener (its ``sockets``, ``unproven`` connections), while running."""
        return self._http

    def start(self) -> Server:
        """Bind and serve on this thread's event loop; returns at once."""
        if self.running:
            return self
        self.runtime.bind()
        try:
            sockets = bind_loopbacks(self.port)
        except OSError as e:
            raise OSError(e.errno, f'cannot listen on {self.host}:{self.port}: {e.strerror}. '
                                   f'Pick another port (--port N or {PORT_ENV}=N; 0 = any free port).') from None
        self.port = sockets[0].getsockname()[1]
        self._http = Listener(Gate(self._application(), self.check), max_unproven=self.max_unproven,
                              max_body_size=self.max_upload_size + (1 << 20), xheaders=False,
                              idle_connection_timeout=self.header_timeout, body_timeout=self.body_timeout)
        self._http.add_sockets(sockets)
        self.runtime.attach(self)
        security.REDACT.secrets.extend(self._secrets)
        log.info('wave_jupyter server on %s:%d', self.host, self.port)
        return self

    def stop_listening(self) -> None:
        """Close the port and every socket now (synchronous: a kernel shutting down has no loop turn left)."""
        if self._http is not None:
            self._http.stop()
            self._http = None
            for secret in self._secrets:
                security.REDACT.secrets.remove(secret)
        self.runtime.detach(self)
        self.runtime.drop_connections()

    async def aclose(self) -> None:
        """Stop listening and drop every socket; with its own runtime, also stop the apps (``on_shutdown``)."""
        self.stop_listening()
        if self._own_runtime:
            await self.runtime.aclose()

    def stop(self) -> None:
        """``aclose`` from synchronous code on the loop's thread (the task finishes when the loop next runs)."""
        loop = self.runtime.loop
        if loop and not loop.is_closed():
            loop.create_task(self.aclose())

    # --- what the runtime holds ---------------------------------------------------------------------------------

    @property
    def apps(self) -> dict[str, App]:
        return {r: a for r, a in self.runtime.apps.items() if isinstance(a, App)}

    def mount(self, route: str, handler: Handler, mode: str | None = None, on_startup: Callable | None = None,
              on_shutdown: Callable | None = None) -> App:
        """Serve ``handler`` at ``route`` (:func:`.app.mount`); call on the loop's thread."""
        return mount(self.runtime, route, handler, mode, on_startup, on_shutdown)

    # --- URLs and requests ---------------------------------------------------------------------------------------

    @property
    def _secrets(self) -> list[str]:
        return [self.secret, self.hub_keys.secret, *([self.door] if self.door else [])]

    def env(self) -> dict[str, str]:
        """The environment of an h2o_wave program in another process (a script, ``wave run app``) that is to use
        this server as its Wave server. It holds the secret and the hub's key pair: hand it to a child process, never
        print or save it."""
        return hub_env(self.host, self.port, self.root, self.hub_keys)

    def write_env(self, path: str) -> None:
        """:meth:`env` as ``export`` lines, in a file only this user can read (``source`` it in a shell)."""
        write_env_file(path, self.env())

    def url(self, route: str = '/') -> str:
        """A URL for a browser on this machine: through the door when there is one (the same URL after a restart).
        It holds a secret: keep it out of saved notebooks and logs."""
        return urls.direct(self.port, urls.root(self.base_url, self.door) if self.door else self.root, route)

    def browser_urls(self, route: str) -> dict[str, str]:
        """Where a browser finds ``route``: ``direct`` on loopback, ``proxy`` relative to a Jupyter server's base URL
        (jupyter-server-proxy). Both hold the secret."""
        return {'direct': urls.direct(self.port, self.root, route), 'proxy': urls.proxied(self.port, self.root, route)}

    def external_base(self, request: httputil.HTTPServerRequest) -> str:
        """The base URL the browser sees: the proxy's ``X-Forwarded-Prefix`` (jupyter-server-proxy sends
        ``{base}proxy/{port}``) in front of ``root``. Only a plain path counts: this decides where the page loads code
        from. A WebSocket gets no such header; its frames' paths are matched on ``root`` wherever it appears."""
        return security.safe_prefix(request.headers.get('X-Forwarded-Prefix')) + self.root

    def files_base(self, request: httputil.HTTPServerRequest) -> str:
        """Where the browser finds uploaded files (``{prefix}{base_url}_f/``): outside ``root``, so that the paths
        an app stores and shows (``q.args``, page dumps, history) never hold the secret."""
        return urls.files_base(self.base_url, security.safe_prefix(request.headers.get('X-Forwarded-Prefix')))

    def door_page(self, request: httputil.HTTPServerRequest) -> str:
        """The page for a request through the door: the app's page, which moves its own address under ``root``
        before anything loads (``history.replaceState``: no request, no redirect for a proxy to log)."""
        base = self.external_base(request)
        rest = request.path[len(urls.root(self.base_url, self.door or '')):]  # as sent: still percent-encoded
        target = json.dumps(base + rest).replace('<', '\\u003c')  # inside a <script>: no "</script>" in it
        move = f'<script>history.replaceState(null, "", {target} + location.search + location.hash)</script>'
        return self.index(base).replace('<head>', '<head>' + move, 1)

    def index(self, base: str) -> str:
        pages = self.index_pages
        if base in pages:
            pages.move_to_end(base)
        else:
            pages[base] = index_html(base)
            while len(pages) > MAX_INDEX_PAGES:
                pages.popitem(last=False)
        return pages[base]

    def check(self, start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders) -> Verdict:
        """The door (see :mod:`.listener`), before a request's body is read: in with a body limit for a path under
        ``root``; in, bodiless and still unproven, for an existing upload's key; refused for anything else."""
        path = start_line.path.split('?', 1)[0]
        if not security.plain_path(path):
            return Verdict(status=400, message='Bad Request: a path of plain segments, starting with one "/"')
        if path.startswith(self.base_url):
            rest = path[len(self.base_url):]
            given, slash, tail = rest.partition('/')
            if slash and security.same_secret(given, self.secret):
                if tail == '_f/' and start_line.method == 'POST':
                    return Verdict(self.max_upload_size + (1 << 20))
                hub = start_line.method in ('POST', 'PATCH', 'PUT') and self.hub_keys.matches(
                    headers.get('Authorization'))
                return Verdict(MAX_HUB_BODY if hub else MAX_BODY)
            if slash and self.door and security.same_secret(given, self.door):
                if start_line.method not in ('GET', 'HEAD') or headers.get('Upgrade'):
                    return Verdict(status=405, message='Method Not Allowed: the door only opens pages')
                return Verdict(MAX_BODY)
            if start_line.method in ('GET', 'HEAD', 'DELETE') and _UPLOAD_KEY.fullmatch(rest):
                if start_line.method == 'DELETE' and not self.hub_keys.matches(headers.get('Authorization')):
                    return Verdict(status=403, message=_FORBIDDEN)  # q.site.unload of another process: the hub's
                if not (self.runtime.uploads.root / rest.split('/')[1]).is_dir():
                    return Verdict(status=404, message='Not Found')
                return Verdict(0, proves=False)  # a file's key opens that file, nothing else
        return Verdict(status=403, message=_FORBIDDEN)

    def _log_request(self, handler: RequestHandler) -> None:
        """tornado's access log, without the secret; only server errors above DEBUG (in a kernel, a warning lands in
        the notebook's output, and anyone local can make requests fail)."""
        status = handler.get_status()
        level = logging.DEBUG if status < 500 else logging.ERROR
        req = handler.request
        logging.getLogger('tornado.access').log(level, '%d %s %s %.2fms', status, req.method,
                                                 security.REDACT.clean(req.uri),
                                                 1000.0 * req.request_time())

    def _application(self) -> Application:
        r = re.escape(self.root)
        ctx = {'server': self}
        files = {**ctx, 'path': str(self.runtime.uploads.root)}
        return Application([
            Rule(HubMatcher(self.root), HubHandler, ctx),  # first: the hub's requests share the pages' paths
            (rf'{r}_s/', SocketHandler, ctx),
            (rf'{r}_s', RedirectHandler, {'url': f'{self.root}_s/'}),
            (rf'{r}_f/', UploadHandler, ctx),
            (rf'{r}_f/(.+)', UploadedFileHandler, files),
            (rf'{r}_m/(.+)', StreamHandler, ctx),
            (rf'{r}((?:[^/]*/)*[^/]*\.[^/]*)', AssetHandler, {**ctx, 'path': str(www_dir())}),
            (rf'{r}.*', IndexHandler, ctx),
            *([(rf'{re.escape(urls.root(self.base_url, self.door))}(.*)', DoorHandler, ctx)] if self.door else []),
            (rf'{re.escape(self.base_url)}_f/(.+)', UploadedFileHandler, files),
        ], websocket_max_message_size=MAX_MESSAGE, websocket_ping_interval=50, compress_response=True,
            log_function=self._log_request)

    def __repr__(self) -> str:
        state = 'running' if self.running else 'stopped'
        return f'<Server {self.host}:{self.port} {state} apps={list(self.runtime.apps)}>'


def server_of(app_or_runtime: App | Runtime) -> Server | None:
    """The tornado server in front of an app's runtime (its port and secret), if any."""
    runtime = getattr(app_or_runtime, 'runtime', app_or_runtime)
    return next((t for t in runtime.transports if isinstance(t, Server)), None)
