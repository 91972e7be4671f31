"""``Q``: what a handler receives, with the names and behaviour of ``h2o_wave.server.Query``."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from .site import AsyncPage, AsyncSite
from .state import Expando


class Auth:
    """Who sent the query. Without single sign-on every browser is the anonymous user ``anon``."""

    def __init__(self, username: str, subject: str, access_token: str = '', refresh_token: str = '',
                 session_id: str = '') -> None:
        self.username = username
        self.subject = subject
        self.access_token = access_token
        self.refresh_token = refresh_token
        self._session_id = session_id

    async def ensure_fresh_token(self) -> str | None:
        """Tokens exist only with OIDC, which this server does not do: nothing to refresh."""
        return self.access_token or None

    def ensure_fresh_token_sync(self) -> str | None:
        return self.access_token or None

    def __repr__(self) -> str:
        return f'Auth(username={self.username!r}, subject={self.subject!r})'


class Query:
    """The query context passed to a handler on every browser event (page load, click, ...)."""

    def __init__(self, site: AsyncSite, mode: str, username: str, client_id: str, route: str, app_state: Expando,
                 user_state: Expando, client_state: Expando, auth: Auth, args: Expando,
                 events: Expando | None = None, headers: dict[str, list[str]] | None = None,
                 page_path: str | None = None) -> None:
        self.site = site
        self.mode = mode
        self.username = username
        self.client_id = client_id
        self.route = route
        self.app = app_state
        self.user = user_state
        self.client = client_state
        self.auth = auth
        self.args = args
        self.events = events if events is not None else Expando()
        self.headers = headers or {}
        #: The app's own page (where it lives follows from the mode: :func:`~.modes.page_path`).
        self.page = AsyncPage(site, page_path or route, app_page=True)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        """Wait without blocking other queries (never ``time.sleep`` in a handler)."""
        return await asyncio.sleep(delay, result)

    async def exec(self, executor: Executor | None, func: Callable, *args: Any, **kwargs: Any) -> Any:
        """Run ``func`` on ``executor`` (a thread pool if None) so the event loop keeps serving meanwhile."""
        if asyncio.iscoroutinefunction(func):
            return await func(*args, **kwargs)
        if sys.platform == 'emscripten':
            raise RuntimeError(f'q.exec/q.run cannot run {getattr(func, "__name__", func)!r} here: Python in a browser '
                               'has no threads. Call it directly (it blocks this tab while it runs) or make it async')
        loop = asyncio.get_running_loop()
        call = functools.partial(func, *args, **kwargs)
        return await _awake(loop, loop.run_in_executor(executor, contextvars.copy_context().run, call))

    async def run(self, func: Callable, *args: Any, **kwargs: Any) -> Any:
        """``exec`` on the default thread pool."""
        return await self.exec(None, func, *args, **kwargs)

    def __repr__(self) -> str:
        return f'<Q {self.route} client={self.client_id} args={self.args!r}>'


#: Seconds between wake-ups of the loop while work runs on another thread (see :func:`_awake`).
WAKE_EVERY = 0.05


async def _awake(loop: asyncio.AbstractEventLoop, work: asyncio.Future) -> Any:
    """Await ``work`` while waking ``loop`` every :data:`WAKE_EVERY` seconds.

    Wave's background-task pattern reports progress from the worker thread with
    ``asyncio.ensure_future(coro, loop=loop)``. That call is not thread-safe: it queues the task but does not wake a
    loop asleep in ``select``, so the progress would wait for the next network event (and the UI, busy meanwhile,
    would not let the user press Cancel). Under uvicorn a 0.1 s timer of its own wakes the loop; here a timer runs only
    while such work does.
    """
    handle: asyncio.TimerHandle | None = None

    def tick() -> None:
        nonlocal handle
        handle = loop.call_later(WAKE_EVERY, tick)

    tick()
    try:
        return await work
    finally:
        if handle is not None:
            handle.cancel()


Q = Query
