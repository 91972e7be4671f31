"""Shared fixtures: a real server on a free port (own loop, own thread) and a real headless Chromium."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wave_jupyter import App, Server

#: Frames and ops recorded from a real waved session (see traces/README.md); part of the repository.
TRACES = Path(__file__).resolve().parent / 'traces'


def trace(name: str) -> Path:
    """A recorded trace; a missing one fails the test (a clean clone must run every test)."""
    path = TRACES / name
    if not path.is_file():
        pytest.fail(f'trace file missing: {path}')
    return path


def trace_rows(name: str) -> list[Any]:
    """The JSON lines of a ``.jsonl`` trace."""
    return [json.loads(line) for line in trace(name).read_text().splitlines() if line.strip()]


CHROMIUM = os.environ.get('WAVE_JUPYTER_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = 'condition') -> Any:
    """Poll until ``condition()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout}s waiting for {what}')
        time.sleep(0.01)


class ServerThread:
    """A wave_jupyter Server on its own event loop in a thread, so tests can drive it with sync Playwright."""

    def __init__(self, port: int = 0, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        started.wait()
        self.server: Server = self.call(lambda: Server(port, **options).start())

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(started.set)
        self.loop.run_forever()

    def call(self, func: Callable, *args: Any) -> Any:
        """Run ``func`` on the server's loop; a coroutine result is awaited there."""
        async def run() -> Any:
            result = func(*args)
            return await result if asyncio.iscoroutine(result) else result
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)

    def listen(self, route: str, handler: Callable, mode: str | None = None) -> App:
        return self.call(self.server.mount, route, handler, mode)

    def url(self, route: str) -> str:
        return self.server.url(route)

    def stop(self) -> None:
        try:
            self.call(self.server.aclose)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


@pytest.fixture
def wave() -> Iterator[ServerThread]:
    st = ServerThread(reconnect_timeout=0.5)
    yield st
    st.stop()


@pytest.fixture(scope='session')
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f'Chromium not found at {CHROMIUM}: apt-get install -y chromium')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def text_of(page: Any, data_test: str) -> str:
    loc = page.locator(f'[data-test={data_test}]')
    return loc.inner_text() if loc.count() else ''


def run_on_loop(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)


__all__ = ['TRACES', 'ServerThread', 'run_on_loop', 'text_of', 'trace', 'trace_rows', 'wait_for']
