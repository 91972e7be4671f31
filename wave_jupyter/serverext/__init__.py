"""A Jupyter server extension, run in the Jupyter server's process (nothing of the package imports it): widget
messages without Nagle's delay and without kernel-status churn in the page, and no wave_jupyter secret in the server's
log. One module per job: :mod:`.nodelay`, :mod:`.untracked`, :mod:`.redact`.

Two costs stood between a click in a live view on the comm rung and the app's answer on screen (``benchmarks/comm.py``:
about 60 ms against 4 ms direct), both in the Jupyter server and the page rather than in the kernel; with both gone,
click -> DOM over the comm takes about 9 ms (2.4x direct).

Installed and enabled with the package (``etc/jupyter/jupyter_server_config.d/wave_jupyter.json``); turn it off with
``jupyter server extension disable wave_jupyter.serverext``.
"""

from __future__ import annotations

from typing import Any

from . import nodelay, redact, untracked


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{'module': 'wave_jupyter.serverext'}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    redact.install(serverapp.log)
    settings = serverapp.web_app.settings
    nodelay.install(settings, serverapp.log)
    untracked.install(settings)
