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
import hashlib
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
#: Never imported by a Wave app: h2o_wave's command line and its ASGI server (their own requirements follow them out).
NEVER = {'click', 'inquirer', 'uvicorn'}
#: Compiled modules whose package works without them (its pure fallback is imported when they are missing).
OPTIONAL_NATIVE = {'tornado/speedups', 'wcwidth/_wcwidth_c', 'markupsafe/_speedups', 'yaml/_yaml',
                   'charset_normalizer/md', 'simplejson/_speedups', 'msgpack/_cmsgpack'}
#: What every lite site runs: the runtime and the SDK, with what ``import h2o_wave`` needs.
BASE = ('wave-jupyter', 'h2o-wave')
#: What the runtime needs in a browser, instead of this package's own ``Requires-Dist`` (which is for a notebook
#: server: tornado, ipykernel, the Jupyter layer).
OURS_IN_A_BROWSER = ('h2o-wave', 'python-multipart')
#: Files of ours a browser has no use for: the lab extension, the lite sites' own scripts; and, in a lite site's
#: worker (no notebook there), the notebook view's bundle.
SKIP_OURS = ('wave_jupyter/labextension/', 'wave_jupyter/lite/static/')
SKIP_IN_A_SITE = (*SKIP_OURS, 'wave_jupyter/jupyter/')


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


def installed_files(dist: metadata.Distribution, dropped: list[str] | None = None, metadata_too: bool = True,
                    skip: tuple[str, ...] = SKIP_OURS) -> Iterable[tuple[Path, str]]:
    """The files a distribution installed into site-packages, as ``(path, relative name)``: compiled accelerators
    left out (and named in ``dropped``); a compiled module with no Python fallback is a :class:`PackError`."""
    name = dist.metadata['Name']
    if canonicalize_name(name) == 'wave-jupyter':  # maybe an editable install: its files are the source tree
        yield from _own_files(skip)
        return
    for file in dist.files or []:
        rel = str(file).replace(os.sep, '/')
        if rel.startswith('..') or '/__pycache__/' in f'/{rel}' or rel.endswith('.pyc'):
            continue
        if not metadata_too and '.dist-info/' in rel:
            continue
        if _NATIVE.search(rel):
            module = rel.split('.')[0]
            if module in OPTIONAL_NATIVE or _has_source(dist, module) or module.endswith('__mypyc'):
                if dropped is not None:
                    dropped.append(rel)
                continue
            raise PackError(f'{name} {dist.version} is compiled ({rel}): a browser cannot load it. Only pure Python '
                            'packages can go into a lite site')
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            yield path, rel


def pack(dists: Iterable[metadata.Distribution], prefix: str = 'site-packages/') -> Packed:
    """One zip of the distributions' files under ``prefix``, laid out as ``site-packages``."""
    out = io.BytesIO()
    packed = Packed(b'')
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for dist in dists:
            packed.distributions[dist.metadata['Name']] = dist.version
            for path, rel in installed_files(dist, packed.dropped, skip=SKIP_IN_A_SITE):
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


def _own_files(skip: tuple[str, ...]) -> Iterable[tuple[Path, str]]:
    """This package's files (but ``skip``), wherever it is installed."""
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob('*')):
        rel = 'wave_jupyter/' + path.relative_to(root).as_posix()
        if path.is_file() and '__pycache__' not in rel and not rel.startswith(skip) and not rel.endswith('.pyc'):
            yield path, rel


def _has_source(dist: metadata.Distribution, module: str) -> bool:
    """A compiled module with its Python source installed beside it (mypyc builds ship both)."""
    return any(str(f).replace(os.sep, '/') in (f'{module}.py', f'{module}/__init__.py') for f in dist.files or [])


@dataclass
class Wheel:
    filename: str
    data: bytes
    name: str
    version: str
    #: Top-level modules (what Pyodide's ``loadPackagesFromImports`` matches a cell's imports against).
    imports: list[str]
    #: Canonical names of what it requires in Pyodide (markers evaluated; extras left out).
    requires: list[str]


def wheel(dist: metadata.Distribution, python: str = '3.14.2') -> Wheel:
    """A ``py3-none-any`` wheel of an installed distribution, from the files it installed (compiled accelerators
    dropped, as :func:`pack` does), for micropip or Pyodide's ``loadPackage`` to install in a browser."""
    name = dist.metadata['Name']
    version = dist.version
    stem = f'{re.sub(r"[-_.]+", "_", name)}-{version}'
    info = f'{stem}.dist-info'
    files = {rel: path.read_bytes() for path, rel in installed_files(dist, metadata_too=False)}
    files[f'{info}/METADATA'] = (dist.read_text('METADATA') or f'Metadata-Version: 2.1\nName: {name}\nVersion: '
                                 f'{version}\n').encode()
    files[f'{info}/WHEEL'] = (b'Wheel-Version: 1.0\nGenerator: wave_jupyter\nRoot-Is-Purelib: true\n'
                              b'Tag: py3-none-any\n')
    top = dist.read_text('top_level.txt')
    imports = sorted(t for t in (top.split() if top else {r.split('/')[0].removesuffix('.py') for r in files
                                                           if r.endswith('.py')}) if not t.endswith('.dist-info'))
    record = [f'{rel},sha256={_b64(hashlib.sha256(data).digest())},{len(data)}' for rel, data in sorted(files.items())]
    files[f'{info}/RECORD'] = ('\n'.join([*record, f'{info}/RECORD,,']) + '\n').encode()
    markers = pyodide_markers(python)
    requires = sorted({canonicalize_name(r.name) for r in map(Requirement, dist.requires or [])
                       if r.marker is None or r.marker.evaluate(markers)})
    return Wheel(f'{stem}-py3-none-any.whl', zip_files(files), canonicalize_name(name), version, imports, requires)


def _b64(digest: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(digest).rstrip(b'=').decode()
