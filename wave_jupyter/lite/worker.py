"""The worker host: a lite site's Python, inside Pyodide in the page's Web Worker.

It is the comm host with a Web Worker's ``postMessage`` for a comm: the process's runtime on Pyodide's event loop,
the app file run as ``wave run`` would run it (its ``@app`` mounts here), and a :class:`~..commlink.CommLink` that
speaks to the page's relay (the same protocol a notebook view's comm carries). The page answers the UI's ``boot``
and ``assets`` itself, from the site's files; everything else (sockets, ``_f/`` uploads and downloads) comes here.

``start`` is called from ``worker.js`` with a ``post(json_text, buffers)`` function; the worker calls
``host.receive(json_text, buffers)`` for each message of the page.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from ..app import App, mount
from ..commlink import CommLink
from ..files import exec_file
from ..process import PROCESS

Post = Callable[[str, Any], None]


class WorkerHost:
    def __init__(self, app_file: str, route: str | None, post: Post) -> None:
        self.runtime = PROCESS.runtime()
        self._post = post
        exec_file(app_file, mount=lambda *spec: mount(self.runtime, *spec), runtime=self.runtime)
        apps = {r: a for r, a in self.runtime.apps.items() if isinstance(a, App)}
        if not apps:
            raise RuntimeError(f'{os.path.basename(app_file)} starts no app (@app(...) or listen(...))')
        self.route = route if route in apps else next(iter(apps))
        self.link = CommLink(self.runtime, self.route, self._send)

    def receive(self, text: str, buffers: Any = ()) -> None:
        message = json.loads(text)
        self.link.receive(message, [_bytes(b) for b in buffers or []])

    def _send(self, message: dict, buffers: list[bytes]) -> None:
        from pyodide.ffi import to_js  # only here: this module runs in Pyodide
        self._post(json.dumps(message), to_js([memoryview(b) for b in buffers]))


def _bytes(buffer: Any) -> bytes:
    """A buffer from JavaScript (a ``JsProxy`` of a typed array) or from Python."""
    to_bytes = getattr(buffer, 'to_bytes', None)
    return to_bytes() if to_bytes is not None else bytes(buffer)


def start(app_file: str, route: str | None, post: Post) -> WorkerHost:
    return WorkerHost(app_file, route or None, post)


def preload(modules: Any = ()) -> None:
    """Import what the app imports, before the interpreter's snapshot is made (a later visit restores them
    imported); a module that fails here is the app's to report when it runs."""
    import importlib
    for name in list(modules or []):
        try:
            importlib.import_module(str(name))
        except Exception:  # noqa: BLE001 - the app reports it at its own import
            pass
