"""Soak: N WebSocket clients send events to a wave_jupyter server for a while; nothing may be lost or drift.

    python scripts/soak.py [--clients 50] [--seconds 600] [--json soak.json]

Loopback only, bounded in time and count. The server runs as its own process (``python -m wave_jupyter run``) so its
memory is measured alone. Each client sends an event, waits for the app's answer, pauses ~50 ms, and repeats; at the
end the app reports how many events it handled per client, compared with the count sent.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


async def client(url: str, headers: dict, origin: str, deadline: float, max_events: int, lat: list) -> int:
    sent = 0
    async with connect(url, additional_headers=headers, origin=origin) as ws:
        await ws.recv()
        await ws.send('+ /soak ')
        await ws.recv()
        while time.monotonic() < deadline and sent < max_events:
            t0 = time.perf_counter()
            await ws.send(f'@ /soak {{"i":{sent}}}')
            sent += 1
            while f'"i={sent - 1}"' not in await ws.recv():
                pass
            lat.append((time.monotonic(), (time.perf_counter() - t0) * 1000))
            await asyncio.sleep(0.05 * random.uniform(0.5, 1.5))
    return sent


async def report(url: str, headers: dict, origin: str) -> tuple[dict, int]:
    async with connect(url, additional_headers=headers, origin=origin) as ws:
        await ws.recv()
        await ws.send('@ /soak {"report":true}')
        while True:
            msg = json.loads(await ws.recv())
            for op in msg.get('d', []):
                if op.get('k') == 'r':
                    return ast.literal_eval(op['d']['content']), 0


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--clients', type=int, default=50)
    ap.add_argument('--seconds', type=float, default=600)
    ap.add_argument('--json')
    args = ap.parse_args()
    proc = subprocess.Popen([sys.executable, '-m', 'wave_jupyter', 'run', str(HERE / 'soak_app.py'), '--port', '0'],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = ''
        while 'http://127.0.0.1:' not in line:
            line = proc.stdout.readline()
        page_url = line[line.index('http://'):].split()[0]
        port = int(page_url.split(':')[2].split('/')[0])
        secret = page_url.split('/')[3]  # http://127.0.0.1:P/<secret>/route
        url, origin = f'ws://127.0.0.1:{port}/{secret}/_s/', f'http://127.0.0.1:{port}'
        headers: dict[str, str] = {}
        start = time.monotonic()
        deadline = start + args.seconds
        lat: list = []
        memory = [(0.0, rss_mb(proc.pid))]

        async def sample() -> None:
            while time.monotonic() < deadline:
                await asyncio.sleep(min(10, max(0.1, deadline - time.monotonic())))
                memory.append((time.monotonic() - start, rss_mb(proc.pid)))

        max_events = int(args.seconds * 40)  # a bound on each client's loop, whatever the machine does
        sampler = asyncio.create_task(sample())
        sent = await asyncio.gather(*(client(url, headers, origin, deadline, max_events, lat)
                                      for _ in range(args.clients)))
        await sampler
        handled, _ = await report(url, headers, origin)
    finally:
        proc.terminate()
        proc.wait(10)
    total_sent, total_handled = sum(sent), sum(handled.values())
    first = [ms for t, ms in lat if t - start < args.seconds / 10]
    last = [ms for t, ms in lat if t - start > args.seconds * 0.9]
    result = {
        'clients': args.clients, 'seconds': args.seconds, 'events_sent': total_sent, 'events_handled': total_handled,
        'clients_reporting': len(handled), 'rss_mb_start': round(memory[1][1] if len(memory) > 1 else memory[0][1], 1),
        'rss_mb_end': round(memory[-1][1], 1), 'rss_mb_max': round(max(m for _, m in memory), 1),
        'latency_ms_median_first_10pct': round(statistics.median(first), 2),
        'latency_ms_median_last_10pct': round(statistics.median(last), 2),
        'latency_ms_p99_all': round(sorted(ms for _, ms in lat)[int(len(lat) * 0.99) - 1], 2),
    }
    for k, v in result.items():
        print(f'{k:32} {v}')
    ok = total_sent == total_handled and len(handled) == args.clients
    print('RESULT', 'OK: every event handled exactly once' if ok else 'LOST OR DUPLICATED EVENTS')
    if args.json:
        Path(args.json).write_text(json.dumps({**result, 'memory': memory}, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    asyncio.run(main())
