"""What an attacker on this machine runs, for the attack tests: a web server on another loopback port, and a squatter
that takes the ``[::1]`` twin of every new ``127.0.0.1`` port it sees (as another local user watching
``/proc/net/tcp`` would)."""

from __future__ import annotations

import errno
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Attacker:
    """A web server on another loopback port: serves ``pages`` and records every request it gets (``seen``: path
    and headers; a POST's body is appended to the path after a space, as ``sendBeacon`` sends it)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        attacker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                attacker.seen.append((self.path, dict(self.headers)))
                body = attacker.pages.get(self.path.split('?')[0], 'window.pwned = true;').encode()
                self.send_response(200)
                kind = 'text/html' if self.path.split('?')[0].endswith('.html') else 'text/javascript'
                self.send_header('Content-Type', kind)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length).decode(errors='replace')
                attacker.seen.append((f'{self.path} {body}'.strip(), dict(self.headers)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.httpd.server_address[1]
        self.origin = f'http://127.0.0.1:{self.port}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [path for path, _ in self.seen]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def squat(host: str, port: int) -> socket.socket:
    """Bind and listen at ``host:port`` as another local user could (``SO_REUSEADDR``; no ``SO_REUSEPORT``, which
    the kernel grants only to sockets of one user)."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(family)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        s.listen()
    except OSError:
        s.close()
        raise
    return s


def shut(sock: socket.socket) -> None:
    """Close a listening socket that a thread waits on in ``accept``: a plain close would keep it listening until
    that ``accept`` returns."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def listening_ipv4_loopback_ports() -> set[int]:
    """Ports with a listening socket on 127.0.0.1, from ``/proc/net/tcp`` (what any local user can read)."""
    ports = set()
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            fields = line.split()
            address, state = fields[1], fields[3]
            host, port = address.split(':')
            if state == '0A' and host == '0100007F':
                ports.add(int(port, 16))
    return ports


class TwinSquatter:
    """Takes ``[::1]:P`` for every new listening ``127.0.0.1:P`` as soon as it sees it, and records what connects:
    ``tried`` (ports it tried), ``held`` (ports it got), ``seen`` (the first bytes of every connection it got)."""

    def __init__(self) -> None:
        self.known = listening_ipv4_loopback_ports()
        self.tried: set[int] = set()
        self.held: dict[int, socket.socket] = {}
        self.seen: list[tuple[int, bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            for port in listening_ipv4_loopback_ports() - self.known:
                self.known.add(port)
                self.tried.add(port)
                try:
                    sock = squat('::1', port)
                except OSError as e:
                    if e.errno != errno.EADDRINUSE:
                        raise
                    continue
                self.held[port] = sock
                threading.Thread(target=self._serve, args=(port, sock), daemon=True).start()
            time.sleep(0.002)

    def _serve(self, port: int, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                self.seen.append((port, conn.recv(4096)))
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nsquatted!')
            except OSError:
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for sock in self.held.values():
            shut(sock)
