"""The Python a lite site runs: distributions of *this* environment, packed into one zip at build time.

The browser installs nothing and resolves nothing: the build decides. It starts from what the app imports (its
files are read, not run) and from ``requirements``, follows each distribution's ``Requires-Dist`` as Pyodide would
evaluate the markers (``sys_platform == 'emscripten'``, Pyodide's Python), and packs every file of each distribution
as installed here, in one ``site-packages`` zip: one download, one unpack in the worker. Versions are the ones the app
was developed with.

Only pure Python can go: a distribution with a compiled module that has no Python source beside it (numpy, pandas) is
refused with a clear error, unless it is one of the accelerators its package does without (:data:`OPTIONAL_NATIVE`).
h2o_wave's command-line dependencies (``click``, ``inquirer``, ``uvicorn``) are never imported by an app and stay out.
"""

from __future__ import annotations

import ast
import io
import os
import re
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def pyodide_markers(python: str) -> dict[str, str]:
    """What Pyodide's Python (``python``: its version, ``3.14.2``) says of itself to ``Requires-Dist`` markers."""
    return {'sys_platform': 'emscripten', 'platform_system': 'Emscripten', 'os_name': 'posix',
            'platform_machine': 'wasm32', 'implementation_name': 'cpython', 'platform_python_implementation': 'CPython',
            'python_version': '.'.join(python.split('.')[:2]), 'python_full_version': python, 'extra': ''}
#: Never imported by a Wave app (h2o_wave's CLI and its ASGI server).
NEVER = {'click', 'inquirer', 'uvicorn', 'readchar', 'blessed', 'editor', 'runs', 'xmod', 'wcwidth', 'six',
         'jinxed', 'ansicon'}
#: Compiled modules whose package works without them (a pure fallback exists).
OPTIONAL_NATIVE = {'tornado/speedups'}
#: What every lite site runs: the runtime and the SDK, with what ``import h2o_wave`` needs.
BASE = ('wave-jupyter', 'h2o-wave')
#: What the runtime needs in a browser, instead of this package's own ``Requires-Dist`` (which is for a notebook
#: server: tornado, ipykernel, the Jupyter layer).
OURS_IN_A_BROWSER = ('h2o-wave', 'python-multipart')
#: Files of ours the worker has no use for (the lab extension, the notebook view's bundle).
SKIP_OURS = ('wave_jupyter/labextension/', 'wave_jupyter/jupyter/static/', 'wave_jupyter/lite/static/')


class PackError(ValueError):
    """What the app needs cannot run in a browser, or is not installed here."""


@dataclass
class Packed:
    data: bytes
    #: distribution name -> version
    distributions: dict[str, str] = field(default_factory=dict)
    #: files dropped: compiled accelerators
    dropped: list[str] = field(default_factory=list)


def imports_in(source: str, name: str) -> set[str]:
    """Top-level module names a file imports (absolute imports only; ``name`` for errors)."""
    try:
        tree = ast.parse(source, name)
    except SyntaxError as e:
        raise PackError(f'{name}: cannot read it as Python ({e})') from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split('.')[0])
    return names


def distributions_for(modules: Iterable[str], local: set[str]) -> set[str]:
    """Distributions that provide ``modules`` (the standard library and the app's own ``local`` modules left out);
    a module that nothing installed provides is an error."""
    providers = metadata.packages_distributions()
    found, missing = set(), []
    for module in modules:
        if module in sys.stdlib_module_names or module in local or module == '__future__':
            continue
        dists = providers.get(module) or (['wave-jupyter'] if module == 'wave_jupyter' else None)  # maybe editable
        if not dists:
            missing.append(module)
            continue
        found.update(canonicalize_name(d) for d in dists)
    if missing:
        raise PackError(f'the app imports {", ".join(sorted(missing))}, which nothing installed here provides: '
                        'install it (pure Python only), or pass --requirement')
    return found


def closure(names: Iterable[str], python: str = '3.14.2') -> list[metadata.Distribution]:
    """``names`` and everything they require in a Pyodide whose Python is ``python``, as installed here."""
    markers = pyodide_markers(python)
    todo = [canonicalize_name(n) for n in names]
    seen: dict[str, metadata.Distribution] = {}
    while todo:
        name = todo.pop()
        if name in seen or name in NEVER:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise PackError(f'{name} is needed but not installed here: pip install {name}') from None
        seen[name] = dist
        if name == 'wave-jupyter':
            todo.extend(OURS_IN_A_BROWSER)
            continue
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate(markers):
                continue
            todo.append(canonicalize_name(req.name))
    return sorted(seen.values(), key=lambda d: canonicalize_name(d.metadata['Name']))


_NATIVE = re.compile(r'\.(so|pyd|dylib|dll)$')


def pack(dists: Iterable[metadata.Distribution], prefix: str = 'site-packages/') -> Packed:
    """One zip of the distributions' files under ``prefix``, laid out as ``site-packages``."""
    out = io.BytesIO()
    packed = Packed(b'')
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for dist in dists:
            name = dist.metadata['Name']
            packed.distributions[name] = dist.version
            if canonicalize_name(name) == 'wave-jupyter':  # maybe an editable install: its files are the source tree
                for path, rel in _own_files():
                    z.write(path, prefix + rel)
                continue
            for file in dist.files or []:
                rel = str(file).replace(os.sep, '/')
                if rel.startswith('..') or '/__pycache__/' in f'/{rel}' or rel.endswith('.pyc'):
                    continue
                if _NATIVE.search(rel):
                    module = rel.split('.')[0]
                    if module in OPTIONAL_NATIVE or _has_source(dist, module):
                        packed.dropped.append(rel)
                        continue
                    raise PackError(f'{name} {dist.version} is compiled ({rel}): a browser cannot load it. Only pure '
                                    'Python packages can go into a lite site')
                path = Path(str(dist.locate_file(file)))
                if path.is_file():
                    z.write(path, prefix + rel)
    packed.data = out.getvalue()
    return packed


def zip_files(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` (zip path -> bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    return out.getvalue()


def _own_files() -> Iterable[tuple[Path, str]]:
    """This package's Python files (and its small static scripts), wherever it is installed."""
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob('*')):
        rel = 'wave_jupyter/' + path.relative_to(root).as_posix()
        if path.is_file() and '__pycache__' not in rel and not rel.startswith(SKIP_OURS) and not rel.endswith('.pyc'):
            yield path, rel


def _has_source(dist: metadata.Distribution, module: str) -> bool:
    """A compiled module with its Python source installed beside it (mypyc builds ship both)."""
    return any(str(f).replace(os.sep, '/') in (f'{module}.py', f'{module}/__init__.py') for f in dist.files or [])
