"""An app file on the real Wave server, as ``wave run`` starts it: ``waved`` (shipped in the ``h2o-wave`` wheel) and
the app under uvicorn, both on free loopback ports. For checking that what a notebook built runs in production.

    with Waved('app.py', checkpoint_dir='state') as wave:
        print(wave.url)          # http://127.0.0.1:P/<secret>/demo

Ready means the app's port accepts: h2o_wave registers the app with waved during uvicorn's startup, before uvicorn
listens. No query is sent to find out (a query would run the handler and change the app's state).

**Who can reach it.** waved has no authentication for browsers (only OIDC, for deployments): whoever can connect to
its port can open the app and run its handler. On a shared machine that is every local user, so this keeps the
window small and the door narrow, as far as waved allows:

* waved and the app listen on ``127.0.0.1`` only, and the ``[::1]`` twin of waved's port is held by this object, so
  no other user can stand where a browser sent to ``localhost`` would go;
* waved's base URL is a random secret (``/<secret>/``, like wave_jupyter's own), given in the environment, never on
  a command line (which ``/proc`` shows every user): waved mounts everything under it, so without it there is nothing
  to open;
* the hub's access key pair (which lets a process register apps and write pages) is random too, not waved's
  well-known default; the app's own key pair is h2o_wave's random one;
* its temporary folder (waved's data, the app's log) is removed on :meth:`~Waved.stop`.

What it cannot give is wave_jupyter's door-side checks (body limits before the secret, connection caps): run it for
a test or a notebook cell, and stop it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .assets import www_dir
from .listener import bind_loopbacks
from .security import new_secret
from .tempdirs import TempDir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _port_with_its_twin() -> tuple[int, list[socket.socket]]:
    """A free port for waved, with its ``[::1]`` twin held (listening, never accepting) for as long as waved runs:
    waved binds ``127.0.0.1`` only."""
    sockets = bind_loopbacks(0)
    port = sockets[0].getsockname()[1]
    v4 = [s for s in sockets if s.family == socket.AF_INET]
    for s in v4:
        s.close()  # for waved to take
    return port, [s for s in sockets if s not in v4]


def waved_binary() -> Path:
    """The ``waved`` executable the ``h2o-wave`` wheel installs beside Python."""
    for base in (sys.prefix, sys.exec_prefix, os.path.dirname(sys.executable)):
        for candidate in (Path(base) / 'waved', Path(base) / 'bin' / 'waved'):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError('waved is not installed (it ships in the h2o-wave wheel)')


def route_of(app: Path) -> str:
    """The route of a file's ``@app('/route')``."""
    found = re.search(r"@app\(\s*['\"]([^'\"]+)['\"]", app.read_text(encoding='utf-8'))
    if not found:
        raise ValueError(f'{app} has no @app(...) route')
    return found.group(1)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f'{what} did not happen in {timeout:.0f} s')
        time.sleep(0.05)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False




def stop_process(p: subprocess.Popen) -> None:
    """Terminate ``p`` and wait for it (killed after 10 s)."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


class Waved:
    """``waved`` and one app file under uvicorn (``module:main``), like ``wave run``; a context manager."""

    def __init__(self, app: str | Path, *, checkpoint_dir: str | Path | None = None, env: dict | None = None,
                 timeout: float = 30) -> None:
        self.app = Path(app).resolve()
        self.route = route_of(self.app)
        self.procs: list[subprocess.Popen] = []
        self._scratch = TempDir(prefix='wave_jupyter_waved_')
        self.data = str(self._scratch.path)
        self.log = Path(self.data) / 'app.log'
        self._twin: list = []
        self.port, self._twin = _port_with_its_twin()
        self.app_port = free_port()
        #: waved's base URL: everything it serves is under this secret path.
        self.base = f'/{new_secret()}/'
        #: What a tab of the app sends as its route (its location's path: the base included).
        self.page_path = f'{self.base}{self.route.lstrip("/")}'
        self.origin = f'http://127.0.0.1:{self.port}'
        self.url = f'{self.origin}{self.page_path}'
        self.ws_path = f'{self.base}_s/'
        self.ws_url = f'ws://127.0.0.1:{self.port}{self.ws_path}'
        keys = {'H2O_WAVE_ACCESS_KEY_ID': new_secret(), 'H2O_WAVE_ACCESS_KEY_SECRET': new_secret()}
        self.env = {**os.environ, **(env or {}), **keys, 'H2O_WAVE_BASE_URL': self.base,
                    'H2O_WAVE_ADDRESS': self.origin, 'H2O_WAVE_APP_ADDRESS': f'http://127.0.0.1:{self.app_port}',
                    'H2O_WAVE_NO_AUTOSTART': 'true'}
        if checkpoint_dir is not None:
            self.env['H2O_WAVE_CHECKPOINT_DIR'] = str(checkpoint_dir)
        try:
            waved_env = {**self.env, 'H2O_WAVE_LISTEN': f'127.0.0.1:{self.port}', 'H2O_WAVE_WEB_DIR': str(www_dir()),
                         'H2O_WAVE_DATA_DIR': self.data, 'H2O_WAVE_NO_LOG': 'true'}
            self.procs.append(subprocess.Popen([str(waved_binary())], cwd=self.data, env=waved_env,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            _wait(lambda: self._waved_answers() or self.procs[0].poll() is not None, timeout, 'waved answering')
            if self.procs[0].poll() is not None:
                raise RuntimeError(f'waved exited at start (port {self.port} taken?)')
            self.procs.append(self._start_app())
            _wait(lambda: _accepts(self.app_port) or self.procs[1].poll() is not None, timeout,
                  f'{self.app.name} listening')
            if self.procs[1].poll() is not None:
                raise RuntimeError(f'{self.app.name} exited under uvicorn:\n{self.app_log()}')
        except BaseException:
            self.stop()
            raise

    def _waved_answers(self) -> bool:
        """waved serves its page under the secret base: only waved knows it, so no one else at the port passes."""
        try:
            with urllib.request.urlopen(self.origin + self.base, timeout=1) as r:
                return f'data-base-url="{self.base}"'.encode() in r.read()
        except OSError:
            return False

    def text(self, timeout: float = 15) -> str:
        """Every string of the page a new tab gets (a visit: the handler runs), as :meth:`VirtualTab.text` gives it.

        A look at what production serves without a browser; the caller's thread may run a loop (a notebook cell).
        """
        from .pages import StoredPage, strings

        async def visit() -> StoredPage:
            from tornado.httpclient import HTTPRequest
            from tornado.websocket import websocket_connect
            ws = await asyncio.wait_for(
                websocket_connect(HTTPRequest(self.ws_url, headers={'Origin': self.origin})), timeout)
            page = StoredPage()
            try:
                await ws.read_message()  # the client id
                await ws.write_message(f'+ {self.page_path} ')
                while not page.to_dict():
                    msg = await asyncio.wait_for(ws.read_message(), timeout)
                    if msg is None:
                        raise ConnectionError('waved closed the socket')
                    for line in msg.split('\n'):
                        doc = json.loads(line)
                        if 'd' in doc:
                            page.apply(doc['d'])
                        elif 'p' in doc:
                            page = StoredPage.from_dump(doc['p'])
                return page
            finally:
                ws.close()

        with ThreadPoolExecutor(1) as pool:
            page = pool.submit(asyncio.run, visit()).result()
        return '\n'.join(strings(page.to_dict()))

    def _start_app(self) -> subprocess.Popen:
        with open(self.log, 'ab') as log:  # the app keeps its own handle
            return subprocess.Popen([sys.executable, '-m', 'uvicorn', f'{self.app.stem}:main', '--host', '127.0.0.1',
                                     '--port', str(self.app_port), '--log-level', 'warning'], cwd=self.app.parent,
                                    env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def app_log(self) -> str:
        """What the app printed (uvicorn's warnings and the app's tracebacks)."""
        return self.log.read_text(errors='replace') if self.log.exists() else ''

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        """Stop the app (it saves its checkpoint, as on any shutdown) and then waved; remove the temporary folder."""
        for p in reversed(self.procs):
            stop_process(p)
        self.procs = []
        for sock in self._twin:
            sock.close()
        self._twin = []
        self._scratch.remove()

    def __enter__(self) -> Waved:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ['Waved', 'waved_binary']
