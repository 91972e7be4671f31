"""Cost: start-up time to first paint, resident memory idle and per 100 connected clients (all of a stack's
processes added together: waved + the uvicorn app, or the one wave_jupyter process).

*First paint*: from spawning the stack to the app's card being in the DOM of a headless Chromium tab (launched
before, so browser start-up is not counted) plus one animation frame. Under waved the stack counts as started once
the app has registered and answers (see ``stacks.Waved``). *Memory*: RSS with that one tab open (idle), then with
500 more raw WebSocket clients on the same unicast app, each with its own page, state and boot reply.

    python benchmarks/cost.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import wsraw
from click_latency import CHROMIUM_ARGS
from common import row, summary, table, value
from playwright.sync_api import sync_playwright
from stacks import STACKS

MB = 1 << 20


async def connect_clients(stack, n: int, batch: int = 50) -> list[wsraw.WSClient]:
    """``n`` tabs' worth of sockets on the stack's (unicast) route; returns once each got its boot ``d``."""
    socks = []
    for start in range(0, n, batch):
        booted: list[asyncio.Future] = []

        async def one(booted: list = booted) -> None:
            fut = asyncio.get_running_loop().create_future()
            booted.append(fut)
            s = await wsraw.connect('127.0.0.1', stack.port, stack.ws_path, stack.raw_headers,
                                    lambda m, f=fut: f.done() or b'"d"' not in m or f.set_result(None))
            s.send(f'+ {stack.page_path} ')
            socks.append(s)
        await asyncio.gather(*(one() for _ in range(min(batch, n - start))))
        done, _ = await asyncio.wait(booted, timeout=30)
        if len(done) < len(booted):  # seen under heavy load with waved: boots lost; measure what we have
            print(f'cost: {len(booted) - len(done)} of {len(booted)} clients got no page in 30 s', file=sys.stderr)
    return socks


def measure(browser, cls, reps: int, clients: int) -> dict:
    paints, idle, per100 = [], [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        with cls() as stack:
            page = browser.new_page()
            page.goto(stack.url)
            page.wait_for_selector('[data-test=out]')
            page.evaluate('new Promise(r => requestAnimationFrame(() => r()))')
            paints.append((time.perf_counter() - t0) * 1000)
            time.sleep(1)
            rss0 = stack.rss()

            async def load() -> int:
                socks = await connect_clients(stack, clients)
                await asyncio.sleep(1)
                rss = stack.rss()
                for s in socks:
                    s.close()
                return rss
            with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
                rss1 = pool.submit(asyncio.run, load()).result()
            page.close()
        idle.append(rss0 / MB)
        per100.append((rss1 - rss0) / MB * 100 / clients)
    return {'first_paint_ms': summary(paints), 'rss_idle_mb': summary(idle), 'rss_per_100_clients_mb': summary(per100)}


def run(quick: bool = False) -> tuple[list[dict], dict]:
    reps, clients = (1, 100) if quick else (3, 500)
    res = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
        try:
            for name, cls in STACKS.items():
                res[name] = measure(browser, cls, reps, clients)
        finally:
            browser.close()
    rows = [row('cost', 'start-up to first paint', 'ms', {k: v['first_paint_ms'] for k, v in res.items()}),
            row('cost', 'RSS idle (1 tab)', 'MB', {k: value(v['rss_idle_mb']['median']) for k, v in res.items()}),
            row('cost', f'RSS per 100 clients (from {clients})', 'MB',
                {k: value(v['rss_per_100_clients_mb']['median']) for k, v in res.items()})]
    return rows, {'cost': res}


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    rows, _ = run(ap.parse_args().quick)
    print(table(rows))
