"""The Wave UI wire format: client frames in, JSON documents out.

The UI sends text frames ``"<T> <path> <data>"`` (T is ``+`` watch, ``@`` query or ``*`` patch) and accepts frames
holding one or more compact JSON documents separated by ``\\n``. See ``docs/protocol.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

WATCH = '+'
QUERY = '@'
PATCH = '*'
KINDS = (WATCH, QUERY, PATCH)

#: Sent when nothing else answers a query: a non-empty frame clears the UI's busy overlay without side effects.
ACK = '{}'
#: Tells the browser to reload the document (app (re)registered or hot-swapped).
RESET = '{"r":1}'
#: Clears pending args in the browser; waved sends it after each multicast/broadcast query.
CLEAR = '{"c":1}'


class ProtocolError(ValueError):
    """A frame the UI would never send: the sender gets an error, the server keeps going."""


@dataclass(frozen=True)
class ClientFrame:
    kind: str
    path: str
    data: str


def parse_frame(text: str | bytes) -> ClientFrame:
    """Split a client frame the way waved does (``SplitN(" ", 3)``), but say what is wrong instead of dropping it."""
    if isinstance(text, bytes):
        raise ProtocolError('binary frames are not part of the Wave protocol')
    parts = text.split(' ', 2)
    if len(parts) != 3:
        raise ProtocolError(f'expected "<T> <path> <data>", got {_clip(text)!r}')
    kind, path, data = parts
    if kind not in KINDS:
        raise ProtocolError(f'unknown frame type {kind!r} (expected one of + @ *)')
    if not path.startswith('/'):
        raise ProtocolError(f'frame path must start with "/", got {_clip(path)!r}')
    return ClientFrame(kind, path, data)


def parse_query(data: str) -> dict[str, Any]:
    """The JSON object of an ``@`` frame."""
    try:
        args = json.loads(data)
    except ValueError as e:
        raise ProtocolError(f'query data is not JSON: {e}') from None
    except RecursionError:
        raise ProtocolError('query data is nested too deeply') from None
    if not isinstance(args, dict):
        raise ProtocolError(f'query data must be a JSON object, got {type(args).__name__}')
    return args


def dumps(doc: Any) -> str:
    """Compact JSON with no raw newline, as the UI splits frames on ``\\n``."""
    return json.dumps(doc, separators=(',', ':'), allow_nan=False)


def client_id_doc(client_id: str) -> str:
    return dumps({'i': client_id})


def page_doc(page: dict) -> str:
    return dumps({'p': page})


def error_doc(code: str) -> str:
    return dumps({'e': code})


def meta_doc(username: str, editable: bool = False) -> str:
    return dumps({'m': {'u': username, 'e': editable}})


def route_of(path: str, base_url: str) -> str:
    """The route of a frame path: waved's ``"/" + TrimPrefix(path, base)``; paths outside the base stay as they are.

    A base other than ``/`` is also found after a proxy's prefix (``/user/x/proxy/8000`` + base): a WebSocket carries
    no ``X-Forwarded-Prefix``, and the server's base holds its secret, so it cannot occur by chance.
    """
    if path.startswith(base_url):
        return '/' + path[len(base_url):]
    if base_url != '/':
        at = path.find(base_url)
        if at > 0:
            return '/' + path[at + len(base_url):]
    return path


def _clip(s: str, n: int = 80) -> str:
    return s if len(s) <= n else s[:n] + '…'
