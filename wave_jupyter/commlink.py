"""The comm transport: the Wave UI's whole traffic over one Jupyter comm, for browsers that cannot reach a port.

A view in the notebook (``jupyter/view.js``) runs the unchanged Wave UI in a sandboxed frame whose socket and file
requests are relayed to the kernel over the view's comm. This module is the kernel's end: it knows no IPython and no
widget, only messages (a JSON-able dict plus binary buffers) in :meth:`CommLink.receive`, and a ``send`` callable
out. What it speaks, from the browser's side:

* ``{"t": "boot"}`` -> ``{"t": "ui", "version", "index", "names"}``: the UI's ``index.html`` and the names of its
  files (``wave-static/``), keyed by the ``h2o-wave`` version so the browser can cache them; or, from a kernel with
  no UI files (JupyterLite), ``{"t": "ui", "site": SITE_UI}``: the page's site has them.
* ``{"t": "assets", "names": [...]}`` -> ``{"t": "assets", "names": [...]}`` with one buffer per file (in batches).
* ``{"t": "open", "sid", "client"}``, ``{"t": "frame", "sid", "data"}``, ``{"t": "close", "sid"}``: a WebSocket of the
  UI, as a :class:`~.connection.Connection` of the broker (same client ids, reconnects, ``client_disconnect``).
  The server's frames come back as ``{"t": "frame", "sid", "data"}``; a reload (``{"r":1}``) as ``{"t": "reload"}``.
* ``{"t": "http", "id", "method", "path", "headers"}`` with the body as a buffer: uploads (``POST _f/``) and file
  downloads (``GET _f/...``), answered ``{"t": "http", "id", "status", "headers"}`` with the body as a buffer.
* ``{"t": "beat"}``, sent by a view with open sockets every :data:`HEARTBEAT` seconds. A page that vanished without
  a word (a crash, a lost network, a laptop lid) sends nothing more: after :data:`SILENCE` seconds of silence its
  sockets are closed, so its tabs leave like a dropped WebSocket's. A kernel loop held up by a running cell does not
  count as silence: the view's messages wait in the shell channel meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
from collections.abc import Callable
from importlib import metadata
from typing import Any

from . import protocol, urls
from .assets import AssetsNotFound, www_dir
from .runtime import Runtime
from .uploads import UploadError

log = logging.getLogger('wave_jupyter')

#: ``send(message, buffers)``: how the link talks to its browser.
Send = Callable[[dict, list[bytes]], None]
#: Files per ``assets`` answer, and bytes per answer at most (comm messages stay well under frontends' limits).
BATCH_BYTES = 4 << 20
#: Seconds between a view's heartbeats, and of silence after which its sockets are closed (well over a minute:
#: browsers run the timers of a hidden tab about once a minute).
HEARTBEAT = 20.0
SILENCE = 150.0
#: Where a static site (JupyterLite, :mod:`.lite.jupyterlite`) keeps the UI's files for kernels that have none,
#: relative to its base URL.
SITE_UI = 'static/wave-jupyter/ui.json'
#: Sockets one view may have open at once: its UI has one, and one more while it reconnects; past this the oldest
#: is closed (a page that opens sockets in a loop cannot pile up broker clients).
MAX_SOCKETS = 8


def ui_version() -> str:
    try:
        return metadata.version('h2o-wave')
    except metadata.PackageNotFoundError:
        return 'unknown'


def _sid(message: dict) -> str:
    return str(message.get('sid'))[:64]


class _Socket:
    """One WebSocket of the UI, carried by a link: the broker's :class:`~.connection.Connection`."""

    def __init__(self, link: CommLink, sid: str) -> None:
        self.link = link
        self.sid = sid
        self.closed = False

    def send(self, text: str) -> None:
        if self.closed:
            return
        if text == protocol.RESET:  # the UI would reload its document, which a frame without a server cannot do
            self.link.send({'t': 'reload'}, [])
            return
        self.link.send({'t': 'frame', 'sid': self.sid, 'data': text}, [])

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.link.send({'t': 'close', 'sid': self.sid}, [])
            self.link.dropped(self)


class CommLink:
    """The kernel's end of one view's comm: the UI of ``route``, served from ``runtime``."""

    def __init__(self, runtime: Runtime, route: str, send: Send, max_upload_size: int = 256 << 20,
                 silence: float = SILENCE) -> None:
        self.runtime = runtime
        self.route = route
        self._send = send
        self.max_upload_size = max_upload_size
        self.silence = silence
        self.sockets: dict[str, _Socket] = {}
        self.clients: dict[str, Any] = {}
        self.closed = False
        self._heard = 0.0  # loop time of the view's last message
        self._watch: asyncio.TimerHandle | None = None

    def send(self, message: dict, buffers: list[bytes]) -> None:
        if not self.closed:
            try:
                self._send(message, buffers)
            except Exception:  # a comm that went away
                log.debug('wave_jupyter: a view went away', exc_info=True)

    # --- messages from the browser -----------------------------------------------------------------------------

    def receive(self, message: dict, buffers: list[bytes] | None = None) -> None:
        """Handle one message of the view; a bad one is logged and answered where it can be, never raised."""
        try:
            self._heard = asyncio.get_running_loop().time()
            kind = message.get('t')
            handler = getattr(self, f'_on_{kind}', None) if isinstance(kind, str) else None
            if handler is None:
                log.warning('wave_jupyter: a view sent an unknown message %r', str(kind)[:40])
                return
            handler(message, list(buffers or []))
        except Exception:
            log.exception('wave_jupyter: failed to handle a view message')

    def _on_boot(self, message: dict, buffers: list[bytes]) -> None:
        try:
            static = www_dir() / 'wave-static'
        except AssetsNotFound:  # a kernel with no UI files (JupyterLite): the site serves them
            self.send({'t': 'ui', 'site': SITE_UI}, [])
            return
        names = sorted(p.name for p in static.iterdir() if p.is_file())
        index = (www_dir() / 'index.html').read_text(encoding='utf-8')
        self.send({'t': 'ui', 'version': ui_version(), 'index': index, 'names': names}, [])

    def _on_assets(self, message: dict, buffers: list[bytes]) -> None:
        static = (www_dir() / 'wave-static').resolve()
        batch_names: list[str] = []
        batch: list[bytes] = []
        size = 0
        for name in message.get('names') or []:
            path = (static / str(name)).resolve()
            if path.parent != static or not path.is_file():
                continue
            data = path.read_bytes()
            if batch and size + len(data) > BATCH_BYTES:
                self.send({'t': 'assets', 'names': batch_names}, batch)
                batch_names, batch, size = [], [], 0
            batch_names.append(path.name)
            batch.append(data)
            size += len(data)
        self.send({'t': 'assets', 'names': batch_names, 'last': True}, batch)

    def _on_open(self, message: dict, buffers: list[bytes]) -> None:
        sid = _sid(message)
        old = self.sockets.get(sid)
        if old is not None:  # the same socket opened again: the old one is gone (the browser has only the new one)
            old.closed = True
            self.dropped(old)
        while len(self.sockets) >= MAX_SOCKETS:
            next(iter(self.sockets.values())).close()
        sock = self.sockets[sid] = _Socket(self, sid)
        client_id = message.get('client') if isinstance(message.get('client'), str) else None
        headers = {'User-Agent': [str(message.get('agent', 'wave_jupyter comm'))], 'X-Wave-Transport': ['comm']}
        client = self.runtime.broker.connect(sock, client_id, headers)
        self.clients[sid] = client
        if self._watch is None:
            self._check(asyncio.get_running_loop().time())

    def _on_beat(self, message: dict, buffers: list[bytes]) -> None:
        pass  # hearing it is all (receive noted the time)

    def _check(self, due: float) -> None:
        """Close the sockets of a view silent for too long; ``due`` is when this check was meant to run."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._watch = None
        if self.closed or not self.sockets:
            return
        if now - due > 1.0:
            self._heard = max(self._heard, now)  # the loop was held up: the view's messages may be waiting in line
        elif now - self._heard > self.silence:
            log.info('wave_jupyter: a view of %s went silent; closing its %d socket(s)', self.route,
                     len(self.sockets))
            for sock in list(self.sockets.values()):
                sock.close()
            return
        step = min(self.silence / 3, HEARTBEAT)
        self._watch = loop.call_later(step, self._check, now + step)

    def _on_frame(self, message: dict, buffers: list[bytes]) -> None:
        sid = _sid(message)
        client = self.clients.get(sid)
        data = message.get('data')
        if client is None or not isinstance(data, str):
            return
        # The frame's path is the sandboxed document's location, which is not the app's: this view is one route.
        kind, _, rest = data.partition(' ')
        _, _, payload = rest.partition(' ')
        self.runtime.broker.receive(client, f'{kind} {self.route} {payload}' if kind in protocol.KINDS else data)

    def _on_close(self, message: dict, buffers: list[bytes]) -> None:
        sock = self.sockets.get(_sid(message))
        if sock is not None:
            sock.closed = True
            self.dropped(sock)

    def dropped(self, sock: _Socket) -> None:
        self.sockets.pop(sock.sid, None)
        client = self.clients.pop(sock.sid, None)
        if client is not None:
            self.runtime.broker.disconnected(client, sock)

    def _on_http(self, message: dict, buffers: list[bytes]) -> None:
        rid = message.get('id')
        method = str(message.get('method', 'GET')).upper()
        path = str(message.get('path', ''))
        if urls.FILES not in path:
            self._reply(rid, 404, 'text/plain', f'not served over the comm: {path[:80]}'.encode())
            return
        stored = urls.stored_of(path)
        if method == 'POST' and not stored:
            self._upload(rid, message, buffers)
        elif method == 'GET' and stored:
            self._download(rid, stored)
        else:
            self._reply(rid, 405, 'text/plain', b'method not allowed')

    def _upload(self, rid: Any, message: dict, buffers: list[bytes]) -> None:
        headers = {str(k).lower(): str(v) for k, v in (message.get('headers') or {}).items()}
        body = buffers[0] if buffers else b''
        if len(body) > self.max_upload_size:
            self._reply(rid, 413, 'text/plain',
                        f'upload too large: {len(body)} bytes; the limit is {self.max_upload_size} bytes'.encode())
            return
        one_folder = headers.get('wave-directory-upload', '').lower() == 'true'
        upload = None
        try:
            upload = self.runtime.uploads.receive(headers.get('content-type', ''), one_folder)
            upload.feed(bytes(body))
            stored = upload.finish()
        except UploadError as e:
            if upload is not None:
                upload.abort()
            self._reply(rid, 400, 'text/plain', str(e).encode())
            return
        base = urls.files_base(self.runtime.base_url)
        files = [urls.file_url(base, s) for s in stored]
        self._reply(rid, 200, 'application/json', json.dumps({'files': files}).encode())

    def _download(self, rid: Any, relative: str) -> None:
        try:
            path = self.runtime.uploads.resolve(relative)
        except UploadError:
            path = None
        if path is None or not path.is_file():
            self._reply(rid, 404, 'text/plain', b'no such file')
            return
        kind = mimetypes.guess_type(path.name)[0] or 'application/octet-stream'
        attachment = self.runtime.uploads.is_untrusted(str(path.relative_to(self.runtime.uploads.root)))
        self._reply(rid, 200, kind, path.read_bytes(), name=path.name, attachment=attachment)

    def _reply(self, rid: Any, status: int, kind: str, body: bytes, name: str = '', attachment: bool = False) -> None:
        self.send({'t': 'http', 'id': rid, 'status': status, 'mime': kind, 'name': name, 'attachment': attachment},
                  [body])

    # --- the view went away ------------------------------------------------------------------------------------

    def close(self) -> None:
        """The view closed: its sockets are gone (their tabs expire after the reconnect timeout)."""
        for sock in list(self.sockets.values()):
            sock.closed = True
            self.dropped(sock)
        self.closed = True
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
