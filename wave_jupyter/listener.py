"""The HTTP server's front door: who gets a connection, and whose request is read at all.

tornado reads a request's whole body before a handler can look at it, and keeps idle connections for an hour. A server
that any local process can reach needs a stricter door:

* **The check runs as the headers arrive.** A request that fails it is answered and its connection dropped before one
  byte of its body is read. One that passes gets the body limit of its route (uploads only may be large).
* **Connections that have not yet shown the secret are capped**; past the cap the oldest of them is dropped, so a
  flood of half-sent requests cannot crowd out a browser that is about to show it. Headers must arrive within
  ``header_timeout`` seconds, a body within ``body_timeout``.
* **Both loopbacks are held.** A browser (and a proxy) that is given ``localhost`` tries ``[::1]`` first, so a port
  held on ``127.0.0.1`` alone leaves its twin ``[::1]:<port>`` to any other local user, who would then receive the
  browser's requests, cookies of the notebook's host included. :func:`bind_loopbacks` binds both at one port (a
  chosen port whose twin is taken is refused; a free port is picked again), and every URL we build names
  ``127.0.0.1`` besides.
* **Running out of file descriptors** drops the oldest unproven connections to make room, or else pauses accepting
  for a moment; it is logged once, instead of spinning on the listening socket with a traceback per attempt.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream
from tornado.netutil import bind_sockets

from .urls import LOOPBACK

log = logging.getLogger('wave_jupyter')

@dataclass(frozen=True)
class Verdict:
    """What the door decides for one request: let it in with a body limit, or refuse it with a status."""

    body_limit: int = 0
    status: int = 0
    message: str = ''
    #: Letting it in shows that the connection knows the secret (it leaves the unproven connections).
    proves: bool = True

    @property
    def refused(self) -> bool:
        return self.status != 0


Check = Callable[[httputil.RequestStartLine, httputil.HTTPHeaders], Verdict]

_OUT_OF_FILES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
#: The IPv4 loopback a server is reached at, and its IPv6 twin that it holds so that nobody else can.
TWIN = '::1'
#: Errors that mean this machine has no IPv6 loopback: then no one can stand at the twin either.
_NO_IPV6 = (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT)


class TwinTaken(OSError):
    """The port's ``[::1]`` twin is held by another process: a browser sent to ``localhost`` would reach it."""


def bind_loopbacks(port: int = 0, attempts: int = 32) -> list[socket.socket]:
    """Listening sockets on ``127.0.0.1`` and ``[::1]`` at one port (``0``: a free one).

    Another local user who watches ``/proc/net/tcp`` can bind the twin in the moment between our two binds; a free
    port is then given up and another one tried, a chosen port is refused (:class:`TwinTaken`).
    """
    for _ in range(attempts if port == 0 else 1):
        first = bind_sockets(port, LOOPBACK)
        chosen = first[0].getsockname()[1]
        try:
            return first + bind_sockets(chosen, TWIN)
        except OSError as e:
            if e.errno in _NO_IPV6:
                return first
            for sock in first:
                sock.close()
            if e.errno != errno.EADDRINUSE:
                raise
            if port == 0:
                log.warning('wave_jupyter: [::1]:%d was taken as soon as 127.0.0.1:%d was bound: another port is '
                            'tried', chosen, chosen)
                continue
    raise TwinTaken(errno.EADDRINUSE, f'[::1]:{port or chosen} is held by another process, which a browser sent to '
                                      f'localhost:{port or chosen} would reach instead of this server')


class Gate(httputil.HTTPServerConnectionDelegate):
    """Wraps a tornado ``Application``: each request meets ``check`` before the application sees it."""

    def __init__(self, application: httputil.HTTPServerConnectionDelegate, check: Check) -> None:
        self.application = application
        self.check = check
        self.listener: Listener | None = None

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        inner = self.application.start_request(server_conn, request_conn)
        return _Checked(self, server_conn, request_conn, inner)

    def on_close(self, server_conn: object) -> None:
        self.application.on_close(server_conn)


class _Checked(httputil.HTTPMessageDelegate):
    def __init__(self, gate: Gate, server_conn: Any, request_conn: Any, inner: httputil.HTTPMessageDelegate) -> None:
        self.gate = gate
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.inner = inner

    def headers_received(self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
                         headers: httputil.HTTPHeaders) -> Awaitable[None] | None:
        assert isinstance(start_line, httputil.RequestStartLine)
        verdict = self.gate.check(start_line, headers)
        length = headers.get('Content-Length', '')
        if not verdict.refused and length.isdigit() and int(length) > verdict.body_limit:
            self._refuse(413, f'Payload Too Large: the limit here is {verdict.body_limit} bytes')
            return None
        if not verdict.refused:
            if verdict.proves and self.gate.listener is not None:
                self.gate.listener.proven(self.server_conn)
            self.request_conn.set_max_body_size(verdict.body_limit)
            return self.inner.headers_received(start_line, headers)
        self._refuse(verdict.status, verdict.message)
        return None

    def _refuse(self, status: int, message: str) -> None:
        """Answer and drop the connection without reading the body (the request gave no reason to read it)."""
        body = f'{status} {message}\n'.encode()
        head = (f'HTTP/1.1 {status} {httputil.responses.get(status, "Error")}\r\n'
                f'Content-Type: text/plain; charset=UTF-8\r\nContent-Length: {len(body)}\r\n'
                'X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n').encode()
        stream = self.request_conn.detach()
        try:
            stream.write(head + body).add_done_callback(lambda _: stream.close())
        except Exception:  # noqa: BLE001 - the peer is already gone
            stream.close()

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        self.inner.finish()

    def on_connection_close(self) -> None:
        self.inner.on_connection_close()


def _open_files_limit() -> int:
    try:
        import resource
    except ImportError:  # Windows
        return 1 << 16
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft > 0 else 1 << 20


class Listener(HTTPServer):
    """tornado's ``HTTPServer`` with the door above: a cap on unproven connections and a calm accept loop."""

    def initialize(self, gate: Gate, *, max_unproven: int = 128, **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(gate, **kwargs)
        gate.listener = self
        #: At most a quarter of the process's file descriptors go to connections that have not shown the secret.
        self.max_unproven = min(max_unproven, max(8, _open_files_limit() // 4))
        self.sockets: list[socket.socket] = []
        #: Connections (by their stream) that have not yet sent a request that passed the check, oldest first.
        self._unproven: dict[Any, None] = {}
        self._out_of_files = False

    # --- connections -----------------------------------------------------------------------------------------

    def handle_stream(self, stream: IOStream, address: tuple) -> None:
        while len(self._unproven) >= self.max_unproven:
            oldest = next(iter(self._unproven))
            del self._unproven[oldest]
            oldest.close()
        self._unproven[stream] = None
        super().handle_stream(stream, address)

    def proven(self, server_conn: Any) -> None:
        self._unproven.pop(getattr(server_conn, 'stream', None), None)

    def on_close(self, server_conn: Any) -> None:
        self._unproven.pop(getattr(server_conn, 'stream', None), None)
        super().on_close(server_conn)

    @property
    def unproven(self) -> int:
        return len(self._unproven)

    # --- accepting ---------------------------------------------------------------------------------------------

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        loop = IOLoop.current()
        for sock in sockets:
            self.sockets.append(sock)
            loop.add_handler(sock, self._accept, IOLoop.READ)

    def _accept(self, sock: socket.socket, events: int) -> None:
        for _ in range(128):  # then let the loop serve others
            try:
                conn, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as e:
                if e.errno not in _OUT_OF_FILES:
                    raise
                self._pause(sock, e)
                return
            if self._out_of_files:
                self._out_of_files = False
                log.warning('wave_jupyter: accepting connections again')
            stream = IOStream(conn, max_buffer_size=self.max_buffer_size, read_chunk_size=self.read_chunk_size)
            self.handle_stream(stream, address)

    def _pause(self, sock: socket.socket, error: OSError) -> None:
        """Out of file descriptors: drop a few of the oldest unproven connections to make room, stop watching the
        socket until they are closed (it stays readable, so watching it would spin), and say so once."""
        if not self._out_of_files:
            self._out_of_files = True
            log.error('wave_jupyter: cannot accept connections (%s); dropping the oldest of %d connections that '
                      'have not sent the secret, and pausing briefly', error.strerror, len(self._unproven))
        for stream in list(self._unproven)[:16]:
            del self._unproven[stream]
            stream.close()
        loop = IOLoop.current()
        loop.remove_handler(sock)

        def resume() -> None:
            if sock in self.sockets:
                loop.add_handler(sock, self._accept, IOLoop.READ)
        loop.call_later(0.05, resume)

    def stop(self) -> None:
        loop = IOLoop.current()
        for sock in self.sockets:
            try:
                loop.remove_handler(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
        self.sockets = []
        # And the connections it accepted: a browser keeps idle ones open and would send its next request (maybe to
        # a server started on this port since) to this one.
        for conn in list(self._connections):
            conn.stream.close()
