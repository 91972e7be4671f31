"""A bare Wave UI stand-in for protocol tests: a WebSocket that speaks the UI's frames."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection, connect


class WaveSocket:
    def __init__(self, server: Any, client_id: str | None = None, origin: str | None = 'same',
                 secret: str | None = 'right', path: str = '_s/') -> None:
        root = server.root if secret == 'right' else f'{server.base_url}{secret}/' if secret else server.base_url
        url = f'ws://127.0.0.1:{server.port}{root}{path}'
        if client_id:
            url += f'?client-id={client_id}'
        headers: dict[str, str] = {}
        if origin == 'same':
            origin = f'http://127.0.0.1:{server.port}'
        self.ws: ClientConnection = connect(url, additional_headers=headers, origin=origin, open_timeout=5,
                                              close_timeout=1).__enter__()

    def send(self, text: str) -> None:
        self.ws.send(text)

    def recv_docs(self, timeout: float = 15.0) -> list[dict]:
        """One frame, split into its JSON documents as the UI does."""
        return [json.loads(line) for line in self.ws.recv(timeout=timeout).split('\n')]

    def recv_until(self, predicate: Any, timeout: float = 15.0) -> dict:
        """Documents until one matches; returns it."""
        while True:
            for doc in self.recv_docs(timeout):
                if predicate(doc):
                    return doc

    def hello(self) -> str:
        """The first frame of a new client: its id."""
        return self.recv_docs()[0]['i']

    def close(self) -> None:
        self.ws.close()


def joined(server: Any, route: str, **options: Any) -> WaveSocket:
    """A socket that has its client id, watches ``route`` and got the app's first ops."""
    sock = WaveSocket(server, **options)
    sock.hello()
    sock.send(f'+ {route} ')
    sock.recv_until(lambda d: 'd' in d)
    return sock
