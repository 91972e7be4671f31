"""The process's runtime and the server in front of it: what ``listen``, ``@app``, ``apps``, ``site`` and a script's
``AsyncSite()`` use when they are given no server.

One owner, with an explicit lifecycle, so that what a script's page binds to never depends on import order:

* :meth:`Process.runtime` is the process's runtime, made (on this thread's loop) on first use;
* :meth:`Process.server` starts a server in front of it on first use, unless views must use the notebook's comm
  (``transport='comm'``, ``WAVE_JUPYTER_TRANSPORT=comm``) or the process cannot open a port at all (Pyodide: a browser
  tab or JupyterLite, where the comm, or the page's worker, carries everything);
* :meth:`Process.adopt` makes a server the process's (``python -m wave_jupyter run`` starts its own);
* :meth:`Process.close` stops listening at once (a kernel shutting down has no loop turn left).

The tornado server is imported only when a server is started: the runtime, apps and the comm work where tornado is
not installed.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .config import Config, check_transport
from .runtime import Runtime
from .site import AsyncSite, Site

if TYPE_CHECKING:
    from .server import Server

#: Whether this process can listen on a port (Pyodide maps sockets to nothing a browser could reach).
CAN_LISTEN = sys.platform != 'emscripten'


class Process:
    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._server: Server | None = None

    @property
    def current_runtime(self) -> Runtime | None:
        """The process's runtime if there is one (never makes one)."""
        runtime = self._runtime
        return runtime if runtime is not None and not runtime.closed else None

    @property
    def current_server(self) -> Server | None:
        """The process's server if it runs (never starts one)."""
        server = self._server
        return server if server is not None and server.running else None

    def runtime(self) -> Runtime:
        """The process's runtime, made on first use (on this thread's loop)."""
        runtime = self.current_runtime
        if runtime is None:
            runtime = self._runtime = Runtime()
            runtime.bind()
        return runtime

    def server(self, port: int | None = None) -> Server:
        """The server in front of the process's runtime, started on first use (any free port unless ``port`` or
        ``WAVE_JUPYTER_PORT`` says)."""
        server = self.current_server
        if server is None:
            if not CAN_LISTEN:
                raise RuntimeError('this Python cannot open a port (Pyodide): views reach apps over the comm')
            from .server import Server
            config = Config.from_env()
            server = Server(port if port is not None else config.port_or(0), runtime=self.runtime(),
                            owns_runtime=True).start()
            self._server = server
        return server

    def env(self, file: str | None = None) -> dict[str, str]:
        """What an h2o_wave program in another process needs to use this process's server (started if need be) as
        its Wave server: a script's ``site`` pages, an app run with ``wave run``. With ``file``, also written there as
        ``export`` lines (mode 0600). It holds secrets: pass it to a child process, do not print or save it."""
        server = self.server()
        if file is not None:
            server.write_env(file)
        return server.env()

    def for_views(self, transport: str | None = None) -> Runtime:
        """The runtime apps mount on, with a server in front unless views use the comm (or no port can open)."""
        transport = check_transport(transport or Config.from_env().transport)
        if transport == 'comm' or not CAN_LISTEN:
            return self.runtime()
        return self.server().runtime

    def adopt(self, server: Server | None) -> None:
        """Make ``server`` (and its runtime) the process's; ``None`` forgets both."""
        self._server = server
        self._runtime = server.runtime if server is not None else None

    def close(self) -> None:
        """Stop the server listening now, dropping its sockets (synchronous: a kernel exiting has no loop turn)."""
        if self._server is not None:
            self._server.stop_listening()
            self._server = None


#: This process's.
PROCESS = Process()


class ProcessSite(Site):
    """``site`` for scripts (``from h2o_wave import site``): the process's pages, its server started on first use."""

    @property
    def runtime(self) -> Runtime:
        return self._runtime if self._runtime is not None else PROCESS.for_views()


class ProcessAsyncSite(AsyncSite):
    """``AsyncSite()`` as a script makes it: the process's pages unless it is given a runtime or server."""

    @property
    def runtime(self) -> Runtime:
        return self._runtime if self._runtime is not None else PROCESS.for_views()


site = ProcessSite()
