"""Start the two stacks side by side on free loopback ports: wave_jupyter (one process) and waved + uvicorn app.

Both serve the same h2o_wave-style file (``latency_app.py`` by default, route taken from its ``@app``). A stack is
ready when a WebSocket query to its route gets an answer; for waved that means the app registered *and* listens.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
APP = HERE / 'latency_app.py'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def route_of(app: Path) -> str:
    return re.search(r"@app\('([^']+)'", app.read_text()).group(1)


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
            ws.send(f'+ {stack.route} ')
            ws.send(f'@ {stack.route} {{}}')
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
    ws_headers: dict = {}
    ws_path = '/_s/'
    port = 0
    route = '/demo'
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
            self._stop(p)

    @staticmethod
    def _stop(p: subprocess.Popen) -> None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


class WaveJupyter(Stack):
    name = 'wave_jupyter'

    def __init__(self, app: Path = APP) -> None:
        port = self.port = free_port()
        self.route = route_of(app)
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


def waved_binary() -> Path:
    for base in (sys.prefix, sys.exec_prefix):
        if (Path(base) / 'waved').exists():
            return Path(base) / 'waved'
    raise FileNotFoundError('waved is not installed (it ships in the h2o-wave wheel)')


class Waved(Stack):
    name = 'waved'

    def __init__(self, app: Path = APP) -> None:
        from wave_jupyter.assets import www_dir
        port = self.port = free_port()
        self.app, self.app_port, self.route = app, free_port(), route_of(app)
        data = tempfile.mkdtemp(prefix='waved_bench_')
        waved = subprocess.Popen([str(waved_binary()), '-listen', f'127.0.0.1:{port}', '-web-dir', str(www_dir()),
                                  '-data-dir', data, '-no-log'], cwd=data, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        self.procs = [waved]
        self.url = f'http://127.0.0.1:{port}{self.route}'
        self.ws_url = f'ws://127.0.0.1:{port}/_s/'
        self.ws_headers = {}
        self.origin = f'http://127.0.0.1:{port}'
        try:
            wait_http(f'http://127.0.0.1:{port}/')
            for _ in range(3):
                self.procs[1:] = [self._start_app()]
                if self._wait_registered():
                    return
                self._stop(self.procs.pop())  # a query raced the registration: waved dropped the app; again
            raise RuntimeError('waved + app did not come up')
        except BaseException:
            self.stop()
            raise

    def _start_app(self) -> subprocess.Popen:
        env = {**os.environ, 'H2O_WAVE_ADDRESS': f'http://127.0.0.1:{self.port}',
               'H2O_WAVE_APP_ADDRESS': f'http://127.0.0.1:{self.app_port}', 'H2O_WAVE_NO_AUTOSTART': 'true'}
        return subprocess.Popen([sys.executable, '-m', 'uvicorn', f'{self.app.stem}:main', '--host', '127.0.0.1',
                                 '--port', str(self.app_port), '--log-level', 'warning'], cwd=self.app.parent,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _wait_registered(self, timeout: float = 15) -> bool:
        """The app registers with waved *before* uvicorn listens; a query in between makes waved drop the app as
        unreachable. So: wait until the app's port accepts, then until a query is answered."""
        wait_tcp(self.app_port, timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers(self):
                return True
            time.sleep(0.05)
        return False


STACKS = {'wave_jupyter': WaveJupyter, 'waved': Waved}
