"""A Jupyter server extension: the server's kernel WebSockets send small messages at once.

tornado turns Nagle's algorithm back on after a WebSocket's upgrade response, and jupyter_server leaves it on. A
kernel answers a comm message with several small messages in a row (status busy, the reply, status idle), so the
later ones wait for the browser's delayed ACK: about 40 ms per round trip. The comm rung of the live view sends every
Wave UI frame that way; this takes its click -> DOM from about 60 ms to about 25 ms (``benchmarks/comm.py``).

The server's kernel WebSocket connection class is a setting meant to be replaced (a gateway replaces it too): this
wraps whatever class is configured with one that sets ``TCP_NODELAY`` once the socket is open. Installed and enabled
with the package (``etc/jupyter/jupyter_server_config.d/wave_jupyter.json``); nothing else in the server changes.
"""

from __future__ import annotations

from typing import Any

SETTING = 'kernel_websocket_connection_class'


class NoDelay:
    """Mixed in front of the configured connection class."""

    wave_jupyter_nodelay = True

    async def connect(self) -> Any:
        self.websocket_handler.set_nodelay(True)  # type: ignore[attr-defined]
        return await super().connect()  # type: ignore[misc]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{'module': 'wave_jupyter.serverext'}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    settings = serverapp.web_app.settings
    base = settings.get(SETTING)
    if base is None or getattr(base, 'wave_jupyter_nodelay', False):
        return
    settings[SETTING] = type(f'NoDelay{base.__name__}', (NoDelay, base), {})
    serverapp.log.debug('wave_jupyter: kernel WebSockets send without delay (%s)', base.__name__)
