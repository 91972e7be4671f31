"""A running Wave app: its handler and mode, dispatch of browser events to it, errors, hot swap and lifecycle.

The broker hands every watch/query of the app's route to :meth:`App.submit`, which starts the handler as a task on
the runtime's loop (queries run concurrently, as under waved + h2o_wave). What a notebook reads of the app is in
:mod:`.inspection`; checkpoints are in :mod:`.checkpoints`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from h2o_wave.ui import markdown_card

from . import checkpoints, events, protocol
from .broker import Client
from .inspection import Inspection
from .modes import check_mode, page_path
from .query import Auth, Query
from .runtime import Runtime
from .site import AsyncSite, discard_unsaved
from .state import AppState, Expando, QueryRecord

log = logging.getLogger('wave_jupyter')

Handler = Callable[[Query], Awaitable[Any]]

#: How long a handler may hold the event loop in one go before it is told to use ``q.run``.
SLOW_STEP = 0.5

#: The app whose handler is running in this task: lets ``print`` in a handler land in that app's output.
current_app: contextvars.ContextVar[App | None] = contextvars.ContextVar('wave_jupyter_app', default=None)


class App(Inspection):
    #: How an app shows itself where a front end asks an object to show itself (marimo's ``_display_``): the
    #: notebook layer's live view, wired in by the package root (``wave_jupyter/__init__``), which is above this.
    shows_as: ClassVar[Callable[[App], Any] | None] = None

    def __init__(self, runtime: Runtime, route: str, handler: Handler, mode: str | None = None,
                 on_startup: Callable | None = None, on_shutdown: Callable | None = None) -> None:
        if not route.startswith('/'):
            raise ValueError(f'route must start with "/"; got {route!r}')
        self.runtime = runtime
        self.route = route
        self.mode = check_mode(mode)
        self.handler = handler
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self.state = AppState()
        self.site = AsyncSite(runtime)
        self.tasks: set[asyncio.Task] = set()
        self.running = False
        #: Display height in pixels when the app is shown in a notebook; None: as tall as the app's page.
        self.height: int | None = None
        #: How a notebook's views reach the app: 'auto', 'direct', 'proxy' or 'comm' (``listen(transport=...)``).
        self.transport = 'auto'
        #: How many times the handler was swapped (views and previews reload when it changes).
        self.generation = 0
        self._init_inspection()

    def _display_(self) -> Any:
        """marimo's display protocol: the live view (IPython uses its display formatter, see ``jupyter/session``)."""
        return self.shows_as(self) if self.shows_as is not None else repr(self)

    @property
    def url(self) -> str | None:
        """A URL a browser on this machine opens as is. It holds the server's secret in its path: ``repr`` and every
        table of ours leave it out, so that it never lands in a saved notebook; print it only where that is fine."""
        return self.runtime.url(self.route)

    # --- queries -------------------------------------------------------------------------------------------------

    def submit(self, client: Client, args: dict, events: dict | None) -> asyncio.Task:
        """Start the handler for one browser event."""
        ev = {k: Expando(v) if isinstance(v, dict) else v for k, v in (events or {}).items()}
        q = Query(
            site=self.site, mode=self.mode, username=client.username, client_id=client.id, route=self.route,
            app_state=self.state.app, user_state=self._session(self.state.users, client.subject),
            client_state=self._session(self.state.clients, client.id), auth=Auth(client.username, client.subject),
            args=Expando(args), events=Expando(ev), headers=client.headers,
            page_path=page_path(self.mode, self.route, client.id, client.subject),
        )
        self._saw_query(q, QueryRecord(time.time(), client.id, dict(args), dict(events or {})))
        task = asyncio.get_event_loop().create_task(self._process(q, client))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _process(self, q: Query, client: Client) -> None:
        sent = client.sent
        current_app.set(self)  # this task's context only
        try:
            await _Timed(self.handler(q), self._blocked)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a handler's error is the app's, shown to its author
            tb = traceback.format_exc()
            self._saw_error(tb)
            log.error('Unhandled exception in %s handler for client %s:\n%s', self.route, client.id, tb)
            self.runtime.events.emit(events.HandlerError(self, tb))
            await self._show_error(q, tb)
        if client.sent == sent:
            client.send(protocol.ACK)  # nothing came back: clear the UI's busy overlay
        self._saw_done()
        self.runtime.events.emit(events.QueryDone(self))

    def _blocked(self, seconds: float) -> None:
        message = (f'The {self.route} handler blocked the event loop for {seconds:.1f} s: every other client, app and '
                   f'notebook cell waited. Run blocking work in a thread with `await q.run(func, *args)`.')
        log.warning(message)
        self.runtime.events.emit(events.LoopBlocked(self, message))

    async def _show_error(self, q: Query, tb: str) -> None:
        """What the SDK does: the page is replaced by an error card holding the traceback."""
        discard_unsaved(q.page)
        q.page.drop()
        q.page['__unhandled_error__'] = markdown_card(box='1 1 -1 -1', title='Error', content=f'```\n{tb}\n```')
        try:
            await q.page.save()
        except Exception:
            log.exception('Could not show the error card')

    @staticmethod
    def _session(sessions: dict[str, Expando], key: str) -> Expando:
        if key not in sessions:
            sessions[key] = Expando()
        return sessions[key]

    def client_gone(self, client: Client) -> None:
        """The tab did not come back: the handler sees ``@system client_disconnect``, then ``q.client`` is dropped."""
        task = self.submit(client, {}, {'@system': {'client_disconnect': True}})
        task.add_done_callback(lambda _: self._forget(client))

    def _forget(self, client: Client) -> None:
        self.state.clients.pop(client.id, None)
        self.runtime.broker.pages.delete(f'/{client.id}')  # also what the disconnect handler may have saved

    # --- lifecycle -----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.running = True
        checkpoints.restore(self.route, self.state)
        if self.on_startup:
            await _maybe_await(self.on_startup())

    async def shutdown(self) -> None:
        """Cancel running handlers, checkpoint, call ``on_shutdown``."""
        self.running = False
        for task in list(self.tasks):
            task.cancel()
        checkpoints.save(self.route, self.state)
        if self.on_shutdown:
            await _maybe_await(self.on_shutdown())

    def swap(self, handler: Handler, mode: str | None = None, reset: bool = False) -> None:
        """Hot swap: a new handler on the same route, the old handler's running queries cancelled.

        State is kept and every open tab re-runs the new handler (as on a page load, with its own ``q.client``);
        with ``reset`` the state starts empty and the tabs reload.
        """
        new_mode = check_mode(mode, self.mode)
        for task in list(self.tasks):
            task.cancel()
        self.handler = handler
        if reset or new_mode != self.mode:
            self.mode = new_mode
            self.state = AppState()
            self.runtime.broker.reset_route(self.route)
        else:
            for client in self.tabs:
                if client.conn is not None:
                    self.submit(client, {}, None)
        self.generation += 1
        self.runtime.events.emit(events.AppSwapped(self))

    async def refresh(self, client: str | Client = 'all') -> None:
        """Re-run the handler (with empty args, as on a page load) for one client or all, e.g. after changing
        state from a notebook cell; returns when the handlers are done."""
        targets = [c for c in self.tabs if c.conn is not None and (client == 'all' or client in (c, c.id))]
        if client != 'all' and not targets:
            raise KeyError(f'no connected client {client!r} of {self.route}')
        await asyncio.gather(*(self.submit(c, {}, None) for c in targets))

    def write_output(self, text: str) -> None:
        """Text ``print``-ed by this app's handlers (the Jupyter layer routes it here)."""
        self._saw_output(text)
        self.runtime.events.emit(events.HandlerOutput(self, text))

    def stop(self) -> None:
        """Unmount the app: its tabs reload (and find no app), its handlers are cancelled."""
        self.runtime.unregister(self)
        self.runtime.spawn(self.shutdown())
        self.runtime.events.emit(events.AppStopped(self))

    def checkpoint(self, directory: str | None = None) -> str | None:
        """Save ``q.app`` and ``q.user`` now; returns the file.

        With ``directory``: as h2o_wave's checkpoint there, for the production app to start from (run it with
        ``H2O_WAVE_CHECKPOINT_DIR=directory``). Without: this app's own checkpoint, if ``H2O_WAVE_CHECKPOINT_DIR`` is
        set (see :mod:`.checkpoints`).
        """
        if directory is not None:
            return checkpoints.save_for_wave(directory, self.state)
        return checkpoints.save(self.route, self.state)


def mount(runtime: Runtime, route: str, handler: Handler, mode: str | None = None,
          on_startup: Callable | None = None, on_shutdown: Callable | None = None) -> App:
    """Serve ``handler`` at ``route``. A route already served keeps its app (and state) and swaps the handler."""
    existing = runtime.broker.apps.get(route)
    if isinstance(existing, App):
        existing.swap(handler, mode)
        return existing
    if existing is not None:  # an app of another process (the hub's): the notebook's own takes the route
        runtime.unregister(existing)
        runtime.spawn(existing.shutdown())
    app = App(runtime, route, handler, mode, on_startup, on_shutdown)
    runtime.register(app)
    runtime.spawn(app.start())
    return app


class _Timed:
    """Await a handler step by step, timing each step: a step is how long the handler held the event loop."""

    def __init__(self, coro: Any, on_slow: Callable[[float], None], limit: float = SLOW_STEP) -> None:
        self._coro, self._on_slow, self._limit = coro, on_slow, limit

    def __await__(self) -> Any:
        coro, warned = self._coro, False
        value: Any = None
        error: BaseException | None = None
        while True:
            t0 = time.perf_counter()
            try:
                step = coro.throw(error) if error is not None else coro.send(value)
            except StopIteration as done:
                return done.value
            finally:
                took = time.perf_counter() - t0
                if took > self._limit and not warned:
                    warned = True
                    self._on_slow(took)
            try:
                value, error = (yield step), None
            except BaseException as e:  # noqa: BLE001 - cancellation and the like go to the handler
                value, error = None, e


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value
