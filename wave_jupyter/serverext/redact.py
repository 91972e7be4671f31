"""No wave_jupyter secret in the Jupyter server's log.

jupyter-server-proxy logs the URL it connects to (``Trying to establish websocket connection to
ws://127.0.0.1:P/<secret>/_s/``, at INFO, twice per socket), and the server's access log shows proxied paths
(``/user/x/proxy/127.0.0.1:P/<secret>/demo``) for every failed request. The secret is a path segment of such URLs; this
process does not know it, so every segment of a proxied or loopback URL that has a secret's shape (16 to 128
characters of ``A-Z a-z 0-9 _ -``, :func:`wave_jupyter.security.valid_secret`) is replaced in every record the server
logs. Over-redacting a long route name in a log line is the price.
"""

from __future__ import annotations

import logging
import re

MARK = '<secret>'
#: A URL or path whose segments are redacted: through jupyter-server-proxy, or to a loopback port.
_URL = re.compile(r'(?:/proxy/(?:absolute/)?(?:[^/\s:]+:)?\d+|(?:wss?|https?)://(?:127\.0\.0\.1|localhost|\[::1\]):\d+)'
                  r'(?P<path>/[^\s\'"<>]*)')
_SEGMENT = re.compile(r'(?<=/)[A-Za-z0-9_-]{16,128}(?=[/?#]|$)')


def redact(text: str) -> str:
    return _URL.sub(lambda m: m.group(0)[:m.start('path') - m.start(0)] + _SEGMENT.sub(MARK, m.group('path')), text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message when it holds a proxied or loopback URL with a secret-shaped segment."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logger's to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install(log: logging.Logger) -> None:
    """On every handler of the server's log (tornado's loggers and jupyter-server-proxy's messages end there)."""
    handlers = [*log.handlers, *logging.getLogger().handlers]
    for handler in handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
