"""The kernel's list of apps, for the JupyterLab extension's preview panel: a comm, never code run in cell order.

Both ends can start it: the kernel opens a ``wave_jupyter.apps`` comm when wave_jupyter activates (a front end that
registered that target gets it), and registers the same target so a front end that connects later (a page reload)
can open one. Every comm gets the snapshot at once and again whenever apps are mounted, stopped or swapped::

    {"type": "apps", "apps": [{"route", "mode", "port", "token", "height", "generation", "clients"}, ...]}

A front end may send ``{"type": "refresh"}`` to get the snapshot again.
"""

from __future__ import annotations

import weakref
from typing import Any

from .. import events
from ..runner import apps
from ..runtime import Runtime
from ..server import server_of

TARGET = 'wave_jupyter.apps'
#: What changes the snapshot.
CHANGES = (events.RouteAdded, events.RouteRemoved, events.AppSwapped, events.AppStopped)


def snapshot() -> dict[str, Any]:
    entries = []
    for a in apps.values():
        server = server_of(a)
        entries.append({'route': a.route, 'mode': a.mode, 'port': server.port if server else 0,
                        'token': server.secret if server else '', 'height': a.height, 'generation': a.generation,
                        'clients': len(a.tabs)})
    return {'type': 'apps', 'apps': entries}


class AppsChannel:
    """All open ``wave_jupyter.apps`` comms of this kernel."""

    def __init__(self, shell: Any) -> None:
        self.comms: list[Any] = []
        self._last: dict | None = None
        self._watched: weakref.WeakSet[Runtime] = weakref.WeakSet()
        manager = getattr(getattr(shell, 'kernel', None), 'comm_manager', None)
        if manager is None:  # not in a kernel (a plain IPython terminal)
            return
        manager.register_target(TARGET, self._opened_by_frontend)
        from comm import create_comm
        self._add(create_comm(target_name=TARGET, data=snapshot()))

    def _opened_by_frontend(self, comm: Any, msg: dict) -> None:
        self._add(comm)
        comm.send(snapshot())

    def _add(self, comm: Any) -> None:
        self.comms.append(comm)
        comm.on_msg(lambda msg: comm.send(snapshot()))
        comm.on_close(lambda msg: self.comms.remove(comm) if comm in self.comms else None)

    def watch(self, runtime: Runtime) -> None:
        """Publish whenever ``runtime``'s apps change (once per runtime)."""
        if runtime not in self._watched:
            self._watched.add(runtime)
            runtime.events.subscribe(lambda _: self.publish(), *CHANGES)

    def publish(self, force: bool = False) -> None:
        """Send the snapshot to every front end, if it changed."""
        snap = snapshot()
        if snap == self._last and not force:
            return
        self._last = snap
        for comm in list(self.comms):
            try:
                comm.send(snap)
            except Exception:  # a front end that went away
                self.comms.remove(comm)
