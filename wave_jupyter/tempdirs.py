"""Temporary folders that outlive no process.

A runtime keeps uploads in a folder of its own under the system's temporary directory and removes it when it closes
or the process exits. A process that is killed (a kernel shut down with ``now=True``, ``SIGKILL``, a crash) cannot:
its folder, with the files users uploaded, stays. So each folder holds a lock (``flock``) for as long as its process
lives, and a new folder's making first removes the folders of ours whose lock nobody holds: their process is gone.
Only folders owned by this user are looked at, and only real folders (no symlinks) are removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
import weakref
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: no flock; dead processes' folders are left to the system's cleaning
    fcntl = None  # type: ignore[assignment]
if sys.platform == 'emscripten' or not hasattr(fcntl, 'flock'):  # Pyodide: one process, and a stand-in fcntl
    fcntl = None  # type: ignore[assignment]

PREFIX = 'wave_jupyter_'
LOCK = '.owner.lock'


class TempDir:
    """A folder under the temporary directory, locked while this process lives; ``remove()`` deletes it (done at
    exit or when the object is collected, too)."""

    def __init__(self, prefix: str = PREFIX) -> None:
        sweep(prefix)
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self._lock: IO[str] | None = _hold(self.path / LOCK)
        self._finalizer = weakref.finalize(self, _remove, self.path, self._lock)

    def remove(self) -> None:
        self._finalizer()


def _hold(path: Path) -> IO[str] | None:
    """The lock file at ``path``, locked; it appears under its name only once locked (a sweep in another process
    never sees it free)."""
    if fcntl is None:
        return None
    making = path.with_name(path.name + '.new')
    lock = open(making, 'w')  # noqa: SIM115 - held open for the process's life: the lock is the point
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(making, path)
    return lock


def _remove(path: Path, lock: IO[str] | None) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if lock is not None:
        lock.close()


def sweep(prefix: str = PREFIX) -> list[Path]:
    """Remove this user's ``prefix*`` folders whose process is gone (their lock is free); returns what was removed."""
    if fcntl is None:
        return []
    removed = []
    uid = os.getuid()
    for entry in Path(tempfile.gettempdir()).glob(prefix + '*'):
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
            continue
        try:
            lock = open(entry / LOCK)  # noqa: SIM115 - closed below, after the test
        except OSError:
            continue  # a folder of an older release, or one being made right now: not ours to judge
        with contextlib.closing(lock):
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its process holds it: alive
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
