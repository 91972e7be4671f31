"""The unchanged Wave UI for a static site, taken at build time from the installed ``h2o-wave`` (its platform wheel
holds ``www/``; nothing of it is committed here), in one of two forms:

* :func:`copy_tree`: the files as they are, for a lite site, whose page *is* the UI's ``index.html``: the browser
  loads what the UI imports, from its HTTP cache and the site's service worker, with its compiled-code cache;
* :func:`write_bundle`: ``ui.json`` and one file holding every file of ``wave-static/`` (one request instead of
  ~400), for a JupyterLite site, whose notebook views run the UI from blob URLs in a sandboxed frame (and keep it in
  IndexedDB by version), as a view on the comm rung does.
"""

from __future__ import annotations

import hashlib
import html
import json
import shutil
from pathlib import Path

from ..assets import www_dir
from ..commlink import ui_version


def _digest() -> str:
    h = hashlib.sha256(ui_version().encode())
    for path in sorted((www_dir() / 'wave-static').iterdir()):
        h.update(path.name.encode())
    h.update((www_dir() / 'index.html').read_bytes())
    return h.hexdigest()[:16]


def copy_tree(folder: Path) -> str:
    """Copy ``www/`` (but ``index.html``) into ``folder``/``wave-ui-<digest>``; returns that folder's name."""
    name = f'wave-ui-{_digest()}'
    shutil.copytree(www_dir(), folder / name, ignore=shutil.ignore_patterns('index.html', 'robots.txt'))
    return name


def lite_index(prefix: str, head: str, body: str, title: str) -> str:
    """The UI's ``index.html`` for a lite site: its files under ``prefix`` (``files/wave-ui-<digest>/``), ``head``
    first in ``<head>`` after the charset (before the UI's module: the page's own script must run first), ``body``
    at the start of ``<body>``."""
    page = (www_dir() / 'index.html').read_text(encoding='utf-8')
    for name in ('favicon.ico', 'logo192.png', 'manifest.json'):
        page = page.replace(f'href="{name}"', f'href="{prefix}{name}"')
    page = page.replace('="./wave-static/', f'="./{prefix}wave-static/')
    page = page.replace('<title>H2O Wave</title>', f'<title>{html.escape(title)}</title>')
    page = page.replace('<meta charset="utf-8" />', '<meta charset="utf-8" />\n' + head, 1)
    return page.replace('<body>', '<body>\n' + body, 1)


def write_bundle(folder: Path) -> str:
    """Write ``ui.json`` and the bundle into ``folder``; returns the bundle's content hash."""
    static = www_dir() / 'wave-static'
    files: dict[str, list[int]] = {}
    chunks = []
    offset = 0
    for path in sorted(p for p in static.iterdir() if p.is_file()):
        data = path.read_bytes()
        files[path.name] = [offset, offset + len(data)]
        chunks.append(data)
        offset += len(data)
    bundle = b''.join(chunks)
    digest = hashlib.sha256(bundle).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    name = f'wave-ui-{digest}.bin'
    (folder / name).write_bytes(bundle)
    index = (www_dir() / 'index.html').read_text(encoding='utf-8')
    manifest = {'version': f'{ui_version()}-{digest}', 'index': index, 'bin': name, 'files': files}
    (folder / 'ui.json').write_text(json.dumps(manifest), encoding='utf-8')
    return digest
