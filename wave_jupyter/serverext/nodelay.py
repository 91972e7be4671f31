"""Kernel WebSockets without Nagle's delay (~40 ms per comm message answered).

tornado turns Nagle's algorithm back on after a WebSocket's upgrade response, and jupyter_server leaves it on. A
kernel answers a comm message with several small messages in a row (status busy, the reply, status idle), so the
later ones waited for the browser's delayed ACK.
"""

from __future__ import annotations

from typing import Any

SETTING = 'kernel_websocket_connection_class'


class NoDelay:
    """Mixed in front of the configured kernel WebSocket connection class: ``TCP_NODELAY`` once the socket is open.

    The connection class is a setting meant to be replaced (a gateway replaces it too): whatever class is configured
    is wrapped.
    """

    wave_jupyter_nodelay = True

    async def connect(self) -> Any:
        self.websocket_handler.set_nodelay(True)  # type: ignore[attr-defined]
        return await super().connect()  # type: ignore[misc]


def install(settings: dict, log: Any) -> None:
    base = settings.get(SETTING)
    if base is not None and not getattr(base, 'wave_jupyter_nodelay', False):
        settings[SETTING] = type(f'NoDelay{base.__name__}', (NoDelay, base), {})
        log.debug('wave_jupyter: kernel WebSockets send without delay (%s)', base.__name__)
