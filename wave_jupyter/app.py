"""A running Wave app: its handler, mode and live state, and the queries it has seen.

The broker hands every watch/query of the app's route to :meth:`App.submit`, which starts the handler as a task on
the server's loop (queries run concurrently, as under waved + h2o_wave).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import pickle
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from h2o_wave.ui import markdown_card

from . import protocol
from .broker import MODES, UNICAST, Client
from .query import Auth, Query
from .site import AsyncSite
from .state import HISTORY, AppState, Expando, QueryHistory, QueryRecord

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger('wave_jupyter')

Handler = Callable[[Query], Awaitable[Any]]
Listener = Callable[['App', str, Any], None]

#: How long a handler may hold the event loop in one go before it is told to use ``q.run``.
SLOW_STEP = 0.5
CHECKPOINT_ENV = 'H2O_WAVE_CHECKPOINT_DIR'

#: The app whose handler is running in this task: lets ``print`` in a handler land in that app's log.
current_app: contextvars.ContextVar[App | None] = contextvars.ContextVar('wave_jupyter_app', default=None)


class App:
    def __init__(self, server: Server, route: str, handler: Handler, mode: str | None = None,
                 on_startup: Callable | None = None, on_shutdown: Callable | None = None) -> None:
        mode = mode or UNICAST
        if mode not in MODES:
            raise ValueError(f'mode must be one of {", ".join(MODES)}; got {mode!r}')
        if not route.startswith('/'):
            raise ValueError(f'route must start with "/"; got {route!r}')
        self.server = server
        self.route = route
        self.mode = mode
        self.handler = handler
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self.state = AppState()
        self.site = AsyncSite(server)
        self.last_query: Query | None = None
        self.history = QueryHistory()
        self.errors: deque[str] = deque(maxlen=HISTORY)
        self.log: deque[str] = deque(maxlen=1000)
        self.tasks: set[asyncio.Task] = set()
        self.running = False
        #: Display height in pixels when the app is shown in a notebook.
        self.height = 400
        #: How many times the handler was swapped (views and previews reload when it changes).
        self.generation = 0
        #: Called as ``listener(app, event, data)`` for 'error' (traceback), 'log' (text), 'swapped', 'stopped'.
        self.listeners: list[Listener] = []

    @property
    def url(self) -> str:
        """A URL a browser on this machine opens as is. It holds the server's secret in its path: ``repr`` and every
        table of ours leave it out, so that it never lands in a saved notebook; print it only where that is fine."""
        return self.server.url(self.route)

    @property
    def clients(self) -> list[Client]:
        return [c for c in self.server.broker.clients.values() if c.route == self.route]

    # --- queries -------------------------------------------------------------------------------------------------

    def submit(self, client: Client, args: dict, events: dict | None) -> asyncio.Task:
        """Start the handler for one browser event."""
        ev = {k: Expando(v) if isinstance(v, dict) else v for k, v in (events or {}).items()}
        q = Query(
            site=self.site, mode=self.mode, username=client.username, client_id=client.id, route=self.route,
            app_state=self.state.app, user_state=self._session(self.state.users, client.subject),
            client_state=self._session(self.state.clients, client.id), auth=Auth(client.username, client.subject),
            args=Expando(args), events=Expando(ev), headers=client.headers,
        )
        self.last_query = q
        self.history.append(QueryRecord(time.time(), client.id, dict(args), dict(events or {})))
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
        except Exception:
            tb = traceback.format_exc()
            self.errors.append(tb)
            log.error('Unhandled exception in %s handler for client %s:\n%s', self.route, client.id, tb)
            self.emit('error', tb)
            await self._show_error(q, tb)
        if client.sent == sent:
            client.send(protocol.ACK)  # nothing came back: clear the UI's busy overlay

    def _blocked(self, seconds: float) -> None:
        message = (f'The {self.route} handler blocked the event loop for {seconds:.1f} s: every other client, app and '
                   f'notebook cell waited. Run blocking work in a thread with `await q.run(func, *args)`.')
        log.warning(message)
        self.emit('blocked', message)

    async def _show_error(self, q: Query, tb: str) -> None:
        """What the SDK does: the page is replaced by an error card holding the traceback."""
        q.page._changes.clear()
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
        self.server.broker.pages.delete(f'/{client.id}')  # also what the disconnect handler may have saved

    # --- lifecycle -----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.running = True
        self.restore()
        if self.on_startup:
            await _maybe_await(self.on_startup())

    async def shutdown(self) -> None:
        """Cancel running handlers and call ``on_shutdown``."""
        self.running = False
        for task in list(self.tasks):
            task.cancel()
        self.checkpoint()
        if self.on_shutdown:
            await _maybe_await(self.on_shutdown())

    def swap(self, handler: Handler, mode: str | None = None, reset: bool = False) -> None:
        """Hot swap: a new handler on the same route, the old handler's running queries cancelled.

        State is kept and every open tab re-runs the new handler (as on a page load, with its own ``q.client``);
        with ``reset`` the state starts empty and the tabs reload.
        """
        if mode is not None and mode not in MODES:
            raise ValueError(f'mode must be one of {", ".join(MODES)}; got {mode!r}')
        for task in list(self.tasks):
            task.cancel()
        self.handler = handler
        if reset or (mode and mode != self.mode):
            self.mode = mode or self.mode
            self.state = AppState()
            self.server.broker.reset_route(self.route)
        else:
            for client in self.clients:
                if client.conn is not None:
                    self.submit(client, {}, None)
        self.generation += 1
        self.emit('swapped', handler)
        self.server.changed()

    async def refresh(self, client: str | Client = 'all') -> None:
        """Re-run the handler (with empty args, as on a page load) for one client or all, e.g. after changing
        state from a notebook cell; returns when the handlers are done."""
        targets = [c for c in self.clients if c.conn is not None and (client == 'all' or client in (c, c.id))]
        if client != 'all' and not targets:
            raise KeyError(f'no connected client {client!r} of {self.route}')
        await asyncio.gather(*(self.submit(c, {}, None) for c in targets))

    def write_log(self, text: str) -> None:
        """Output of ``print`` in this app's handlers (the Jupyter layer routes it here)."""
        self.log.append(text)
        self.emit('log', text)

    def emit(self, event: str, data: Any = None) -> None:
        for listener in list(self.listeners):
            try:
                listener(self, event, data)
            except Exception:
                log.exception('wave_jupyter: a %s listener of %s failed', event, self.route)

    def stop(self) -> None:
        """Unmount the app: its tabs reload (and find no app), its handlers are cancelled."""
        self.server.unmount(self)
        self.emit('stopped')

    # --- checkpoints (H2O_WAVE_CHECKPOINT_DIR, as with h2o_wave) -----------------------------------------------------

    def checkpoint_path(self) -> str | None:
        folder = os.environ.get(CHECKPOINT_ENV)
        if not folder:
            return None
        slug = self.route.strip('/').replace('/', '_') or 'root'
        return os.path.join(folder, f'wave_jupyter-{slug}.checkpoint')

    def checkpoint(self) -> str | None:
        """Save ``q.app`` and every ``q.user`` (not ``q.client``: tabs do not survive a restart)."""
        path = self.checkpoint_path()
        if path is None:
            return None
        os.makedirs(os.path.dirname(path), exist_ok=True)
        state = self.state.to_dict()
        with open(path + '.tmp', 'wb') as f:
            pickle.dump({'app': state['app'], 'users': state['users']}, f)
        os.replace(path + '.tmp', path)
        return path

    def restore(self) -> bool:
        """Load a checkpoint saved by :meth:`checkpoint` (a bad one is logged and ignored: the app starts empty)."""
        path = self.checkpoint_path()
        if path is None or not os.path.isfile(path):
            return False
        try:
            with open(path, 'rb') as f:
                saved = pickle.load(f)
            self.state.app = Expando(saved['app'])
            self.state.users = {k: Expando(v) for k, v in saved['users'].items()}
        except Exception:
            log.exception('wave_jupyter: could not restore %s from %s; starting empty', self.route, path)
            return False
        return True

    def page(self, client_id: str | None = None) -> dict | None:
        """The server-side page of a client (the latest one if None) as plain data, for inspection."""
        if self.mode == UNICAST:
            cid = client_id or (self.last_query.client_id if self.last_query else None)
            path = f'/{cid}' if cid else None
        else:
            path = self.last_query.page.url if self.last_query else self.route
        page = self.server.broker.pages.get(path) if path else None
        return page.to_dict() if page is not None else None

    def state_dict(self) -> dict:
        return self.state.to_dict()

    def __repr__(self) -> str:
        return f'<App {self.route} {self.mode} clients={len(self.clients)} port={self.server.port}>'


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
