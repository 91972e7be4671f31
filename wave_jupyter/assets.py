"""The official Wave UI, as installed by the ``h2o-wave`` package, and its ``index.html`` with a base URL injected."""

from __future__ import annotations

import functools
import secrets
from importlib import metadata
from pathlib import Path


class AssetsNotFound(RuntimeError):
    pass


@functools.cache
def www_dir() -> Path:
    """``<prefix>/www`` of the h2o-wave wheel (its data files), found through the installed file list."""
    try:
        files = metadata.files('h2o-wave') or []
    except metadata.PackageNotFoundError as e:
        raise AssetsNotFound('the h2o-wave package is not installed') from e
    for f in files:
        if f.name == 'index.html' and f.parent.name == 'www':
            path = Path(str(f.locate())).resolve()
            if path.is_file():
                return path.parent
    raise AssetsNotFound('h2o-wave is installed without its UI (www/index.html); reinstall h2o-wave')


@functools.cache
def size_script() -> str:
    """The script that tells a notebook's view how tall the app is (``static/size.js``); it does nothing unframed."""
    return (Path(__file__).parent / 'static' / 'size.js').read_text(encoding='utf-8')


def index_html(base_url: str, nonce: str | None = None) -> str:
    """What waved serves for every page: asset URLs made absolute under the base, the base in ``data-base-url``; and
    :func:`size_script`, so a notebook's view can fit the app."""
    html = (www_dir() / 'index.html').read_text(encoding='utf-8')
    nonce = nonce or secrets.token_urlsafe(32)
    html = html.replace('<body', f'<body data-base-url="{base_url}" data-nonce="{nonce}"', 1)
    html = html.replace('="./wave-static/', f'="{base_url}wave-static/')
    html = html.replace('<script>', f'<script nonce="{nonce}">')
    return html.replace('</body>', f'<script nonce="{nonce}">{size_script()}</script></body>', 1)
