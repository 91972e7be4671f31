"""``q.app`` and ``q.user`` kept across restarts: saved on shutdown and loaded on start when
``H2O_WAVE_CHECKPOINT_DIR`` is set, as h2o_wave does (``q.client`` is not kept: tabs do not survive a restart)."""

from __future__ import annotations

import logging
import os
import pickle

from .state import AppState, Expando

log = logging.getLogger('wave_jupyter')

CHECKPOINT_ENV = 'H2O_WAVE_CHECKPOINT_DIR'


def checkpoint_path(route: str) -> str | None:
    """The file of ``route``'s checkpoint, or None when checkpoints are off."""
    folder = os.environ.get(CHECKPOINT_ENV)
    if not folder:
        return None
    slug = route.strip('/').replace('/', '_') or 'root'
    return os.path.join(folder, f'wave_jupyter-{slug}.checkpoint')


def save(route: str, state: AppState) -> str | None:
    """Write ``q.app`` and every ``q.user`` of ``route``; returns the file (None when checkpoints are off)."""
    path = checkpoint_path(route)
    if path is None:
        return None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = state.to_dict()
    with open(path + '.tmp', 'wb') as f:
        pickle.dump({'app': data['app'], 'users': data['users']}, f)
    os.replace(path + '.tmp', path)
    return path


def restore(route: str, state: AppState) -> bool:
    """Load ``route``'s checkpoint into ``state``; a bad one is logged and ignored (the app starts empty)."""
    path = checkpoint_path(route)
    if path is None or not os.path.isfile(path):
        return False
    try:
        with open(path, 'rb') as f:
            saved = pickle.load(f)
        state.app = Expando(saved['app'])
        state.users = {k: Expando(v) for k, v in saved['users'].items()}
    except Exception:
        log.exception('wave_jupyter: could not restore %s from %s; starting empty', route, path)
        return False
    return True
