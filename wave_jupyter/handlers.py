"""The tornado request handlers of :class:`~.server.Server`: the Wave UI's document and assets, its ``_s/`` socket,
``_f/`` uploads and uploaded files. They reach the runtime only through its public methods and the broker's
:class:`~.connection.Connection` interface.

The secret was checked before a request gets here (the server's door, as its headers arrived). What the handlers
need of their server is :class:`Host`, so this module imports nothing above it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from typing import Any, Protocol
from urllib.parse import quote

from tornado import httputil
from tornado.iostream import StreamClosedError
from tornado.web import HTTPError, RequestHandler, StaticFileHandler, stream_request_body
from tornado.websocket import WebSocketHandler

from . import security, urls
from .frames import Outbox, frame_of, pending_bytes, socket_stream, write_frame
from .runtime import Runtime
from .uploads import MultipartUpload, UploadError

log = logging.getLogger('wave_jupyter')


class Host(Protocol):
    """What the handlers use of the server in front of them."""

    runtime: Runtime
    secret: str
    allowed_origins: list[str]
    frame_ancestors: str
    max_upload_size: int
    max_pending: int
    outbox: Outbox

    def external_base(self, request: httputil.HTTPServerRequest) -> str: ...

    def files_base(self, request: httputil.HTTPServerRequest) -> str: ...

    def index(self, base: str) -> str: ...

    def door_page(self, request: httputil.HTTPServerRequest) -> str: ...


class Guarded:
    """Hardening headers on every answer; a state-changing request must come from our own pages."""

    server: Host

    def initialize(self, server: Host, **kwargs: Any) -> None:
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
                        security.REDACT.clean(req.path), req.headers.get('Origin'),
                        req.headers.get('Sec-Fetch-Site'))
            raise HTTPError(403, reason='Forbidden: a page of another origin may not change this server')

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header('Content-Type', 'text/plain; charset=UTF-8')
        self.finish(f'{status_code} {self._reason}\n')


class IndexHandler(Guarded, RequestHandler):
    """Every extensionless path is the UI's document; the UI's router reads the route from the location."""

    def get(self) -> None:
        self.set_header('Content-Type', 'text/html; charset=UTF-8')
        self.set_header('Cache-Control', 'no-cache, must-revalidate')
        self.finish(self.server.index(self.server.external_base(self.request)))

    def head(self) -> None:
        self.set_header('Content-Type', 'text/html; charset=UTF-8')
        self.finish()


class DoorHandler(Guarded, RequestHandler):
    """A page through a fixed secret's door: the app's page under the server's own secret (see ``Server``)."""

    def get(self, _: str) -> None:
        self.set_header('Content-Type', 'text/html; charset=UTF-8')
        self.set_header('Cache-Control', 'no-store')
        self.finish(self.server.door_page(self.request))

    def head(self, _: str) -> None:
        self.set_header('Content-Type', 'text/html; charset=UTF-8')
        self.finish()


class AssetHandler(Guarded, StaticFileHandler):
    pass


class UploadedFileHandler(Guarded, StaticFileHandler):
    """Uploaded files. What a browser uploaded is someone's data, not part of the app: it is served as an attachment
    in a sandbox, so an uploaded ``.html`` or ``.svg`` never runs script in the app's origin. Files the app itself
    published (``q.site.upload``) are served inline, as under waved."""

    def set_extra_headers(self, path: str) -> None:
        # The key of the file actually served (tornado resolved the path), not of what the URL starts with.
        served = os.path.relpath(self.absolute_path, self.root)
        if self.server.runtime.uploads.is_untrusted(served):
            name = path.rsplit('/', 1)[-1]
            self.set_header('Content-Disposition', f"attachment; filename*=UTF-8''{quote(name)}")
            self.set_header('Content-Security-Policy', "sandbox; default-src 'none'")

    def delete(self, path: str) -> None:
        try:
            self.server.runtime.uploads.delete(path)
        except UploadError as e:
            raise HTTPError(404, reason=str(e)) from None


class StreamHandler(Guarded, RequestHandler):
    """``GET {root}_m/<path>``: an uplinked stream, each new frame the next part of one ``multipart/x-mixed-replace``
    answer (what an ``<img>`` shows as a video), until the app unlinks it or the browser goes."""

    async def get(self, path: str) -> None:
        stream = self.server.runtime.streams.get(path)
        if stream is None:
            raise HTTPError(404, reason='Not Found: no such stream (it ended, or never began)')
        boundary = secrets.token_hex(12)
        self.set_header('Content-Type', f'multipart/x-mixed-replace; boundary={boundary}')
        self.set_header('Cache-Control', 'no-store')
        shown = 0
        while (frame := await stream.after(shown)) is not None:
            self.write(f'--{boundary}\r\nContent-Type: {frame.content_type}\r\nContent-Length: {len(frame.data)}'
                       f'\r\n\r\n'.encode() + frame.data + b'\r\n')
            try:
                await self.flush()
            except StreamClosedError:
                return  # the browser went
            shown = frame.number
        self.finish(f'--{boundary}--\r\n')


@stream_request_body
class UploadHandler(Guarded, RequestHandler):
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
            self._upload = self.server.runtime.uploads.receive(self.request.headers.get('Content-Type', ''), one_folder)
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
        self.finish(json.dumps({'files': [urls.file_url(base, s) for s in stored]}))

    def on_connection_close(self) -> None:
        upload = getattr(self, '_upload', None)
        if upload is not None and not self._finished:
            upload.abort()
        super().on_connection_close()


class SocketHandler(Guarded, WebSocketHandler):
    """The UI's socket; it speaks to the broker through the two-method Connection interface."""

    def check_origin(self, origin: str) -> bool:
        ok = security.origin_allowed(origin, self.request.host, self.server.allowed_origins)
        if not ok:
            log.warning('refused a WebSocket from origin %s (allowed: same host, %s)', origin,
                        self.server.allowed_origins or 'nothing else')
        return ok

    queue: list[str] | None = None  # documents to write at the end of this turn of the loop
    turn_open = False  # wrote in this turn of the loop: more documents wait for its end

    def open(self) -> None:
        self.set_nodelay(True)  # small frames go out at once (with Nagle on, a second frame waits ~40 ms for an ACK)
        self.largest = 0
        headers: dict[str, list[str]] = {}
        for name, value in self.request.headers.get_all():
            if name.lower() != 'cookie':
                headers.setdefault(name, []).append(value)
        self.client = self.server.runtime.broker.connect(self, self.get_query_argument('client-id', None), headers,
                                                 self.server.external_base(self.request))

    def on_message(self, message: str | bytes) -> None:
        self.server.runtime.broker.receive(self.client, message)

    def on_close(self) -> None:
        client = getattr(self, 'client', None)
        if client is not None:
            self.server.runtime.broker.disconnected(client, self)

    def send(self, text: str) -> None:
        """Write one document: at once if it is this socket's first in this turn of the loop, else with the rest of
        the turn's, as one frame at its end (the server's :class:`~.frames.Outbox`)."""
        if self.queue is not None:
            self.queue.append(text)
            return
        if socket_stream(self) is None:
            return
        self.queue = [text]
        if self.turn_open:
            return  # written when the turn ends
        self.turn_open = True
        outbox = self.server.outbox
        outbox.add(self)
        self.write_queue(outbox.frames)

    def write_queue(self, frames: dict | None = None) -> None:
        """Write the queued documents as one frame. A client is too slow when more than ``max_pending`` bytes beyond
        its largest frame are still unsent: it is closed (its tab reconnects and gets its page). One large frame alone
        is never too slow."""
        queue, self.queue = self.queue, None
        stream = socket_stream(self)
        if not queue or stream is None:
            return
        frame = frame_of(queue, {} if frames is None else frames)
        limit = self.server.max_pending
        if pending_bytes(stream) > limit + self.largest:
            log.warning('client %s is too slow (over %d bytes unsent): closing it; its tab will reconnect',
                        getattr(self, 'client', None) and self.client.id, limit)
            stream.close()
            return
        if len(frame) > self.largest:
            self.largest = len(frame)
        try:
            write_frame(stream, frame)
        except StreamClosedError:
            pass

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        self.write_queue()  # what was queued goes before the close frame
        super().close(code, reason)
