"""Who may talk to a server that runs the user's Python on every event: the per-server secret and the Origin rule.

The secret lives in the URL's path (``http://127.0.0.1:P/<secret>/demo``), never in a cookie. Browsers send every
cookie of 127.0.0.1 to every port of it, so a cookie would hand the secret to any other local server the user visits,
and any other local page could plant one. A path is sent only to the server it names, never leaves the page (the
pages say ``Referrer-Policy: no-referrer``), and is what the unchanged Wave UI already puts in front of every request
it makes (``data-base-url``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

#: A base path a browser may load code from: segments of URL path characters, each one non-empty, so never ``//``
#: (another host), a scheme, a backslash, a control character or a quote.
_SAFE_PATH = re.compile(r"(?:/[A-Za-z0-9._~%!$&()*+,;=:@-]+)*/?")


def new_secret() -> str:
    """32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def valid_secret(secret: str) -> bool:
    """A secret must fit in one path segment as is."""
    return bool(re.fullmatch(r'[A-Za-z0-9_-]{16,128}', secret))


def plain_path(path: str) -> bool:
    """A request path we serve at all: one leading ``/``, then segments that are neither empty, ``.`` nor ``..``,
    with no backslash or control character, also once percent-decoded (``..%2F`` is ``../``)."""
    decoded = unquote(path)
    if not decoded.startswith('/') or '\\' in decoded or any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        return False
    segments = decoded[1:].split('/')
    if segments and segments[-1] == '':
        segments.pop()  # a trailing slash
    return all(s not in ('', '.', '..') for s in segments)


class Redact(logging.Filter):
    """Replaces the secrets of running servers in log records (tornado puts request paths in its warnings)."""

    def __init__(self) -> None:
        super().__init__()
        #: One entry per running server (two may share a fixed secret).
        self.secrets: list[str] = []

    def clean(self, text: str) -> str:
        for secret in set(self.secrets):
            text = text.replace(secret, '<secret>')
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            clean = self.clean(message)
            if clean != message:
                record.msg, record.args = clean, None
        return True


#: The one redacting filter, on tornado's loggers and ours (``Server.start`` adds its secret).
REDACT = Redact()
for _name in ('tornado.access', 'tornado.application', 'tornado.general', 'wave_jupyter'):
    logging.getLogger(_name).addFilter(REDACT)


def same_secret(given: str | None, secret: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), secret.encode())


@dataclass(frozen=True)
class KeyPair:
    """An access key pair, as waved's keychain holds them: what another process sends (HTTP basic auth) to use the
    server's hub API. New for every server; waved's well-known default pair is never accepted."""

    id: str
    secret: str

    @classmethod
    def new(cls) -> KeyPair:
        return cls(new_secret(), new_secret())

    def header(self) -> str:
        """The ``Authorization`` value that proves this pair."""
        return 'Basic ' + base64.b64encode(f'{self.id}:{self.secret}'.encode()).decode()

    def matches(self, authorization: str | None) -> bool:
        """``authorization`` (a request's header) proves this pair; compared in constant time, never raising."""
        scheme, _, encoded = (authorization or '').partition(' ')
        if scheme.lower() != 'basic' or not encoded:
            return False
        try:
            given = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        key_id, colon, key_secret = given.partition(':')
        same_id = hmac.compare_digest(key_id.encode(), self.id.encode())
        return bool(colon) and same_id & hmac.compare_digest(key_secret.encode(), self.secret.encode()) \
            and (key_id, key_secret) != WAVED_DEFAULT


#: The pair every waved accepts unless told otherwise (and the SDK sends when nothing is set): refused here.
WAVED_DEFAULT = ('access_key_id', 'access_key_secret')


def safe_prefix(prefix: str | None) -> str:
    """A proxy's path prefix (``X-Forwarded-Prefix``) if it is a plain path that starts with exactly one ``/``;
    anything else (``//host``, ``http:``, ``\\``, control characters) gives ``''``."""
    if not prefix or not prefix.startswith('/') or not _SAFE_PATH.fullmatch(prefix):
        return ''
    return prefix.rstrip('/')


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


def cross_site_write(method: str, headers: dict[str, str] | object, host: str, allowed: Iterable[str] = ()) -> bool:
    """A state-changing request (POST, PUT, PATCH, DELETE) that a page of another origin made: a page on another
    local port is *same-site* with us (ports do not count for sites), so only ``same-origin`` passes."""
    if method in ('GET', 'HEAD', 'OPTIONS'):
        return False
    get = headers.get  # type: ignore[attr-defined]
    origin = get('Origin')
    site = get('Sec-Fetch-Site')
    if site is not None:  # the browser says where the request came from: trust it over a rewritten Host
        return site not in ('same-origin', 'none') and not (origin and _explicitly_allowed(origin, allowed))
    if origin == 'null':  # an opaque origin (a sandboxed frame, a data: URL, a file): never our own page
        return True
    return bool(origin) and not origin_allowed(origin, host, allowed)


def _explicitly_allowed(origin: str, allowed: Iterable[str]) -> bool:
    return any(origin_allowed(origin, '', [entry]) for entry in allowed)
