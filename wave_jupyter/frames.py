"""WebSocket frames written straight to tornado's stream: the fan-out fast path, in one place.

The broker hands the same ``str`` to every subscriber of a page, so one frame is built per broadcast and written to
each socket without ``write_message``'s per-message coroutine, straight to the socket when it can take it, and at most
once per socket per turn of the loop (:class:`Outbox`): the server's main costs when a page fans out to hundreds of
clients. This module is also the one place that reads a private attribute of tornado (the size of a stream's
write buffer, for the slow-client rule); ``tests/test_attacks.py`` fails loudly if tornado renames it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from tornado.iostream import IOStream
from tornado.websocket import WebSocketHandler


def socket_stream(handler: WebSocketHandler) -> IOStream | None:
    """The open stream under a WebSocket handler (``ws_connection.stream``), or None once it is closing.

    Writing frames to it skips tornado's per-message coroutine; valid because the server never negotiates
    permessage-deflate. ``tests/test_attacks.py`` checks this still finds tornado's stream.
    """
    conn = handler.ws_connection
    if conn is None or conn.is_closing():
        return None
    return conn.stream


def pending_bytes(stream: IOStream) -> int:
    """Bytes written to a tornado stream and not yet handed to the socket. tornado has no public accessor: this is
    the one place that reads its private counter (``tests/test_attacks.py`` fails loudly if tornado renames it)."""
    buffer = stream._write_buffer
    return len(buffer) if buffer is not None else 0


def text_frame(text: str) -> bytes:
    """One final, unmasked, uncompressed text frame (RFC 6455 §5.2). Valid because the server never negotiates
    permessage-deflate."""
    data = text.encode()
    n = len(data)
    head = bytes([0x81, n]) if n < 126 else (b'\x81\x7e' + n.to_bytes(2, 'big') if n < 1 << 16
                                             else b'\x81\x7f' + n.to_bytes(8, 'big'))
    return head + data


def write_frame(stream: IOStream, frame: bytes) -> None:
    """Write ``frame``: straight to the socket when nothing is queued before it (no Future, no buffer bookkeeping:
    most of tornado's cost per write), else, and for what the socket did not take, through the stream."""
    if type(stream) is IOStream and not pending_bytes(stream) and stream.socket is not None:
        try:
            sent = stream.socket.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:  # the peer went away: the stream notices and closes as it would have
            sent = 0
        if sent == len(frame):
            return
        frame = memoryview(frame)[sent:]
    stream.write(frame)


class Queued(Protocol):
    """A socket as the outbox sees it (``handlers.SocketHandler``): what it queued in this turn."""

    turn_open: bool
    queue: list[str]

    def write_queue(self, frames: dict[Any, tuple[list[str], bytes]]) -> None: ...


class Outbox:
    """Writes to many sockets: the first document of a turn of the event loop at once, the rest of the turn as one.

    A socket's first document in a turn is written immediately (no added latency). More documents for it in the same
    turn (a busy moment: many queries, a handler saving in a loop) are queued and written at the end of the turn as
    one frame, joined by ``\n``, which the UI splits; waved does the same for a client that is behind. A broadcast
    hands every socket the same strings, so each distinct run of them is encoded once (``frames``, kept for the turn).
    """

    def __init__(self) -> None:
        self._due: list[Queued] = []
        #: Frames built in this turn, by the ids of their documents (see :func:`frame_of`).
        self.frames: dict[Any, tuple[list[str], bytes]] = {}

    def add(self, sock: Queued) -> None:
        """``sock`` wrote in this turn: what it queues until the turn ends is written then (``write_queue``)."""
        if not self._due:
            asyncio.get_running_loop().call_soon(self.flush)
        self._due.append(sock)

    def flush(self) -> None:
        due, self._due = self._due, []
        frames, self.frames = self.frames, {}
        for sock in due:
            sock.turn_open = False
            if sock.queue:
                sock.write_queue(frames)


def frame_of(queue: list[str], frames: dict[Any, tuple[list[str], bytes]]) -> bytes:
    """The frame of the documents in ``queue``, built once per distinct run (``frames`` keeps the runs alive, so the
    ids in its keys cannot be reused meanwhile)."""
    key = id(queue[0]) if len(queue) == 1 else tuple(map(id, queue))
    built = frames.get(key)
    if built is None:
        built = frames[key] = (queue, text_frame(queue[0] if len(queue) == 1 else '\n'.join(queue)))
    return built[1]
