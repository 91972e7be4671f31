"""Protocol round trip without a browser: a raw WebSocket client sends ``@`` frames and waits for each ``d`` reply.

    python benchmarks/ws_roundtrip.py [--n 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import percentile, row, summary
from stacks import STACKS
from websockets.sync.client import connect


def measure(stack, n: int, warmup: int = 50) -> list[float]:
    with connect(stack.ws_url, origin=stack.origin, additional_headers=stack.ws_headers, close_timeout=0.1) as ws:
        ws.recv()  # client id
        ws.send(f'+ {stack.page_path} ')
        ws.recv()  # boot ops
        times = []
        for i in range(warmup + n):
            t0 = time.perf_counter()
            ws.send(f'@ {stack.page_path} {{"go":true,"__wave_submission_name__":"go"}}')
            while '"d"' not in ws.recv():
                pass
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
    return times


def run(quick: bool = False) -> tuple[list[dict], dict]:
    n = 300 if quick else 2000
    results = {}
    for name, cls in STACKS.items():
        with cls() as stack:
            results[name] = summary(measure(stack, n))
    return [row('ws', f'@ -> d round trip ({n} queries)', 'ms', results)], {'ws': results}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=2000)
    args = ap.parse_args()
    res = {}
    for name, cls in STACKS.items():
        stack = cls()
        try:
            xs = measure(stack, args.n)
        finally:
            stack.stop()
        res[name] = (statistics.median(xs), percentile(xs, 90), percentile(xs, 99))
    print(f'WebSocket @ -> d round trip, {args.n} queries each (ms)')
    print(f'{"stack":<14}{"median":>8}{"p90":>8}{"p99":>8}')
    for name, r in res.items():
        print(f'{name:<14}{r[0]:>8.3f}{r[1]:>8.3f}{r[2]:>8.3f}')
    a, b = res['wave_jupyter'], res['waved']
    print(f'{"ratio":<14}{a[0] / b[0]:>8.2f}{a[1] / b[1]:>8.2f}{a[2] / b[2]:>8.2f}   (wave_jupyter / waved)')


if __name__ == '__main__':
    main()
