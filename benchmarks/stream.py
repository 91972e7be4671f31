"""Realtime stream: a plot card's cyclic buffer updated at 60 Hz for 30 s, watched by a few WebSocket clients.

Reported per stack: updates delivered (per client, of those sent), lag from each tick's scheduled time to its
arrival (median / p90 / p99 over all clients and ticks), and the CPU the server process(es) used, in % of one core.

    python benchmarks/stream.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from pathlib import Path

import wsraw
from common import row, summary, table, value
from stacks import STACKS

APP = Path(__file__).resolve().parent / 'stream_app.py'
ROW = re.compile(rb'"plot data -1","v":\[(\d+),\s*([0-9.e+-]+)\]')


async def measure(stack, hz: float, seconds: float, clients: int) -> dict:
    lags: list[float] = []
    got = [0] * clients

    def receiver(k: int):
        def on_message(msg: bytes) -> None:
            now = time.perf_counter()
            for _, due in ROW.findall(msg):
                got[k] += 1
                lags.append((now - float(due)) * 1000)
        return on_message

    socks = [await wsraw.connect('127.0.0.1', stack.port, stack.ws_path, stack.raw_headers, receiver(k))
             for k in range(clients)]
    for s in socks:
        s.send(f'+ {stack.page_path} ')
    await asyncio.sleep(0.5)
    ticks = int(hz * seconds)
    cpu0, t0 = stack.cpu(), time.perf_counter()
    socks[0].send(f'@ {stack.page_path} {{"start":true,"hz":{hz},"seconds":{seconds}}}')
    deadline = t0 + seconds + 10
    while min(got) < ticks and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    wall = time.perf_counter() - t0
    cpu = 100 * (stack.cpu() - cpu0) / wall
    for s in socks:
        s.close()
    return {'ticks': ticks, 'delivered_min': min(got), 'delivered_pct': 100 * sum(got) / (ticks * clients),
            'lag': summary(lags), 'server_cpu_pct': cpu, 'wall': wall}


def run(quick: bool = False, clients: int = 10) -> tuple[list[dict], dict]:
    hz, seconds = 60, (5 if quick else 30)
    res = {}
    for name, cls in STACKS.items():
        with cls(APP) as stack:
            res[name] = asyncio.run(measure(stack, hz, seconds, clients))
    label = f'{hz} Hz, {seconds} s, {clients} cl.'
    rows = [row('stream', f'lag, {label}', 'ms', {k: v['lag'] for k, v in res.items()}),
            row('stream', 'updates delivered (of sent)', '%', {k: value(v['delivered_pct']) for k, v in res.items()},
                lower_is_better=False),
            row('stream', 'server CPU while streaming', '%', {k: value(v['server_cpu_pct']) for k, v in res.items()})]
    return rows, {'stream': res}


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    args = ap.parse_args()
    rows, details = run(args.quick)
    print(table(rows))
    print(json.dumps(details, indent=1))
