"""Pyodide's core, for a lite site: taken from the ``pyodide`` package of the npm registry (the only place besides
Pyodide's own CDN that publishes it), checked against its pinned integrity, and kept in the user's cache; or from a
folder or ``.tgz`` you give (``--pyodide``, ``WAVE_JUPYTER_PYODIDE``) for machines with no registry at all.

The core is CPython 3.14 and its standard library compiled to WebAssembly: all that a Wave app and h2o_wave need
(its ``ssl`` is a stand-in without TLS, which a browser's Python could not use anyway: it has no sockets). The rest
of the Pyodide distribution (~350 compiled packages: numpy, pandas, ...) is on Pyodide's CDN only; ``lite build
--pyodide-cdn`` makes a site that loads Pyodide from there instead (and so needs the network), where an app can use
them. The same version serves JupyterLite (``jupyterlite-pyodide-kernel`` 0.8.6 expects it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

VERSION = '314.0.6'
#: The npm registry's integrity of ``pyodide-314.0.6.tgz`` (``npm view pyodide@314.0.6 dist.integrity``).
INTEGRITY = 'sha512-BKDTJyIqFxC4BExLqeRS3f5xvXZIjOt8C3zGLN/Cc7tFxSwvKVhVkchQQ2AGLOtR4YrVOIFxbV8poyDOOmWwxQ=='
TARBALL = f'https://registry.npmjs.org/pyodide/-/pyodide-{VERSION}.tgz'
CDN = f'https://cdn.jsdelivr.net/pyodide/v{VERSION}/full/'
#: Its Python (what ``Requires-Dist`` markers are evaluated for when the core is not at hand: a CDN site).
PYTHON = '3.14.2'
#: The files a browser loads (the ``.d.ts``, maps and consoles are not needed).
CORE = ('pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json')


class PyodideError(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(base) / 'wave_jupyter' / f'pyodide-{VERSION}'


def core(source: str | os.PathLike | None = None) -> Path:
    """A folder holding :data:`CORE`: ``source`` (a folder, or an npm ``.tgz``), else the cached download."""
    if source is not None:
        path = Path(source)
        if path.is_dir():
            return _checked(path / 'package' if (path / 'package' / CORE[0]).is_file() else path)
        if path.is_file():
            return _unpack(path.read_bytes(), cache_dir().with_name(f'pyodide-from-{path.stem}'), check=False)
        raise PyodideError(f'no Pyodide at {path}: give a folder with {", ".join(CORE)} or an npm pyodide-*.tgz')
    folder = cache_dir()
    if all((folder / name).is_file() for name in CORE):
        return folder
    try:
        with urllib.request.urlopen(TARBALL, timeout=120) as response:
            data = response.read()
    except OSError as e:
        raise PyodideError(f'could not download Pyodide {VERSION} from the npm registry ({e}): pass --pyodide '
                           f'with a folder or pyodide-{VERSION}.tgz (npm pack pyodide@{VERSION})') from None
    return _unpack(data, folder, check=True)


def _unpack(data: bytes, folder: Path, check: bool) -> Path:
    if check:
        digest = 'sha512-' + base64.b64encode(hashlib.sha512(data).digest()).decode()
        if digest != INTEGRITY:
            raise PyodideError(f'pyodide-{VERSION}.tgz does not match its integrity ({digest[:24]}...)')
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix='pyodide-', dir=folder.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode='r:gz') as tar:
            for name in CORE:
                member = tar.getmember(f'package/{name}')
                source = tar.extractfile(member)
                if source is None:
                    raise PyodideError(f'{name} is not a file in the Pyodide archive')
                (staging / name).write_bytes(source.read())
        if folder.exists():
            shutil.rmtree(folder)
        staging.replace(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _checked(folder)


def _checked(folder: Path) -> Path:
    missing = [name for name in CORE if not (folder / name).is_file()]
    if missing:
        raise PyodideError(f'{folder} lacks {", ".join(missing)}')
    return folder


def python_version(folder: Path) -> str:
    """The Python of this Pyodide (``3.14.2``), from its lock file."""
    return json.loads((folder / 'pyodide-lock.json').read_text())['info']['python']
