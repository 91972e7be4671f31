"""Fan-out: a broadcast app with 1, 50, 200, 500, 1000 connected WebSocket clients; one page update; time until every
client has it, and how many updates per second go out with a bounded number in flight.

Client 0 sends ``@ /bcast {"tick": n}``; the handler sets a card to ``#n#`` and saves; the clock stops when the last
of the N sockets has received the frame holding ``#n#`` (all sockets live in this process, see :mod:`wsraw`).
*Sustained* rate: ``WINDOW`` closed loops, each sending its next update as soon as its previous one reached every
client, for a few seconds; so at most ``WINDOW`` updates are ever queued (no backlog can build up) and the rate is
what the server keeps up with. CPU seconds of the server processes and of this process are taken over that phase.

    python benchmarks/fanout.py [--quick]
    python benchmarks/fanout.py --load '{"port": …, "route": …, "headers": {…}}' --clients 200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import sys
import time
from pathlib import Path

import psutil
import wsraw
from common import row, summary, value
from stacks import STACKS

APP = Path(__file__).resolve().parent / 'bcast_app.py'
TICK = re.compile(rb'#(\d+)#')
WINDOW = 8
TIMEOUT = 10.0  # an update not everywhere after this long counts as lost


class Audience:
    """N sockets on the broadcast route; knows when every one of them has seen update n."""

    def __init__(self, port: int, route: str, headers: dict[str, str], ws_path: str = '/_s/') -> None:
        self.port, self.route, self.headers, self.ws_path = port, route, headers, ws_path
        self.clients: list[wsraw.WSClient] = []
        self.seen: dict[int, int] = {}
        self.waiting: dict[int, asyncio.Future] = {}
        self.ticks = itertools.count(1)
        self.lost = 0

    def on_message(self, msg: bytes) -> None:
        for m in TICK.findall(msg):
            n = int(m)
            count = self.seen.get(n, 0) + 1
            if count < len(self.clients):
                self.seen[n] = count
                continue
            self.seen.pop(n, None)
            fut = self.waiting.pop(n, None)
            if fut is not None and not fut.done():
                fut.set_result(time.perf_counter())

    async def grow(self, n: int, batch: int = 50) -> None:
        """Connect more sockets until there are ``n``; each says ``+ route`` like a tab that opens the page."""
        async def one() -> None:
            for attempt in range(3):  # a loaded 2-core machine sometimes drops a handshake: try again
                try:
                    c = await wsraw.connect('127.0.0.1', self.port, self.ws_path, self.headers, self.on_message)
                    break
                except (ConnectionError, asyncio.TimeoutError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.2)
            c.send(f'+ {self.route} ')
            self.clients.append(c)
        while len(self.clients) < n:
            await asyncio.gather(*(one() for _ in range(min(batch, n - len(self.clients)))))
        for _ in range(50):  # until every socket is subscribed: one update reaches all
            if await self.update() is not None:
                return
        raise RuntimeError(f'{n} clients never all received an update')

    async def update(self) -> float | None:
        """One update from client 0; ms until every client has it (None: lost)."""
        n = next(self.ticks)
        fut = self.waiting[n] = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        self.clients[0].send(f'@ {self.route} {{"tick":{n}}}')
        try:
            return (await asyncio.wait_for(fut, TIMEOUT) - t0) * 1000
        except asyncio.TimeoutError:
            self.waiting.pop(n, None)
            self.seen.pop(n, None)
            self.lost += 1
            return None

    async def latencies(self, count: int, warmup: int = 5) -> list[float]:
        xs = [await self.update() for _ in range(warmup + count)][warmup:]
        return [x for x in xs if x is not None]

    async def sustained(self, seconds: float, window: int = WINDOW) -> tuple[float, list[float]]:
        """``window`` closed loops for ``seconds``: updates/s delivered to everyone, and their latencies."""
        xs: list[float] = []
        t0 = time.perf_counter()
        end = t0 + seconds

        async def lane() -> None:
            while time.perf_counter() < end:
                ms = await self.update()
                if ms is not None:
                    xs.append(ms)

        await asyncio.gather(*(lane() for _ in range(window)))
        return len(xs) / (time.perf_counter() - t0), xs

    def close(self) -> None:
        for c in self.clients:
            c.close()


def cpu_self() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


async def measure(stack, levels: list[int], count: int, seconds: float) -> dict[int, dict]:
    aud = Audience(stack.port, stack.page_path, stack.raw_headers, stack.ws_path)
    out = {}
    try:
        for n in levels:
            await aud.grow(n)
            lat = await aud.latencies(count)
            s0, c0, t0 = stack.cpu(), cpu_self(), time.perf_counter()
            rate, under = await aud.sustained(seconds)
            wall = time.perf_counter() - t0
            out[n] = {'latency': summary(lat), 'rate': rate, 'latency_sustained': summary(under),
                      'server_cpu_pct': 100 * (stack.cpu() - s0) / wall,
                      'client_cpu_pct': 100 * (cpu_self() - c0) / wall, 'lost': aud.lost, 'rss': stack.rss()}
    finally:
        aud.close()
    return out


def run(quick: bool = False) -> tuple[list[dict], dict]:
    levels = [1, 50, 200] if quick else [1, 50, 200, 500, 1000]
    count, seconds = (20, 1.5) if quick else (100, 4.0)
    res = {}
    for name, cls in STACKS.items():
        with cls(APP) as stack:
            res[name] = asyncio.run(measure(stack, levels, count, seconds))
    rows = []
    for n in levels:
        rows.append(row('fanout', f'update -> all {n} clients', 'ms',
                        {k: v[n]['latency'] for k, v in res.items()}))
    for n in levels:
        rows.append(row('fanout', f'sustained updates/s, {n} clients', '1/s',
                        {k: value(v[n]['rate']) for k, v in res.items()}, lower_is_better=False))
    top = levels[-1]
    rows.append(row('fanout', f'server CPU at sustained rate, {top} cl.', '%',
                    {k: value(v[top]['server_cpu_pct']) for k, v in res.items()}))
    rows.append(row('fanout', f'bench client CPU at that rate, {top} cl.', '%',
                    {k: value(v[top]['client_cpu_pct']) for k, v in res.items()}))
    return rows, {'fanout': {k: {str(n): d for n, d in v.items()} for k, v in res.items()}}


async def load(target: dict, clients: int, seconds: float, window: int = WINDOW) -> dict:
    """Fan-out load on a server started elsewhere (the kernel scenario): connect, say ``ready``, run, report."""
    aud = Audience(target['port'], target['route'], target['headers'], target.get('ws_path', '/_s/'))
    try:
        await aud.grow(clients)
        print('ready', flush=True)
        rate, xs = await aud.sustained(seconds, window)
        return {'clients': clients, 'rate': rate, 'latency': summary(xs), 'lost': aud.lost}
    finally:
        aud.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--load', help='JSON {"port", "route", "headers"} of a running server: run load only')
    ap.add_argument('--clients', type=int, default=200)
    ap.add_argument('--seconds', type=float, default=20)
    args = ap.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(load(json.loads(args.load), args.clients, args.seconds))), flush=True)
        return
    from common import table
    rows, details = run(args.quick)
    print(table(rows))
    json.dump(details, sys.stderr, indent=1)


if __name__ == '__main__':
    main()
