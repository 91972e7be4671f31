"""The hop onto the loop's thread and the event hub's one-subscription-per-owner rule."""

from __future__ import annotations

import asyncio
import threading

from wave_jupyter import events
from wave_jupyter.loopthread import LoopThread


def test_calls_from_another_thread_run_on_the_loops_thread():
    loop = asyncio.new_event_loop()
    home = LoopThread()
    ran_on: list[int] = []

    def serve() -> None:
        home.bind(loop)
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        while home.loop is None:
            threading.Event().wait(0.01)
        assert not home.here
        assert home.call(lambda x: (ran_on.append(threading.get_ident()), x * 2)[1], 21) == 42
        done = threading.Event()
        home.soon(lambda: (ran_on.append(threading.get_ident()), done.set()))
        assert done.wait(5)
        assert ran_on == [thread.ident, thread.ident]
        try:
            home.call(lambda: 1 / 0)
        except ZeroDivisionError:
            pass
        else:
            raise AssertionError('the exception did not come back to the caller')
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_subscribe_once_subscribes_an_owner_once():
    hub = events.Hub()
    seen: list[str] = []
    for _ in range(3):
        hub.subscribe_once('owner', lambda e: seen.append(e.route), events.RouteAdded)
    hub.subscribe_once('other', lambda e: seen.append('other ' + e.route), events.RouteAdded)
    hub.emit(events.RouteAdded('/a'))
    hub.emit(events.RouteRemoved('/a'))
    assert seen == ['/a', 'other /a']
