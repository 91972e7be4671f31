"""The live view in marimo, which has no IPython display formatter: an app as a cell's last expression shows its view
through marimo's display protocol (``App._display_``) as marimo's own anywidget element (``mo.ui.anywidget``).

marimo re-runs a cell when a state it reads is set (``mo.state``), not when a widget changes on the kernel's side, so
a cell that should follow the app reads :func:`queries`::

    demo = listen('/demo', serve)
    demo                                    # the live app
    get_queries = queries(demo)             # from wave_jupyter.jupyter.marimo import queries
    get_queries(), demo.last_query.args     # another cell: runs again after every query the app handles
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from .. import events
from ..app import App
from .display import view

#: Per app, the unsubscribe of the state :func:`queries` made last (a re-run cell makes a new one).
_watched: weakref.WeakKeyDictionary[App, Callable[[], None]] = weakref.WeakKeyDictionary()


def shown(app: App) -> Any:
    """The app's live view as a marimo element."""
    import marimo as mo  # only called by marimo
    return mo.ui.anywidget(view(app))


def queries(app: App) -> Callable[[], int]:
    """A marimo state getter: how many queries ``app`` has handled, set after each one (so the cells that call it run
    again)."""
    import marimo as mo  # only called by marimo
    get, set_ = mo.state(app.handled)

    def done(event: events.QueryDone) -> None:
        if event.app is app:
            set_(app.handled)

    previous = _watched.pop(app, None)
    if previous is not None:
        previous()
    _watched[app] = app.runtime.events.subscribe(done, events.QueryDone)
    return get


__all__ = ['queries', 'shown']
