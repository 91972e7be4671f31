"""Where apps get a server: ``listen``, the ``@app`` decorator and ``apps``.

* In a thread with a running event loop (a notebook kernel): the app mounts on the process's runtime (with a server
  in front unless views use the comm), on that loop, and the call returns at once.
* From another thread while the process's server runs (a Wave file executed by :mod:`.files`): the app mounts
  through the server's loop.
* Otherwise (plain ``python app.py``): ``listen`` starts a server on port 10101 and serves until Ctrl-C.

Running unmodified Wave files is :mod:`.files` (with :mod:`.facade`, the ``h2o_wave`` they import, and
:mod:`.reloader`, ``--reload``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from . import events
from .app import App, Handler, mount
from .config import STANDALONE_PORT, Config
from .config import check_transport as _check
from .process import CAN_LISTEN, PROCESS

if TYPE_CHECKING:
    from .server import Server

Announce = Callable[['Server', str], None]


class Apps(Mapping[str, App]):
    """``apps['/demo']``: the apps of the process's runtime, by route (a live view, not a copy)."""

    def _apps(self) -> dict[str, App]:
        runtime = PROCESS.current_runtime
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
    """``transport``, else ``WAVE_JUPYTER_TRANSPORT``, else 'auto'; refused unless one of ``config.TRANSPORTS``."""
    return _check(transport) if transport else Config.from_env().transport


def _mount(route: str, handle: Handler, mode: str | None, on_startup: Callable | None,
           on_shutdown: Callable | None, server: Server | None, transport: str | None = None) -> App | None:
    transport = check_transport(transport)
    srv = server or PROCESS.current_server
    if srv is not None and srv.running:
        app = srv.runtime.call(srv.mount, route, handle, mode, on_startup, on_shutdown)
    else:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if CAN_LISTEN:
                return None  # plain `python app.py`: listen serves until Ctrl-C
            # Pyodide (a lite site's worker, JupyterLite): its event loop is the browser's, always running.
        app = mount(PROCESS.for_views(transport), route, handle, mode, on_startup, on_shutdown)
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
    """Run a standalone server on a new event loop until Ctrl-C, SIGTERM or ``setup``'s stop callback; it is the
    process's server while it runs.

    ``setup(server, stop)`` mounts what to serve; ``stop(status)`` may be called from any thread. Returns the status.
    """
    from .server import Server
    if port is None:
        port = Config.from_env().port_or(STANDALONE_PORT)
    status = [0]

    async def main() -> None:
        srv = Server(port).start()
        PROCESS.adopt(srv)
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
            PROCESS.adopt(None)

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


__all__ = ['app', 'apps', 'check_transport', 'listen', 'serve']
