"""A real Jupyter server (JupyterLab / Notebook 7, jupyter-server-proxy) on a free loopback port, for browser tests."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from wave_jupyter.production import stop_process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class JupyterServer:
    def __init__(self, root: Path, app: str = 'lab', base_url: str = '/', extra_args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base_url = base_url
        self.root = root
        self.log = root / f'jupyter-{app}.log'
        env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(root / '.jupyter'), 'JUPYTER_RUNTIME_DIR': str(root / '.rt')}
        with open(self.log, 'w') as log:  # the server keeps its own handle
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'jupyter', app, '--no-browser', f'--port={self.port}',
                 '--ServerApp.ip=127.0.0.1', f'--IdentityProvider.token={self.token}',
                 f'--ServerApp.base_url={base_url}', f'--ServerApp.root_dir={root}', '--ServerApp.port_retries=0',
                 '--LabApp.news_url=', '--ServerApp.allow_root=True', *extra_args],
                cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait()

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}{self.base_url}'

    def _wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f'{self.url}api/status?token={self.token}', timeout=2) as r:
                    json.load(r)
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter did not start: {self.log_text()[-2000:]}") from None
                time.sleep(0.2)

    def log_text(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        stop_process(self.proc)
