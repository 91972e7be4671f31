"""The live app in an output cell: an ipywidgets view whose front end (in ``labextension/``) embeds the app.

The browser, not the kernel, decides the URL: it knows whether the notebook is local (open the app on loopback
directly) or behind a base URL / JupyterHub (go through ``jupyter-server-proxy`` at ``{base_url}proxy/{port}``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets
from traitlets import Int, Unicode

from ..server import server_of

if TYPE_CHECKING:
    from ..app import App

MODULE = 'wave-jupyter'
MODULE_VERSION = '^0.1.0'


class WaveView(ipywidgets.DOMWidget):
    """One view of an app: one Wave client (an iframe) in the output cell."""

    _model_name = Unicode('WaveViewModel').tag(sync=True)
    _model_module = Unicode(MODULE).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_name = Unicode('WaveView').tag(sync=True)
    _view_module = Unicode(MODULE).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)

    #: Port of the server on 127.0.0.1 and the app's route. The server's secret is no trait (traits are saved with
    #: the notebook's widget state): the front end asks for it (``{"type": "hello"}``) and gets it as a message.
    port = Int(0).tag(sync=True)
    route = Unicode('/').tag(sync=True)
    #: Height of the view in pixels.
    height = Int(400).tag(sync=True)
    #: 'auto' (loopback if the notebook is local at base URL '/', else the proxy), 'direct' or 'proxy'.
    url_mode = Unicode('auto').tag(sync=True)
    #: 'running' or 'stopped'; the view says so instead of showing a dead frame.
    status = Unicode('running').tag(sync=True)

    def __init__(self, app: App, height: int = 400, **kwargs: Any) -> None:
        server = server_of(app)
        super().__init__(port=server.port if server else 0, route=app.route, height=height, **kwargs)
        self.app = app
        self.on_msg(self._on_front_end)

    def _on_front_end(self, _: Any, content: dict, buffers: list) -> None:
        if isinstance(content, dict) and content.get('type') == 'hello':
            server = server_of(self.app)
            self.send({'type': 'secret', 'token': server.secret if server else ''})
