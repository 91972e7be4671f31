"""Where apps get a server: ``listen``, the ``@app`` decorator, ``apps``, and running Wave files unmodified.

* In a thread with a running event loop (a notebook kernel): the app mounts on the default server, on that loop, and
  the call returns at once.
* From another thread while a server runs (a Wave file executed by :func:`run_file`): the app mounts through the
  server's loop.
* Otherwise (plain ``python app.py``): ``listen`` starts a server on port 10101 and serves until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import builtins
import importlib
import importlib.util
import os
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterator, Mapping

from . import events
from .app import App, Handler, mount
from .runtime import current_runtime, shared_runtime
from .server import (
    DEFAULT_PORT,
    PORT_ENV,
    TRANSPORT_ENV,
    TRANSPORTS,
    Server,
    current_server,
    default_server,
    set_default_server,
)

Announce = Callable[[Server, str], None]


class Apps(Mapping[str, App]):
    """``apps['/demo']``: the apps of the default server, by route (a live view, not a copy)."""

    def _apps(self) -> dict[str, App]:
        runtime = current_runtime()
        return {r: a for r, a in runtime.apps.items() if isinstance(a, App)} if runtime is not None else {}

    def __getitem__(self, route: str) -> App:
        apps = self._apps()
        if route not in apps:
            known = ', '.join(apps) or 'none'
            raise KeyError(f'no app at {route!r} (running: {known})')
        return apps[route]

    def __iter__(self) -> Iterator[str]:
        return iter(self._apps())

    def __len__(self) -> int:
        return len(self._apps())

    def __repr__(self) -> str:
        return f'apps({dict(self._apps())!r})'


apps = Apps()


def check_transport(transport: str | None) -> str:
    """``transport``, else ``WAVE_JUPYTER_TRANSPORT``, else 'auto'; refused unless one of :data:`TRANSPORTS`."""
    transport = transport or os.environ.get(TRANSPORT_ENV) or 'auto'
    if transport not in TRANSPORTS:
        raise ValueError(f'transport must be one of {", ".join(TRANSPORTS)}; got {transport!r}')
    return transport


def _mount(route: str, handle: Handler, mode: str | None, on_startup: Callable | None,
           on_shutdown: Callable | None, server: Server | None, transport: str | None = None) -> App | None:
    transport = check_transport(transport)
    srv = server or current_server()
    if srv is not None and srv.running:
        app = srv.runtime.call(srv.mount, route, handle, mode, on_startup, on_shutdown)
    else:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return None
        if transport == 'comm':  # the notebook's comm carries the app: no port is opened
            app = mount(shared_runtime(), route, handle, mode, on_startup, on_shutdown)
        else:
            app = default_server().mount(route, handle, mode, on_startup, on_shutdown)
    app.transport = transport
    return app


def listen(route: str, handle: Handler, mode: str | None = None, *, server: Server | None = None,
           port: int | None = None, transport: str | None = None) -> App | None:
    """Serve ``handle`` at ``route``.

    With a running loop (a notebook) or a running server, this returns the :class:`App` at once. Otherwise it starts a
    server (port 10101, ``WAVE_JUPYTER_PORT`` or ``port``) and serves until interrupted.

    ``transport`` (or ``WAVE_JUPYTER_TRANSPORT``) says how a notebook's views reach the app: 'auto' (the first rung
    that works: loopback, jupyter-server-proxy, the comm), 'direct', 'proxy', or 'comm' (no port is opened at all).
    """
    app = _mount(route, handle, mode, None, None, server, transport)
    if app is not None:
        return app
    serve(lambda srv, _: srv.mount(route, handle, mode), port=port)
    return None


_pending: list[tuple] = []


def app(route: str, mode: str | None = None, on_startup: Callable | None = None,
        on_shutdown: Callable | None = None) -> Callable[[Handler], Handler]:
    """``@app('/demo')``, as in h2o_wave: mounts the handler (now if a loop or server runs, else when one starts)."""

    def wrap(handle: Handler) -> Handler:
        if _mount(route, handle, mode, on_startup, on_shutdown, None) is None:
            _pending.append((route, handle, mode, on_startup, on_shutdown))
        return handle

    return wrap


def _mount_pending(srv: Server) -> None:
    while _pending:
        srv.mount(*_pending.pop(0))


def print_url(srv: Server, route: str) -> None:
    print(f'Wave app at {srv.url(route)}', flush=True)


def serve(setup: Callable[[Server, Callable[[int], None]], object] | None = None, *, port: int | None = None,
          announce: Announce = print_url) -> int:
    """Run a standalone server on a new event loop until Ctrl-C, SIGTERM or ``setup``'s stop callback.

    ``setup(server, stop)`` mounts what to serve; ``stop(status)`` may be called from any thread. Returns the status.
    """
    if port is None:
        port = int(os.environ.get(PORT_ENV, DEFAULT_PORT))
    status = [0]

    async def main() -> None:
        srv = Server(port).start()
        set_default_server(srv)
        srv.runtime.events.subscribe(lambda e: announce(srv, e.route), events.RouteAdded)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stop_with(code: int) -> None:
            status[0] = code
            loop.call_soon_threadsafe(stop.set)

        _stop_on_sigterm(stop)
        try:
            _mount_pending(srv)
            if setup:
                setup(srv, stop_with)
            await stop.wait()
        finally:
            await srv.aclose()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return status[0]


def _stop_on_sigterm(stop: asyncio.Event) -> None:
    """Standalone only (never in a kernel): SIGTERM ends the server cleanly."""
    import signal
    if threading.current_thread() is threading.main_thread():
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)


# --- running unmodified Wave files -----------------------------------------------------------------------------------


#: ``mount(route, handler, mode, on_startup, on_shutdown)``: where a file's apps go instead of the default server.
Mount = Callable[[str, Handler, 'str | None', 'Callable | None', 'Callable | None'], object]


def h2o_wave_facade(mount: Mount | None = None) -> types.ModuleType:
    """``h2o_wave`` as a Wave file sees it here: the real SDK, with the server-facing names bound to this server (or,
    with ``mount``, its ``@app`` and ``listen`` handed to it)."""
    import h2o_wave

    from .query import Auth, Query
    from .site import AsyncPage, AsyncSite, Page, Site, site
    facade = types.ModuleType('h2o_wave', h2o_wave.__doc__)
    facade.__dict__.update({k: v for k, v in vars(h2o_wave).items() if not k.startswith('__')})
    facade.__dict__.update(
        app=app, listen=listen, main=_Main(), Q=Query, Query=Query, Auth=Auth,
        site=site, Site=Site, AsyncSite=AsyncSite, Page=Page, AsyncPage=AsyncPage,
    )
    if mount is not None:
        def mounted_app(route: str, mode: str | None = None, on_startup: Callable | None = None,
                        on_shutdown: Callable | None = None) -> Callable[[Handler], Handler]:
            def wrap(handle: Handler) -> Handler:
                mount(route, handle, mode, on_startup, on_shutdown)
                return handle
            return wrap

        def mounted_listen(route: str, handle: Handler, mode: str | None = None, **_: object) -> None:
            mount(route, handle, mode, None, None)

        facade.__dict__.update(app=mounted_app, listen=mounted_listen)
    facade.__path__ = h2o_wave.__path__  # so "import h2o_wave.ui" still resolves submodules

    def submodule(name: str) -> types.ModuleType:
        """``from h2o_wave import graphics``: submodules the package itself never imports."""
        try:
            return importlib.import_module(f'h2o_wave.{name}')
        except ModuleNotFoundError:
            raise AttributeError(f"module 'h2o_wave' has no attribute {name!r}") from None

    facade.__getattr__ = submodule  # type: ignore[method-assign]
    return facade


class _Main:
    """Stands in for ``h2o_wave.main`` (an ASGI entry point that has nothing to do here)."""

    def __repr__(self) -> str:
        return '<wave_jupyter: h2o_wave.main is not needed; apps are served in-process>'


def _file_globals(path: str, mount: Mount | None = None) -> dict:
    """Globals for exec'ing a Wave file: its own ``__import__`` gives it the facade for ``h2o_wave``, nothing else."""
    facade = h2o_wave_facade(mount)
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


def exec_file(path: str, mount: Mount | None = None) -> dict:
    """Execute a Wave app or script file in this thread, as ``python path`` (or ``python -m pkg.path`` inside a
    package) would, with ``h2o_wave`` bound here (its apps handed to ``mount`` if given)."""
    path = os.path.abspath(path)
    folder, package = package_of(path)
    for entry in {folder, os.path.dirname(path)}:
        if entry not in sys.path:
            sys.path.insert(0, entry)  # sibling imports (e.g. Wave's examples import synth.py)
    if package:
        importlib.import_module(package)  # what its relative imports resolve against
    code = compile(open(path, encoding='utf-8').read(), path, 'exec')
    namespace = _file_globals(path, mount)
    namespace['__package__'] = package or None
    exec(code, namespace)
    return namespace


def forget_on_handlers(folder: str) -> None:
    """Drop the ``@on`` handlers that files under ``folder`` registered with h2o_wave's router, before those files
    run again (``--reload``): the router keeps a list per argument and the first match wins, so the old function
    would shadow the new one."""
    from h2o_wave import routing
    folder = os.path.abspath(folder) + os.sep

    def keep(entry: tuple) -> bool:
        code = getattr(next((x for x in entry if callable(x)), None), '__code__', None)
        return code is None or not os.path.abspath(code.co_filename).startswith(folder)

    for table in (routing._arg_handlers, routing._event_handlers):
        for key, entries in list(table.items()):
            table[key] = [e for e in entries if keep(e)]
    for table in (routing._path_handlers, routing._arg_with_params_handlers):
        table[:] = [e for e in table if keep(e)]


def start_file(path: str, server: Server, on_error: Callable[[BaseException], None] | None = None) -> threading.Thread:
    """Execute a Wave file on a worker thread (scripts often loop forever); its apps mount on ``server``.

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
            if not srv.broker.apps and not srv.broker.pages.paths():
                print(f'wave_jupyter: {target} failed before serving anything; stopping', file=sys.stderr,
                      flush=True)
                stop(1)

        start_file(path, srv, failed)
        if reload:
            srv.runtime.spawn(_reload_on_change(path, srv))

    return serve(setup, port=port, announce=announce)


#: Seconds between looks at the files ``--reload`` watches.
RELOAD_POLL = 0.3


async def _reload_on_change(path: str, srv: Server) -> None:
    folder = package_of(path)[0] if package_of(path)[1] else os.path.dirname(path)

    def stamps() -> dict[str, float]:
        found = {}
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(('.', '__pycache__'))]
            for f in files:
                if f.endswith('.py'):
                    full = os.path.join(root, f)
                    try:
                        found[full] = os.stat(full).st_mtime_ns
                    except OSError:
                        pass
        return found

    loop = asyncio.get_running_loop()
    before = await loop.run_in_executor(None, stamps)
    while True:
        await asyncio.sleep(RELOAD_POLL)
        now = await loop.run_in_executor(None, stamps)
        if now == before:
            continue
        changed = sorted(f for f in set(now) | set(before) if now.get(f) != before.get(f))
        before = now
        print(f'wave_jupyter: {", ".join(os.path.relpath(f) for f in changed)} changed; running '
              f'{os.path.relpath(path)} again (state and tabs kept)', flush=True)
        for name, module in list(sys.modules.items()):  # its own modules load afresh too
            if os.path.abspath(getattr(module, '__file__', None) or '').startswith(folder + os.sep):
                del sys.modules[name]
        forget_on_handlers(folder)
        start_file(path, srv)


__all__ = ['apps', 'app', 'listen', 'serve', 'run_file', 'start_file', 'exec_file']
