"""WebSocket frames written straight to tornado's stream: the fan-out fast path, in one place.

The broker hands the same ``str`` to every subscriber of a page, so one frame is built per broadcast and written to
each socket without ``write_message``'s per-message coroutine (the server's main cost when a page fans out to hundreds
of clients). This module is also the one place that reads a private attribute of tornado (the size of a stream's
write buffer, for the slow-client rule); ``tests/test_attacks.py`` fails loudly if tornado renames it.
"""

from __future__ import annotations

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
