"""Who may talk to a server that runs the user's Python on every event: the per-server secret and the Origin rule.

A browser gets the secret once, in the URL we print (``?wave_token=...``); the server trades it for an HttpOnly cookie
scoped to this server's port and redirects to the clean URL. Programs may send the secret as a query argument, the
cookie, or an ``Authorization: Bearer`` header.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

TOKEN_ARG = 'wave_token'


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def cookie_name(port: int) -> str:
    """Cookies ignore ports, so two servers on one host need two names."""
    return f'wave_jupyter_{port}'


def same_secret(given: str | None, secret: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), secret.encode())


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith('bearer '):
        return authorization[7:].strip()
    return None


def origin_allowed(origin: str, host: str, allowed: Iterable[str] = ()) -> bool:
    """Same host as the request (gorilla/websocket's default, which waved uses), or an explicitly allowed origin.

    Entries of ``allowed`` are full origins (``http://localhost:8888``), a scheme wildcard (``vscode-webview://*``)
    or ``*`` (anything: only for deployments that check identity elsewhere).
    """
    origin = origin.rstrip('/')
    for entry in allowed:
        entry = entry.rstrip('/')
        if entry == '*' or entry == origin:
            return True
        if entry.endswith('://*') and origin.startswith(entry[:-1]):
            return True
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc.lower() == host.lower()
