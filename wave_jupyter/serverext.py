"""A Jupyter server extension: widget messages without the kernel-status churn and Nagle's delay.

Two costs stood between a click in a live view on the comm rung and the app's answer on screen (``benchmarks/comm.py``:
about 60 ms against 4 ms direct), both in the Jupyter server and the page rather than in the kernel:

* **Nagle's algorithm on kernel WebSockets** (~40 ms). See :class:`NoDelay`.
* **Kernel status for every comm message** (~14 ms). The kernel reports busy, then idle, around every message it
  handles, a widget's comm messages included; JupyterLab and Notebook 7 update the kernel indicator, the favicon and
  the notebook's state for each, on the page's main thread, before they get to the comm message itself. Their page
  config has a list of message types whose status they ignore (``untracked_message_types``, by default the server's
  activity-tracking list): this adds ``comm_msg`` to that list in the page only, through the server's
  ``page_config_hook``. The server's own activity tracking (idle culling) is unchanged. The kernel indicator no longer
  flickers while widgets talk; cells still show busy as before.

With both: click -> DOM over the comm about 9 ms (2.4x direct), a warm first paint about 1.4 s.

Installed and enabled with the package (``etc/jupyter/jupyter_server_config.d/wave_jupyter.json``); turn it off with
``jupyter server extension disable wave_jupyter.serverext``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SETTING = 'kernel_websocket_connection_class'
PAGE_HOOK = 'page_config_hook'
UNTRACKED = 'untracked_message_types'
COMM_MSG = 'comm_msg'


class NoDelay:
    """Mixed in front of the configured kernel WebSocket connection class: ``TCP_NODELAY`` once the socket is open.

    tornado turns Nagle's algorithm back on after a WebSocket's upgrade response, and jupyter_server leaves it on. A
    kernel answers a comm message with several small messages in a row (status busy, the reply, status idle), so the
    later ones waited for the browser's delayed ACK, about 40 ms. The connection class is a setting meant to be
    replaced (a gateway replaces it too): whatever class is configured is wrapped.
    """

    wave_jupyter_nodelay = True

    async def connect(self) -> Any:
        self.websocket_handler.set_nodelay(True)  # type: ignore[attr-defined]
        return await super().connect()  # type: ignore[misc]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{'module': 'wave_jupyter.serverext'}]


def untrack_comm_messages(previous: Callable | None) -> Callable:
    """A ``page_config_hook`` that adds ``comm_msg`` to the page's ``untracked_message_types`` (after ``previous``)."""
    def hook(handler: Any, page_config: dict) -> dict:
        if previous is not None:
            page_config = previous(handler, page_config)
        kinds = list(page_config.get(UNTRACKED) or [])
        if COMM_MSG not in kinds:
            page_config[UNTRACKED] = [*kinds, COMM_MSG]
        return page_config
    hook.wave_jupyter_untracked = True  # type: ignore[attr-defined]
    return hook


def _load_jupyter_server_extension(serverapp: Any) -> None:
    settings = serverapp.web_app.settings
    base = settings.get(SETTING)
    if base is not None and not getattr(base, 'wave_jupyter_nodelay', False):
        settings[SETTING] = type(f'NoDelay{base.__name__}', (NoDelay, base), {})
        serverapp.log.debug('wave_jupyter: kernel WebSockets send without delay (%s)', base.__name__)
    previous = settings.get(PAGE_HOOK)
    if not getattr(previous, 'wave_jupyter_untracked', False):
        settings[PAGE_HOOK] = untrack_comm_messages(previous)
