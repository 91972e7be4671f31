"""The pytest plugin (registered as ``wave_jupyter`` through the ``pytest11`` entry point): the ``wave_test``
fixture, a :class:`~wave_jupyter.testing.WaveTest` per test.

``async def`` tests that use it run on a fresh event loop of their own (on a thread of their own if this thread
already runs one), so no other plugin is needed; a test marked for pytest-asyncio or anyio is left to that plugin
(the fixture binds to whatever loop runs the test).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from . import WaveTest

FIXTURE = 'wave_test'


@pytest.fixture
def wave_test(tmp_path: Any) -> Iterator[WaveTest]:
    """Apps and browserless tabs for this test: ``wave_test.load('app.py')``, ``tab = wave_test.tab('/demo')``,
    ``await tab.click('go', who='Ada')``, ``tab.text()``, ``tab.card('out')``."""
    harness = WaveTest(data_dir=str(tmp_path / 'wave-data'))
    yield harness
    if not harness.runtime.closed and harness.runtime.loop is not None and not harness.runtime.loop.is_closed() \
            and not harness.runtime.loop.is_running():
        harness.runtime.loop.run_until_complete(harness.aclose())


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if FIXTURE not in pyfuncitem.fixturenames or not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    if any(pyfuncitem.get_closest_marker(m) for m in ('asyncio', 'anyio', 'trio')):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    harness: WaveTest = pyfuncitem.funcargs[FIXTURE]

    async def run() -> None:
        try:
            await pyfuncitem.obj(**kwargs)
        finally:
            await harness.aclose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: no loop here
        asyncio.run(run())
    else:  # a loop runs on this thread (another plugin's, Playwright's sync API): the test gets a thread of its own
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run()).result()
    return True
