"""The notebook side of apps: which cell started which app, hot swap on re-run, display, kernel shutdown.

One :class:`NotebookSession` per IPython shell, hooked to its ``pre_run_cell``/``post_run_cell`` events. Those run on
the kernel's own loop thread, like everything else here: no thread, no loop patching, no signal handlers.
"""

from __future__ import annotations

import asyncio
import atexit
from typing import Any

from .. import events
from ..app import App
from ..process import PROCESS
from ..runner import apps
from ..runtime import Runtime
from . import display
from .comm import AppsChannel
from .output import Console, route_prints

_session: NotebookSession | None = None


class NotebookSession:
    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.consoles: dict[str, Console] = {}
        self._before: dict[str, tuple[App, Any]] = {}
        self._shown: set[str] = set()  # routes whose console this cell already shows
        self.channel = AppsChannel(shell)

    # --- cell hooks ----------------------------------------------------------------------------------------------

    def pre_run_cell(self, info: Any = None) -> None:
        self._before = {route: (a, a.handler) for route, a in apps.items()}
        self._shown = set()

    def post_run_cell(self, result: Any = None) -> None:
        self.swap_redefined_handlers()
        for app in self.started_in_this_cell():
            console = self.console(app)
            if app.route not in self._shown:
                from IPython.display import display as show
                show(console.widget)
                self._shown.add(app.route)
        for app in apps.values():
            self.listen_to(app.runtime)
            self.channel.watch(app.runtime)
        self.channel.publish()

    def started_in_this_cell(self) -> list[App]:
        before = self._before
        return [a for route, a in apps.items()
                if route not in before or before[route][0] is not a or before[route][1] is not a.handler]

    def swap_redefined_handlers(self) -> None:
        """Re-running the cell that defines ``serve`` swaps it into the apps that serve the old ``serve``."""
        ns = self.shell.user_ns
        for app in list(apps.values()):
            old = app.handler
            name = getattr(old, '__name__', None)
            new = ns.get(name) if name and getattr(old, '__globals__', None) is ns else None  # defined in a cell
            if new is not None and new is not old and asyncio.iscoroutinefunction(new):
                app.swap(new)

    # --- consoles and display ------------------------------------------------------------------------------------

    def console(self, app: App) -> Console:
        """The error console of the cell that started ``app`` (a fresh one each time that cell runs again)."""
        if app.route not in self.consoles or (app in self.started_in_this_cell() and app.route not in self._shown):
            self.consoles[app.route] = Console()
        self.listen_to(app.runtime)
        return self.consoles[app.route]

    def listen_to(self, runtime: Runtime) -> None:
        """Errors to the console of the cell that started the app; stopped apps marked in their views."""
        runtime.events.subscribe_once(self, self.on_app_event, events.HandlerError, events.AppStopped)

    def on_app_event(self, event: events.HandlerError | events.AppStopped) -> None:
        app = event.app
        if isinstance(event, events.HandlerError):
            if app.route in self.consoles:
                self.consoles[app.route].error(app, event.traceback)
        else:
            display.mark_stopped(app)

    def mimebundle(self, app: App, include: Any = None, exclude: Any = None) -> dict:
        """An app as a cell's result: its live view; in the cell that started it, with its error console."""
        console = None
        if app in self.started_in_this_cell() and app.route not in self._shown:
            console = self.console(app)
            self._shown.add(app.route)
        return display.mimebundle(app, console)


def activate(shell: Any) -> NotebookSession:
    """Hook wave_jupyter into an IPython shell (idempotent): display, hot swap, prints, errors, shutdown."""
    global _session
    if _session is not None and _session.shell is shell:
        return _session
    _session = NotebookSession(shell)
    shell.events.register('pre_run_cell', _session.pre_run_cell)
    shell.events.register('post_run_cell', _session.post_run_cell)
    shell.display_formatter.mimebundle_formatter.for_type(App, _session.mimebundle)
    route_prints()
    atexit.register(PROCESS.close)
    return _session


def session() -> NotebookSession | None:
    return _session


__all__ = ['NotebookSession', 'activate', 'session']
