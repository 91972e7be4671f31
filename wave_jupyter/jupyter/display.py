"""How apps show up in a notebook: the live view (a widget per view, so a Wave client per view), with a static
``text/html`` fallback for viewers without a kernel, and the app's error console in the cell that started it."""

from __future__ import annotations

import asyncio
import html
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets

from .. import events, urls
from ..app import App
from .output import Console
from .widget import WaveView

if TYPE_CHECKING:
    from ..runtime import Runtime

#: The open views of each app (closed views are dropped as new ones come; an app that is gone takes its list along).
_views: weakref.WeakKeyDictionary[App, list[WaveView]] = weakref.WeakKeyDictionary()


def _count_clients(event: events.ClientAttached | events.ClientLeft) -> None:
    """Every view of an app shows how many tabs it has."""
    client = event.client
    app = event.app if isinstance(event, events.ClientAttached) else None
    for a, views in list(_views.items()):
        if a is app or (app is None and a.route == client.route):
            count = len(a.tabs)
            for v in views:
                if v.comm is not None:
                    v.clients = count




def view(app: App, height: int | None = None, transport: str | None = None) -> WaveView:
    """A new live view of ``app`` (a new Wave client), ``height`` pixels tall (else the app's ``height``, else as tall
    as its page; 0: as tall as its container), on the rung ``transport`` names (else the app's)."""
    if height is None:
        height = app.height
    v = WaveView(app, height=-1 if height is None else height, transport=transport, clients=len(app.tabs))
    app.runtime.events.subscribe_once(_count_clients, _count_clients, events.ClientAttached, events.ClientLeft)
    _views[app] = [*views_of(app), v]
    return v


@dataclass
class Route:
    """A route of the kernel's server that no app of this kernel serves: a script's page (``site['/x']``, from here
    or another process), or an app of another process (``wave run`` against ``%wave env``)."""

    runtime: Runtime
    route: str
    transport: str = 'auto'


def route_view(runtime: Runtime, route: str, height: int | None = None) -> WaveView:
    """A new live view of ``route``, as :func:`view` is of an app."""
    return WaveView(Route(runtime, route), height=-1 if height is None else height,
                    clients=len(runtime.broker.tabs_at(route)))


def views_of(app: App) -> list[WaveView]:
    return [v for v in _views.get(app, []) if v.comm is not None]


def mark_stopped(app: App) -> None:
    for v in views_of(app):
        v.status = 'stopped'


async def wait_for_views(app: App, timeout: float = 5.0, connect_timeout: float = 30.0) -> int:
    """Wait until every view of ``app`` has its Wave client connected and answered.

    Under "Run All" the cells run while the browser is still drawing the views above them: a cell that changes what
    the open views show (``for client in app.tabs: ...``) would miss a view that connects a moment later. Views get
    ``timeout`` seconds to be drawn; where no front end draws them (nbclient, nbconvert) this returns then. Views that
    are drawn get ``connect_timeout`` seconds to connect (a view that loads the UI first, as in JupyterLite, takes a
    while). Returns how many views are connected.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        views = views_of(app)
        browsers = [c for c in app.tabs if c.conn is not None and not _is_virtual(c)]
        drawn = bool(views) and all(v.rendered for v in views)
        if drawn and len(browsers) >= len(views):
            break
        if loop.time() - start >= (connect_timeout if drawn else timeout):
            return len(browsers)
        await asyncio.sleep(0.05)
    while app.tasks:  # their first queries answered
        await asyncio.gather(*list(app.tasks), return_exceptions=True)
    return len(browsers)


def _is_virtual(client: object) -> bool:
    return getattr(client, 'headers', {}).get('User-Agent') == ['wave_jupyter.VirtualTab']


def fallback_html(app: App) -> str:
    """What a static viewer (nbviewer, GitHub, an exported notebook) shows: no secret, just where the app was."""
    direct = app.runtime.browser_urls(app.route).get('direct')
    where = urls.where(direct) if direct else 'no port'
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
