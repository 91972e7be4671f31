"""The live app in an output cell: a widget whose front end (``view.js``) travels with it (anywidget), so it renders
in every notebook frontend without an extension.

The browser, not the kernel, picks how to reach the app (``view.js``): the server on loopback for a local notebook,
``jupyter-server-proxy`` under the notebook's base URL, or else the widget's own comm, which carries the whole Wave UI
(:mod:`..commlink`). The server's secret is no trait (traits are saved with the notebook's widget state): the front
end asks for it (``{"t": "hello"}``) and gets where the app is (its URLs, which hold the secret) as a message.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anywidget
from traitlets import Int, Unicode

from ..commlink import CommLink
from ..runner import check_transport

if TYPE_CHECKING:
    from ..runtime import Runtime

HERE = Path(__file__).parent


#: The view's front end: one ES module bundled from ``labextension/src/web/`` (``build-web.mjs``, run by the
#: package's build; the sandboxed frame's bridge is inside it).
VIEW_MODULE = HERE / 'static' / 'view.js'


@functools.cache
def view_module() -> str:
    try:
        return VIEW_MODULE.read_text(encoding='utf-8')
    except FileNotFoundError:
        raise RuntimeError(f'{VIEW_MODULE} is missing: the package was installed without its web build (npm); '
                           'reinstall it with node and npm available') from None


class Shown(Protocol):
    """What a view shows: an app of this kernel (``app.App``), or another route of its server (a script's page, an
    app of another process)."""

    route: str
    runtime: Runtime
    transport: str


class WaveView(anywidget.AnyWidget):
    """One view of an app: one Wave client, in an output cell."""

    _esm = Unicode(view_module()).tag(sync=True)

    #: The app's route.
    route = Unicode('/').tag(sync=True)
    #: Height of the view: pixels; -1 to fit the app (between MIN and MAX), 0 to fill the container (a panel).
    height = Int(-1).tag(sync=True)
    #: 'auto' (the first rung that works), 'direct', 'proxy' or 'comm'.
    transport = Unicode('auto').tag(sync=True)
    #: 'running' or 'stopped'; the view says so instead of showing a dead frame.
    status = Unicode('running').tag(sync=True)
    #: How many tabs (Wave clients) the app has now, every view and browser tab counted.
    clients = Int(0).tag(sync=True)

    def __init__(self, app: Shown, height: int = -1, transport: str | None = None, **kwargs: Any) -> None:
        super().__init__(route=app.route, height=height, transport=check_transport(transport or app.transport),
                         **kwargs)
        self.app = app
        self.link: CommLink | None = None
        #: A front end has drawn this view (it said hello); under nbclient or nbconvert none ever does.
        self.rendered = False
        self.on_msg(self._on_front_end)

    def _on_front_end(self, _: Any, content: Any, buffers: list) -> None:
        # Maybe on a subshell's thread (ipykernel 7): handled on the app's loop, in order.
        self.app.runtime.soon(self._handle, content, [bytes(b) for b in buffers or []])

    def _handle(self, content: Any, buffers: list[bytes]) -> None:
        if not isinstance(content, dict):
            return
        if content.get('t') == 'hello':
            self.rendered = True
            self.send({'t': 'where', **self.app.runtime.browser_urls(self.app.route)})
            return
        if self.link is None:
            self.link = CommLink(self.app.runtime, self.app.route, lambda m, b: self.send(m, b))
        self.link.receive(content, buffers)

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
        super().close()
