"""How apps show up in a notebook: the live view (a widget per view, so a Wave client per view), with a static
``text/html`` fallback for viewers without a kernel, and the app's error console in the cell that started it."""

from __future__ import annotations

import html
import weakref
from typing import Any

import ipywidgets

from ..app import App
from ..server import server_of
from .output import Console
from .widget import WaveView

#: The open views of each app (closed views are dropped as new ones come; an app that is gone takes its list along).
_views: weakref.WeakKeyDictionary[App, list[WaveView]] = weakref.WeakKeyDictionary()


def view(app: App, height: int | None = None) -> WaveView:
    """A new live view of ``app`` (a new Wave client), ``height`` pixels tall (the app's height when None, as tall as
    its container when 0)."""
    v = WaveView(app, height=app.height if height is None else height)
    _views[app] = [*views_of(app), v]
    return v


def views_of(app: App) -> list[WaveView]:
    return [v for v in _views.get(app, []) if v.comm is not None]


def mark_stopped(app: App) -> None:
    for v in views_of(app):
        v.status = 'stopped'


def fallback_html(app: App) -> str:
    """What a static viewer (nbviewer, GitHub, an exported notebook) shows: no secret, just where the app was."""
    server = server_of(app)
    where = f'{server.host}:{server.port}' if server else 'no port'
    return (f'<div class="wave-jupyter-fallback"><b>H2O Wave app <code>{html.escape(app.route)}</code></b> '
            f'({html.escape(app.mode)}), served by the kernel on <code>{html.escape(where)}</code>. '
            f'The live view needs the running kernel.</div>')


def mimebundle(app: App, console: Console | None = None, height: int | None = None) -> dict[str, Any]:
    """The bundle for ``app`` as a cell's result: the live view (and the console, in the starting cell)."""
    v = view(app, height)
    widget = ipywidgets.VBox([console.widget, v]) if console is not None else v
    bundle = widget._repr_mimebundle_()
    bundle = dict(bundle[0] if isinstance(bundle, tuple) else bundle)
    bundle['text/html'] = fallback_html(app)
    bundle['text/plain'] = repr(app)
    return bundle
