"""The Jupyter layer: live views in output cells, the ``%wave`` magic, hot swap and inspection.

``%load_ext wave_jupyter`` (or importing ``wave_jupyter`` in a kernel) calls :func:`load_ipython_extension`.
"""

from __future__ import annotations

from typing import Any

from .display import view, wait_for_views
from .session import activate
from .widget import WaveView


def load_ipython_extension(shell: Any) -> None:
    from .magics import WaveMagics
    activate(shell)
    shell.register_magics(WaveMagics)


def unload_ipython_extension(shell: Any) -> None:
    """Nothing to undo: apps keep serving until stopped (``%wave stop --all``)."""


__all__ = ['WaveView', 'activate', 'load_ipython_extension', 'view', 'wait_for_views']
