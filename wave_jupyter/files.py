"""Running unmodified Wave files: app files (``@app``), scripts (``site['/x'] ... page.save()``, loops included) and
legacy files that end with ``listen(...)``, as ``python app.py`` or ``wave run app`` would run them, with their
``import h2o_wave`` given :mod:`.facade`. ``run_file`` is ``python -m wave_jupyter run``.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .facade import Mount, h2o_wave_facade
from .reloader import reload_on_change
from .runner import Announce, print_url, serve

if TYPE_CHECKING:
    from .runtime import Runtime
    from .server import Server


def _file_globals(path: str, mount: Mount | None = None, runtime: Runtime | None = None) -> dict:
    """Globals for exec'ing a Wave file: its own ``__import__`` gives it the facade for ``h2o_wave``, nothing else."""
    facade = h2o_wave_facade(mount, runtime)
    real_import = builtins.__import__

    def wave_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002 - builtins' signature
        if level == 0 and name == 'h2o_wave':
            return facade
        return real_import(name, globals, locals, fromlist, level)

    own_builtins = dict(vars(builtins))
    own_builtins['__import__'] = wave_import
    return {'__name__': '__main__', '__file__': path, '__builtins__': own_builtins}


def package_of(path: str) -> tuple[str, str]:
    """The folder to import from and the package of a file (``''`` outside a package).

    ``app/main.py`` next to ``app/__init__.py`` is module ``app.main``: run from the folder above ``app/``, with
    ``__package__ = 'app'``, so its relative imports (``from .synth import ...``) work as under ``wave run``.
    """
    folder, parts = os.path.dirname(os.path.abspath(path)), []
    while os.path.isfile(os.path.join(folder, '__init__.py')):
        folder, name = os.path.split(folder)
        parts.insert(0, name)
    return folder, '.'.join(parts)


def resolve(target: str) -> str:
    """The file of ``target``: a path (``app.py``, ``src/app.py``) or, as ``wave run`` takes it, a module name
    (``app``, ``pkg.app``) found from the current folder."""
    if os.path.isfile(target):
        return os.path.abspath(target)
    name = target[:-3] if target.endswith('.py') else target
    name = name.replace(os.sep, '.').replace('/', '.')
    if name and all(part.isidentifier() for part in name.split('.')):
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin and spec.origin.endswith('.py'):
            return spec.origin
    raise FileNotFoundError(f'no such Wave file or module: {target}')


def exec_file(path: str, mount: Mount | None = None, runtime: Runtime | None = None) -> dict:
    """Execute a Wave app or script file in this thread, as ``python path`` (or ``python -m pkg.path`` inside a
    package) would, with ``h2o_wave`` bound here (its apps handed to ``mount`` if given)."""
    path = os.path.abspath(path)
    folder, package = package_of(path)
    for entry in {folder, os.path.dirname(path)}:
        if entry not in sys.path:
            sys.path.insert(0, entry)  # sibling imports (e.g. Wave's examples import synth.py)
    if package:
        importlib.import_module(package)  # what its relative imports resolve against
    code = compile(Path(path).read_text(encoding='utf-8'), path, 'exec')
    namespace = _file_globals(path, mount, runtime)
    namespace['__package__'] = package or None
    exec(code, namespace)
    return namespace



def start_file(path: str, server: Server, on_error: Callable[[BaseException], None] | None = None) -> threading.Thread:
    """Execute a Wave file on a worker thread (scripts often loop forever); its apps mount on ``server``, which
    must be the process's (``process.PROCESS.server()``).

    An exception is printed and passed to ``on_error``.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'no such Wave file: {path}')

    def target() -> None:
        try:
            exec_file(path)
        except SystemExit:
            pass
        except BaseException as e:  # noqa: BLE001 - reported, the server decides what follows
            traceback.print_exc()
            if on_error:
                on_error(e)

    thread = threading.Thread(target=target, name=f'wave-file:{os.path.basename(path)}', daemon=True)
    thread.start()
    return thread


def run_file(target: str, port: int | None = None, announce: Announce = print_url, reload: bool = False) -> int:
    """``python -m wave_jupyter run app.py|pkg.app``: serve an unmodified Wave app or script until interrupted.

    With ``reload``, a change to a ``.py`` file beside it (or in its package) runs the file again: each ``@app``
    swaps its handler in, keeping ``q.app``/``q.user``/``q.client`` and the open tabs (the notebook's hot swap).
    Returns the exit status: 1 if the file failed before it served anything (nothing to keep serving).
    """
    path = resolve(target)

    def setup(srv: Server, stop: Callable[[int], None]) -> None:
        def failed(_: BaseException) -> None:
            if not srv.runtime.broker.apps and not srv.runtime.broker.pages.paths():
                print(f'wave_jupyter: {target} failed before serving anything; stopping', file=sys.stderr,
                      flush=True)
                stop(1)

        start_file(path, srv, failed)
        if reload:
            folder = package_of(path)[0] if package_of(path)[1] else os.path.dirname(path)

            def rerun(changed: list[str]) -> None:
                print(f'wave_jupyter: {", ".join(os.path.relpath(f) for f in changed)} changed; running '
                      f'{os.path.relpath(path)} again (state and tabs kept)', flush=True)
                start_file(path, srv)

            srv.runtime.spawn(reload_on_change(folder, rerun))

    return serve(setup, port=port, announce=announce)


__all__ = ['exec_file', 'package_of', 'resolve', 'run_file', 'start_file']
