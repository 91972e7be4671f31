"""Every URL rule in one place: where a browser finds an app, its files, and the proxy's way to it.

Two prefixes have to be told apart:

* Wave's **base** (``'/'`` unless a server is given ``base_url=``): what every path an app sees starts with
  (``{base}_f/<key>/<name>``, the routes of its pages);
* a tab's **root**: ``{proxy prefix}{base}{secret}/``, where its document, assets and socket live.

Browsers are always sent to ``127.0.0.1``, never to ``localhost``: a browser or proxy given ``localhost`` tries
``[::1]`` first, and an address we do not name cannot be stood at by anyone else. jupyter-server-proxy is reached in
its ``proxy/<host>:<port>/`` form for the same reason (its ``proxy/<port>/`` form connects to ``localhost``).
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

#: The address every URL we build names.
LOOPBACK = '127.0.0.1'
#: What follows Wave's base in the path of a stored file.
FILES = '_f/'


def root(base: str, secret: str) -> str:
    """The path every request to a server must start with: Wave's base and the server's secret."""
    return f'{base}{secret}/'


def direct(port: int, root_path: str, route: str = '/') -> str:
    """The app at ``route`` for a browser on this machine."""
    return f'http://{LOOPBACK}:{port}{root_path}{route.lstrip("/")}'


def where(url: str) -> str:
    """``host:port`` of a URL (what a saved notebook may show: no path, so no secret)."""
    return urlsplit(url).netloc


def proxy_prefix(port: int) -> str:
    """jupyter-server-proxy's path to the server, relative to the Jupyter server's base URL (no slashes around)."""
    return f'proxy/{LOOPBACK}:{port}'


def proxied(port: int, root_path: str, route: str = '/') -> str:
    """The app at ``route`` through jupyter-server-proxy, relative to the Jupyter server's base URL."""
    return f'{proxy_prefix(port)}{root_path}{route.lstrip("/")}'


def file_url(files_base: str, stored: str) -> str:
    """The URL of a stored file (``<key>/<name...>``) under ``files_base`` (``{prefix}{base}_f/``), each path segment
    percent-encoded, so that a name holding ``%``, ``?``, ``#`` or a space still links to that file."""
    return files_base + '/'.join(quote(part, safe='') for part in stored.split('/'))


def files_base(base: str, prefix: str = '') -> str:
    """Where a browser finds stored files: ``{prefix}{base}_f/``, outside the secret root, so that the paths an app
    keeps and shows (``q.args``, page dumps, the history) never hold the secret."""
    return f'{prefix}{base}{FILES}'


def stored_of(url: str) -> str | None:
    """The stored file (``<key>/<name...>``, decoded) a file URL names, whatever prefix a proxy put in front; None
    for a URL that names no stored file."""
    path = url.split('?', 1)[0].split('#', 1)[0]
    if path.startswith(FILES):
        rest = path[len(FILES):]
    else:
        at = path.find('/' + FILES)
        if at < 0:
            return None
        rest = path[at + 1 + len(FILES):]
    return unquote(rest) or None
