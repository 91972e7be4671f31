"""Start the two stacks side by side on free loopback ports: wave_jupyter (one process) and waved + uvicorn app.

Both serve the same h2o_wave-style file (``latency_app.py`` by default, route taken from its ``@app``). A stack is
ready when a WebSocket query to its route gets an answer; for waved that means the app registered *and* listens.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import psutil

from wave_jupyter import production
from wave_jupyter.production import free_port, route_of

HERE = Path(__file__).resolve().parent
APP = HERE / 'latency_app.py'


def wait_tcp(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def answers(stack: Stack, timeout: float = 2) -> bool:
    """A query to the route gets ``c`` (broadcast/multicast) or ``d`` back: an app serves it. Without an app, waved
    answers ``+`` with ``e: not_found`` and drops the ``@``."""
    from websockets.sync.client import connect
    try:
        with connect(stack.ws_url, origin=stack.origin, additional_headers=stack.ws_headers,
                     open_timeout=timeout, close_timeout=0.1) as ws:  # waved is slow to close
            ws.recv(timeout=timeout)  # client id
            ws.send(f'+ {stack.page_path} ')
            ws.send(f'@ {stack.page_path} {{}}')
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
                if '"d"' in msg or '"c"' in msg:
                    return True
    except Exception:  # noqa: BLE001 - not up yet
        pass
    return False


class Stack:
    name = ''
    url = ''
    ws_url = ''
    ws_headers: ClassVar[dict] = {}
    ws_path = '/_s/'
    port = 0
    route = '/demo'
    #: The route as a tab sends it (its location's path; waved's has the base URL in front).
    page_path = '/demo'
    procs: list[subprocess.Popen]

    @property
    def raw_headers(self) -> dict[str, str]:
        """Headers for :mod:`wsraw`: the browser's Origin."""
        return {'Origin': self.origin, **self.ws_headers}

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def rss(self) -> int:
        """Resident memory of all the stack's processes, bytes."""
        return sum(psutil.Process(pid).memory_info().rss for pid in self.pids())

    def cpu(self) -> float:
        """CPU seconds (user + system) used so far by all the stack's processes."""
        return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in self.pids())

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for p in reversed(self.procs):
            production.stop_process(p)


class WaveJupyter(Stack):
    name = 'wave_jupyter'

    def __init__(self, app: Path = APP) -> None:
        port = self.port = free_port()
        self.route = self.page_path = route_of(app)
        launcher = ['-m', 'wave_jupyter']
        self.procs = [subprocess.Popen([sys.executable, *launcher, 'run', str(app), '--port', str(port)],
                                       cwd=app.parent, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)]
        line = ''
        while 'http://127.0.0.1:' not in line:
            line = self.procs[0].stdout.readline()
            if not line and self.procs[0].poll() is not None:
                raise RuntimeError('wave_jupyter did not start')
        self.procs[0].stdout.close()  # nothing else is read: never let a full pipe block the server
        self.url = line[line.index('http://'):].split()[0]
        secret = self.url.split('/')[3]  # http://127.0.0.1:P/<secret>/route
        self.ws_path = f'/{secret}/_s/'
        self.ws_url = f'ws://127.0.0.1:{port}{self.ws_path}'
        self.origin = f'http://127.0.0.1:{port}'


class Waved(Stack, production.Waved):
    """``wave_jupyter.production.Waved`` (waved + the app under uvicorn, ready once a query is answered)."""

    name = 'waved'
    ws_headers: ClassVar[dict] = {}

    def __init__(self, app: Path = APP) -> None:
        production.Waved.__init__(self, app)
        deadline = time.monotonic() + 15
        while not answers(self):  # the benchmarks start measuring at once: an answered query first
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('waved + app did not answer')
            time.sleep(0.05)


STACKS = {'wave_jupyter': WaveJupyter, 'waved': Waved}
