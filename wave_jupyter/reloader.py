"""``--reload``: run a Wave file again when a ``.py`` file beside it (or in its package) changes.

The file's own modules are dropped from ``sys.modules`` first (they load afresh), and so are the ``@on`` handlers its
files registered with h2o_wave's router (the router keeps a list per argument and the first match wins, so the old
function would shadow the new one). Each ``@app`` of the new run then swaps its handler in: ``q.app``, ``q.user``,
``q.client`` and the open tabs are kept.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable

#: Seconds between looks at the files.
POLL = 0.3


def _stamps(folder: str) -> dict[str, int]:
    found = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(('.', '__pycache__'))]
        for f in files:
            if f.endswith('.py'):
                full = os.path.join(root, f)
                try:
                    found[full] = os.stat(full).st_mtime_ns
                except OSError:
                    pass
    return found


async def reload_on_change(folder: str, rerun: Callable[[list[str]], None]) -> None:
    """Watch ``folder``'s ``.py`` files; on a change forget its modules and ``@on`` handlers and call
    ``rerun(changed)``. The looks at the disk run on a thread: the loop keeps serving."""
    folder = os.path.abspath(folder)
    loop = asyncio.get_running_loop()
    before = await loop.run_in_executor(None, _stamps, folder)
    while True:
        await asyncio.sleep(POLL)
        now = await loop.run_in_executor(None, _stamps, folder)
        if now == before:
            continue
        changed = sorted(f for f in set(now) | set(before) if now.get(f) != before.get(f))
        before = now
        for name, module in list(sys.modules.items()):  # its own modules load afresh too
            if os.path.abspath(getattr(module, '__file__', None) or '').startswith(folder + os.sep):
                del sys.modules[name]
        forget_on_handlers(folder)
        rerun(changed)


def forget_on_handlers(folder: str) -> None:
    """Drop the ``@on`` handlers that files under ``folder`` registered with h2o_wave's router."""
    from h2o_wave import routing
    folder = os.path.abspath(folder) + os.sep

    def keep(entry: tuple) -> bool:
        code = getattr(next((x for x in entry if callable(x)), None), '__code__', None)
        return code is None or not os.path.abspath(code.co_filename).startswith(folder)

    for table in (routing._arg_handlers, routing._event_handlers):
        for key, entries in list(table.items()):
            table[key] = [e for e in entries if keep(e)]
    for table in (routing._path_handlers, routing._arg_with_params_handlers):
        table[:] = [e for e in table if keep(e)]
