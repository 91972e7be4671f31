"""Handler output in a notebook: ``print`` goes to the app's log, errors to the cell that started the app.

A kernel has one ``sys.stdout`` for everything; a handler's task carries its app in a context variable
(``app.current_app``), so a thin stream in front of the kernel's can send that task's writes to the app's log and let
every other write through untouched.
"""

from __future__ import annotations

import io
import sys
from typing import Any

import ipywidgets

from ..app import App, current_app


class AppAwareStream(io.TextIOBase):
    """``sys.stdout`` as seen by handlers: their writes land in their app's log; all others pass through."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        app = current_app.get()
        if app is None:
            return self._inner.write(text)
        app.write_output(text)
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def route_prints() -> None:
    """Put the app-aware stream in front of the kernel's stdout (once)."""
    if not isinstance(sys.stdout, AppAwareStream):
        sys.stdout = AppAwareStream(sys.stdout)


class Console:
    """The errors of one app, shown in the output of the cell that started (or last swapped) it."""

    def __init__(self) -> None:
        self.widget = ipywidgets.Output(layout={'max_height': '300px', 'overflow': 'auto'})

    def error(self, app: App, tb: str) -> None:
        self.widget.append_stderr(f'Error in the {app.route} handler:\n{tb}')

    def clear(self) -> None:
        self.widget.clear_output()
