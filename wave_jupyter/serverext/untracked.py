"""No kernel-status churn in the page around comm messages (~14 ms per message).

The kernel reports busy, then idle, around every message it handles, a widget's comm messages included; JupyterLab
and Notebook 7 update the kernel indicator, the favicon and the notebook's state for each, on the page's main thread,
before they get to the comm message itself. Their page config has a list of message types whose status they ignore
(``untracked_message_types``, by default the server's activity-tracking list): this adds ``comm_msg`` to that list in
the page only, through the server's ``page_config_hook``. The server's own activity tracking (idle culling) is
unchanged. The kernel indicator no longer flickers while widgets talk; cells still show busy as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PAGE_HOOK = 'page_config_hook'
UNTRACKED = 'untracked_message_types'
COMM_MSG = 'comm_msg'


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


def install(settings: dict) -> None:
    previous = settings.get(PAGE_HOOK)
    if not getattr(previous, 'wave_jupyter_untracked', False):
        settings[PAGE_HOOK] = untrack_comm_messages(previous)
