"""The runtime: everything a Wave server is, without HTTP.

It owns the broker (clients, subscriptions, pages), the apps by route, the uploaded files, ``q.site.cache``, the event
hub and the loop it runs on. Transports (:mod:`.server` for tornado, :mod:`.commlink` for a comm or a page's worker)
carry browser traffic to it through the broker and :class:`~.connection.Connection`; the runtime never imports one.
The process's own runtime is :mod:`.process`'s. Apps depend
on it, never the other way round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from . import events
from .broker import AppLike, Broker
from .loopthread import LoopThread
from .streams import Streams
from .tempdirs import TempDir
from .uploads import UploadStore

log = logging.getLogger('wave_jupyter')


class Transport(Protocol):
    """What the runtime needs of a transport: where a browser opens a route, and a way to close."""

    def url(self, route: str) -> str: ...

    def browser_urls(self, route: str) -> dict[str, str]: ...

    async def aclose(self) -> None: ...


class Runtime:
    """Apps, pages, clients, uploads and events on one event loop.

    ``base_url`` is Wave's base URL: the prefix of every path an app sees (``/_f/...`` for files).
    """

    def __init__(self, *, base_url: str = '/', data_dir: str | None = None, reconnect_timeout: float = 5.0) -> None:
        self.base_url = base_url
        self.events = events.Hub()
        self.broker = Broker(reconnect_timeout=reconnect_timeout, events=self.events)
        #: Our own temporary folder (removed on close, at exit, or by the next process if this one is killed).
        self._scratch = TempDir() if data_dir is None else None
        self.data_dir = self._scratch.path if self._scratch is not None else Path(data_dir)
        self.uploads = UploadStore(self.data_dir / 'f')
        #: ``q.site.cache``: shard -> key -> value.
        self.cache: dict[str, dict[str, Any]] = {}
        #: ``q.site.uplink`` streams (of apps in other processes, through the hub).
        self.streams = Streams()
        self.transports: list[Transport] = []
        #: The loop every app lives on, and its thread.
        self.home = LoopThread()
        self.closed = False

    # --- the loop --------------------------------------------------------------------------------------------

    def bind(self) -> None:
        """Run on this thread's event loop (the running one, else the current one); done once, by the first user."""
        if self.loop is not None and not self.loop.is_closed():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        self.home.bind(loop)
        self.closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self.home.loop

    @property
    def on_loop_thread(self) -> bool:
        return self.home.here

    def call(self, func: Callable[..., Any], *args: Any, timeout: float = 30) -> Any:
        """``func(*args)`` on the loop's thread, waiting for its result (at once if already on that thread)."""
        return self.home.call(func, *args, timeout=timeout)

    def soon(self, func: Callable[..., Any], *args: Any) -> None:
        """``func(*args)`` on the loop's thread: now if on it, else as soon as the loop gets to it (never waits)."""
        self.home.soon(func, *args)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """A task on the loop whose failure is logged, not lost."""
        assert self.loop is not None, 'the runtime is not bound to a loop'
        task = self.loop.create_task(coro)
        task.add_done_callback(_log_failure)
        return task

    # --- apps --------------------------------------------------------------------------------------------------

    @property
    def apps(self) -> dict[str, AppLike]:
        """The apps by route (a copy)."""
        return dict(self.broker.apps)

    def register(self, app: AppLike) -> None:
        """Serve ``app`` at its route: open tabs of that route reload into it."""
        self.bind()
        self.broker.register(app)

    def unregister(self, app: AppLike) -> None:
        self.broker.unregister(app)

    # --- pages ---------------------------------------------------------------------------------------------------

    def publish(self, path: str, raw: str, ops: list, announce: bool = True) -> None:
        """Send an ops batch to the page's browsers and store it; on the loop's thread. ``announce``: a new page at
        ``path`` is a page of its own (a script's), not an app's ``q.page``."""
        self.broker.patch(path, raw, ops, announce)

    def publish_threadsafe(self, path: str, raw: str, ops: list, announce: bool = True) -> None:
        """``publish`` from any thread. On the loop's thread it writes at once, even inside a blocking cell."""
        if self.on_loop_thread or self.loop is None:
            self.publish(path, raw, ops, announce)
        else:
            self.loop.call_soon_threadsafe(self.publish, path, raw, ops, announce)

    # --- transports ----------------------------------------------------------------------------------------------

    def attach(self, transport: Transport) -> None:
        if transport not in self.transports:
            self.transports.append(transport)

    def detach(self, transport: Transport) -> None:
        if transport in self.transports:
            self.transports.remove(transport)

    def url(self, route: str = '/') -> str | None:
        """Where a browser on this machine opens ``route`` (through the first transport), or None without one."""
        return self.transports[0].url(route) if self.transports else None

    def browser_urls(self, route: str) -> dict[str, str]:
        """Where a notebook's view may load ``route`` over HTTP (``direct``, ``proxy``; see :mod:`.urls`), or ``{}``
        when no transport serves HTTP (the view then uses the comm)."""
        return self.transports[0].browser_urls(route) if self.transports else {}

    # --- closing -----------------------------------------------------------------------------------------------

    def drop_connections(self) -> None:
        """Close every browser connection now (their tabs reconnect to whatever serves next)."""
        for client in list(self.broker.clients.values()):
            if client.expiry:
                client.expiry.cancel()
            if client.conn:
                client.conn.close()

    async def aclose(self) -> None:
        """Close every transport and connection, stop every app (``on_shutdown``, checkpoints), remove temp files."""
        if self.closed:
            return
        self.closed = True
        self.streams.end_all()
        for transport in list(self.transports):
            await transport.aclose()
        self.drop_connections()
        for app in list(self.broker.apps.values()):
            self.broker.unregister(app)
            await app.shutdown()
        if self._scratch is not None:
            self._scratch.remove()


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error('wave_jupyter task failed', exc_info=task.exception())
