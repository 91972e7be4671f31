"""Inside a running event loop (as in a Jupyter kernel): listen/app return at once and serve on that same loop."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time

import pytest
from h2o_wave import ui
from wsclient import AsyncWaveSocket, WaveSocket

from wave_jupyter import Q, app, apps, listen, site
from wave_jupyter.process import PROCESS
from wave_jupyter.server import server_of


def in_own_loop(test):
    """Run an async test on a new event loop in its own thread, as a kernel runs cells on its loop.

    (Playwright's sync API keeps a loop marked running on the main thread, so the main thread can't host one.)
    """
    @functools.wraps(test)
    def run() -> None:
        async def body() -> None:
            try:
                await test()
            finally:
                srv = PROCESS.current_server
                if srv is not None:
                    await srv.aclose()
                runtime = PROCESS.current_runtime
                if runtime is not None:  # a comm-only test leaves a runtime with no server
                    await runtime.aclose()

        failure: list[BaseException] = []
        thread = threading.Thread(target=lambda: _capture(failure, asyncio.run, body()))
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), 'test timed out'
        if failure:
            raise failure[0]
    return run


def _capture(failure: list, func, *args) -> None:
    try:
        func(*args)
    except BaseException as e:  # noqa: BLE001 - re-raised on the test's thread
        failure.append(e)



async def counter(q: Q) -> None:
    q.client.n = (q.client.n or 0) + 1
    q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'n={q.client.n}')
    await q.page.save()


@in_own_loop
async def test_listen_in_a_running_loop_returns_at_once_and_serves_on_it():
    t0 = time.perf_counter()
    demo = listen('/demo', counter)
    assert time.perf_counter() - t0 < 1
    server = server_of(demo)
    assert demo.runtime.loop is asyncio.get_running_loop()
    assert server.port != 10101 and demo.url == f'http://127.0.0.1:{server.port}/{server.secret}/demo'
    assert apps['/demo'] is demo and demo.route == '/demo' and demo.mode == 'unicast'
    ws = await AsyncWaveSocket.open(server_of(demo))
    cid = json.loads(await ws.recv())['i']
    await ws.send('+ /demo ')
    assert 'n=1' in await ws.recv()
    assert demo.last_query.client_id == cid and demo.state.clients[cid].n == 1
    await ws.close()


@in_own_loop
async def test_relisten_swaps_handler_and_keeps_state():
    demo = listen('/demo', counter)
    ws = await AsyncWaveSocket.open(server_of(demo))
    cid = json.loads(await ws.recv())['i']
    await ws.send('+ /demo ')
    await ws.recv()

    async def doubled(q: Q) -> None:
        q.client.n = (q.client.n or 0) + 2
        q.page['x'].content = f'n={q.client.n} (new handler)'
        await q.page.save()

    again = listen('/demo', doubled)
    assert again is demo and demo.handler is doubled and len(apps) == 1
    # open tabs re-run the new handler at once, with their own q.client kept
    assert 'n=3 (new handler)' in await ws.recv()
    await ws.send('@ /demo {}')
    assert 'n=5 (new handler)' in await ws.recv()
    assert demo.state.clients[cid].n == 5

    demo.swap(counter, reset=True)  # --reset: state starts empty, tabs reload
    assert json.loads(await ws.recv()) == {'r': 1}
    assert demo.state.clients == {}
    await ws.close()


@in_own_loop
async def test_app_decorator_mounts_in_a_running_loop():
    started = asyncio.Event()

    @app('/deco', mode='broadcast', on_startup=started.set)
    async def serve(q: Q) -> None:
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content='deco')
        await q.page.save()

    await asyncio.wait_for(started.wait(), 5)
    assert apps['/deco'].mode == 'broadcast' and apps['/deco'].handler is serve


@in_own_loop
async def test_stop_unmounts_and_tabs_reload():
    demo = listen('/demo', counter)
    ws = await AsyncWaveSocket.open(server_of(demo))
    await ws.recv()
    await ws.send('+ /demo ')
    await ws.recv()
    demo.stop()
    assert json.loads(await ws.recv()) == {'r': 1}
    assert '/demo' not in apps
    with pytest.raises(KeyError, match='no app at'):
        apps['/demo']
    await ws.close()


@in_own_loop
async def test_sync_site_save_in_a_blocking_loop_reaches_browsers_while_it_runs():
    server = PROCESS.server()
    got: list[tuple[float, str]] = []

    def browser() -> None:  # a client on another thread, timing what arrives
        sock = WaveSocket(server)
        sock.send('+ /blocking ')
        while not got or 'step 4' not in got[-1][1]:
            got.append((time.monotonic(), sock.ws.recv(timeout=10)))
        sock.close()

    reader = threading.Thread(target=browser, daemon=True)
    reader.start()
    while not server.runtime.broker.subscribers.get('/blocking'):
        await asyncio.sleep(0.01)
    page = site['/blocking']
    for i in range(5):  # a blocking loop on the event loop's own thread, as in a notebook cell: no await here
        page['c'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'step {i}')
        page.save()
        time.sleep(0.1)
    blocked_until = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(None, reader.join, 10)
    first = next(t for t, text in got if 'step 0' in text)
    assert first < blocked_until - 0.3  # step 0 reached the browser while the loop was still blocked
    assert 'step 4' in got[-1][1]


@in_own_loop
async def test_swap_cancels_the_old_handlers_running_queries():
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(q: Q) -> None:
        started.set()
        try:
            await q.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    demo = listen('/slow', slow)
    ws = await AsyncWaveSocket.open(server_of(demo))
    await ws.recv()
    await ws.send('+ /slow ')
    await asyncio.wait_for(started.wait(), 5)
    listen('/slow', counter)  # hot swap while the old handler still runs
    await asyncio.wait_for(cancelled.wait(), 5)
    assert 'n=1' in await ws.recv()  # and the tab re-ran the new handler
    await ws.close()
