"""The hop onto an event loop's thread, written once.

Apps, pages and clients live on one loop. Jupyter may call us on another thread (ipykernel 7 runs comms over
subshells, one thread per comm target), and a script's ``page.save()`` may run in a worker thread: what they do to
apps must happen on the loop's own thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any


class LoopThread:
    """An event loop and the thread that runs it (both unknown until :meth:`bind`)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: int | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """``loop`` runs on the calling thread."""
        self.loop = loop
        self.thread = threading.get_ident()

    @property
    def here(self) -> bool:
        """Whether the caller is on the loop's thread."""
        return self.thread == threading.get_ident()

    def soon(self, func: Callable[..., Any], *args: Any) -> None:
        """``func(*args)`` on the loop's thread: now if on it (or with no loop yet), else as soon as the loop gets to
        it (never waits)."""
        if self.here or self.loop is None:
            func(*args)
        else:
            self.loop.call_soon_threadsafe(func, *args)

    def call(self, func: Callable[..., Any], *args: Any, timeout: float = 30) -> Any:
        """``func(*args)`` on the loop's thread, waiting for its result (at once if already on that thread)."""
        if self.here or self.loop is None:
            return func(*args)
        done: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(func(*args))
            except BaseException as e:  # noqa: BLE001 - handed back to the caller
                done.set_exception(e)

        self.loop.call_soon_threadsafe(run)
        return done.result(timeout=timeout)


__all__ = ['LoopThread']
