"""Start the two stacks side by side on free loopback ports: wave_jupyter (one process) and waved + uvicorn app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

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


class Stack:
    name = ''
    url = ''
    ws_url = ''
    ws_headers: dict = {}
    procs: list[subprocess.Popen]

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


class WaveJupyter(Stack):
    name = 'wave_jupyter'

    def __init__(self, app: Path = APP) -> None:
        port = free_port()
        self.procs = [subprocess.Popen([sys.executable, '-m', 'wave_jupyter', 'run', str(app), '--port', str(port)],
                                       cwd=app.parent, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)]
        line = ''
        while 'http://127.0.0.1:' not in line:
            line = self.procs[0].stdout.readline()
            if not line and self.procs[0].poll() is not None:
                raise RuntimeError('wave_jupyter did not start')
        self.url = line[line.index('http://'):].split()[0]
        secret = self.url.split('wave_token=')[1]
        self.ws_url = f'ws://127.0.0.1:{port}/_s/'
        self.ws_headers = {'Cookie': f'wave_jupyter_{port}={secret}'}
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
        port, app_port = free_port(), free_port()
        data = tempfile.mkdtemp(prefix='waved_bench_')
        waved = subprocess.Popen([str(waved_binary()), '-listen', f'127.0.0.1:{port}', '-web-dir', str(www_dir()),
                                  '-data-dir', data, '-no-log'], cwd=data, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        wait_http(f'http://127.0.0.1:{port}/')
        env = {**os.environ, 'H2O_WAVE_ADDRESS': f'http://127.0.0.1:{port}',
               'H2O_WAVE_APP_ADDRESS': f'http://127.0.0.1:{app_port}', 'H2O_WAVE_NO_AUTOSTART': 'true'}
        uvicorn = subprocess.Popen([sys.executable, '-m', 'uvicorn', f'{app.stem}:main', '--port', str(app_port),
                                    '--log-level', 'warning'], cwd=app.parent, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs = [waved, uvicorn]
        self.url = f'http://127.0.0.1:{port}/demo'
        self.ws_url = f'ws://127.0.0.1:{port}/_s/'
        self.ws_headers = {}
        self.origin = f'http://127.0.0.1:{port}'
        self._wait_registered()

    def _wait_registered(self, timeout: float = 20) -> None:
        """The app is up when a boot query gets ops back."""
        from websockets.sync.client import connect
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with connect(self.ws_url, origin=self.origin, open_timeout=2) as ws:
                    ws.recv(timeout=2)
                    ws.send('+ /demo ')
                    if '"d"' in ws.recv(timeout=2):
                        return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        raise RuntimeError('waved + app did not come up')


STACKS = {'wave_jupyter': WaveJupyter, 'waved': Waved}
