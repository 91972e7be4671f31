"""The one WebSocket test client: a bare Wave UI stand-in that speaks the UI's frames (sync, and async for tests
whose server runs on the test's own loop)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import connect as connect_async
from websockets.sync.client import ClientConnection, connect


def _url(server: Any, secret: str | None, path: str, client_id: str | None, port: int | None,
         root: str | None) -> tuple[str, str]:
    if server is not None:
        port = server.port
        root = server.root if secret == 'right' else f'{server.base_url}{secret}/' if secret else server.base_url
    url = f'ws://127.0.0.1:{port}{root}{path}'
    if client_id:
        url += f'?client-id={client_id}'
    return url, f'http://127.0.0.1:{port}'


class WaveSocket:
    """A socket to ``server`` (or to ``port`` under ``root``); ``secret`` 'right', another value, or None."""

    def __init__(self, server: Any = None, client_id: str | None = None, origin: str | None = 'same',
                 secret: str | None = 'right', path: str = '_s/', *, port: int | None = None, root: str | None = None,
                 max_size: int | None = 1 << 20) -> None:
        url, same = _url(server, secret, path, client_id, port, root)
        self.ws: ClientConnection = connect(url, origin=same if origin == 'same' else origin, open_timeout=5,
                                            close_timeout=1, max_size=max_size).__enter__()

    def send(self, text: str) -> None:
        self.ws.send(text)

    def recv_docs(self, timeout: float = 15.0) -> list[dict]:
        """One frame, split into its JSON documents as the UI does."""
        return [json.loads(line) for line in self.ws.recv(timeout=timeout).split('\n')]

    def recv_until(self, predicate: Any, timeout: float = 15.0) -> dict:
        """Documents until one matches; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for doc in self.recv_docs(max(0.05, deadline - time.monotonic())):
                if predicate(doc):
                    return doc

    def recv_text(self, needle: str, timeout: float = 10) -> str:
        """Frames until one holds ``needle``; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.ws.recv(timeout=max(0.05, deadline - time.monotonic()))
            if needle in text:
                return text

    def hello(self) -> str:
        """The first frame of a new client: its id."""
        return self.recv_docs()[0]['i']

    def close(self) -> None:
        self.ws.close()


class Tab(WaveSocket):
    """A tab of one app: it has its client id and has sent the watch of ``route``."""

    def __init__(self, route: str = '/demo', server: Any = None, **options: Any) -> None:
        super().__init__(server, **options)
        self.route = route
        self.id = self.hello()
        self.send(f'+ {route} ')

    def click(self, **args: Any) -> None:
        self.send(f'@ {self.route} {json.dumps(args)}')


def joined(server: Any, route: str, **options: Any) -> WaveSocket:
    """A socket that has its client id, watches ``route`` and got the app's first ops."""
    sock = WaveSocket(server, **options)
    sock.hello()
    sock.send(f'+ {route} ')
    sock.recv_until(lambda d: 'd' in d)
    return sock


class AsyncWaveSocket:
    """The same client for a test whose server runs on the test's own event loop."""

    @classmethod
    async def open(cls, server: Any) -> AsyncWaveSocket:
        self = cls()
        url, origin = _url(server, 'right', '_s/', None, None, None)
        self.ws = await connect_async(url, origin=origin)
        return self

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def recv(self, timeout: float = 5) -> str:
        return await asyncio.wait_for(self.ws.recv(), timeout)

    async def hello(self) -> str:
        return json.loads(await self.recv())['i']

    async def close(self) -> None:
        await self.ws.close()
