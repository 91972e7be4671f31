"""The kernel's list of apps, for the JupyterLab extension's preview panel: a comm, never code run in cell order.

Only a front end opens a ``wave_jupyter.apps`` comm: the kernel opens none itself, so a front end without the
extension (nbclient, nbconvert, VS Code) never sees a comm it has no handler for. To let the extension know that
wave_jupyter is active without running code, the kernel keeps a *beacon*: a comm of that target registered with the
kernel's comm manager but never opened on the wire, which a ``comm_info_request`` lists. Every open comm gets the
snapshot at once and again whenever apps are mounted, stopped or swapped::

    {"t": "apps", "apps": [{"route", "mode", "port", "direct", "proxy", "height", "generation", "clients",
                               "instance"}, ...]}

A front end may send ``{"t": "refresh"}`` to get the snapshot again, and ``{"t": "view", "route", "ref"}``
to get a live view of an app for its preview panel: the kernel makes a :class:`~.widget.WaveView` (the same one an
output cell shows, so the panel reaches the app on the same ladder, the comm rung included) and answers
``{"t": "view", "ref", "view": {"model_id", "version_major", "version_minor"}}`` (``view`` null, with an
``error``, when there is no such app). ``{"t": "unview", "model_id"}`` closes it, as does
closing the comm.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from .. import events
from ..loopthread import LoopThread
from ..runner import apps
from ..runtime import Runtime
from .display import view

TARGET = 'wave_jupyter.apps'
WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'
#: What changes the snapshot.
CHANGES = (events.RouteAdded, events.RouteRemoved, events.AppSwapped, events.AppStopped)


def snapshot() -> dict[str, Any]:
    entries = []
    for a in apps.values():
        where = {'direct': '', 'proxy': '', **a.runtime.browser_urls(a.route)}
        port = urlsplit(where['direct']).port or 0
        entries.append({'route': a.route, 'mode': a.mode, 'port': port, **where,
                        'height': a.height, 'generation': a.generation, 'clients': len(a.tabs),
                        'instance': f'{id(a):x}'})
    return {'t': 'apps', 'apps': entries}


class AppsChannel:
    """All open ``wave_jupyter.apps`` comms of this kernel."""

    def __init__(self, shell: Any) -> None:
        self.comms: list[Any] = []
        self._last: dict | None = None
        # The kernel's own thread and loop (apps live there); comm messages may come on a subshell's thread.
        self._home = LoopThread()
        self._home.bind(asyncio.get_event_loop())
        manager = getattr(getattr(shell, 'kernel', None), 'comm_manager', None)
        if manager is None:  # not in a kernel (a plain IPython terminal)
            return
        manager.register_target(TARGET, self._opened_by_frontend)
        from comm import create_comm
        self.beacon = create_comm(target_name=TARGET, primary=False)  # listed by comm_info, never sent
        manager.register_comm(self.beacon)

    def _opened_by_frontend(self, comm: Any, msg: dict) -> None:
        self._add(comm)
        self._soon(lambda: comm.send(snapshot()))

    def _add(self, comm: Any) -> None:
        self.comms.append(comm)
        views: dict[str, Any] = {}  # the preview views this front end asked for, by model id
        comm.on_msg(lambda msg: self._soon(self._on_message, comm, views, msg['content']['data']))
        comm.on_close(lambda msg: self._soon(self._closed, comm, views))

    def _soon(self, func: Any, *args: Any) -> None:
        self._home.soon(func, *args)

    def _on_message(self, comm: Any, views: dict[str, Any], data: Any) -> None:
        kind = data.get('t') if isinstance(data, dict) else None
        if kind == 'view':
            app = apps.get(data.get('route'))
            if app is None:
                comm.send({'t': 'view', 'ref': data.get('ref'), 'view': None,
                           'error': f'no app at {data.get("route")}'})
                return
            v = view(app, height=0)  # 0: as tall as the panel
            views[v.model_id] = v
            bundle = v._repr_mimebundle_()
            bundle = bundle[0] if isinstance(bundle, tuple) else bundle
            comm.send({'t': 'view', 'ref': data.get('ref'), 'view': bundle[WIDGET_VIEW]})
        elif kind == 'unview':
            v = views.pop(data.get('model_id'), None)
            if v is not None:
                v.close()
        else:
            comm.send(snapshot())

    def _closed(self, comm: Any, views: dict[str, Any]) -> None:
        if comm in self.comms:
            self.comms.remove(comm)
        for v in views.values():
            v.close()
        views.clear()

    def watch(self, runtime: Runtime) -> None:
        """Publish whenever ``runtime``'s apps change (once per runtime)."""
        runtime.events.subscribe_once(self, lambda _: self.publish(), *CHANGES)

    def publish(self, force: bool = False) -> None:
        """Send the snapshot to every front end, if it changed."""
        snap = snapshot()
        if snap == self._last and not force:
            return
        self._last = snap
        for comm in list(self.comms):
            try:
                comm.send(snap)
            except Exception:  # noqa: BLE001 - a front end that went away
                self.comms.remove(comm)
