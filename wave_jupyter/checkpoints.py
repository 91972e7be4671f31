"""``q.app`` and ``q.user`` kept across restarts: saved on shutdown and loaded on start when
``H2O_WAVE_CHECKPOINT_DIR`` is set, as h2o_wave does (``q.client`` is not kept: tabs do not survive a restart).

One process here may serve several apps, so each route has its own file (``wave_jupyter-<route>.checkpoint``). An
app without one starts from h2o_wave's own file in that folder (``h2o_wave.checkpoint``), which
:func:`save_for_wave` writes from a notebook's app: the production app, under the real Wave server, starts with what
the notebook built.
"""

from __future__ import annotations

import logging
import os
import pickle

from .config import Config
from .state import AppState, Expando

log = logging.getLogger('wave_jupyter')

#: The file h2o_wave reads and writes in that folder: a pickled ``(app_dict, {subject: user_dict})``.
WAVE_FILE = 'h2o_wave.checkpoint'


def checkpoint_path(route: str) -> str | None:
    """The file of ``route``'s checkpoint, or None when checkpoints are off."""
    folder = Config.from_env().checkpoint_dir
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


def save_for_wave(directory: str, state: AppState) -> str:
    """Write ``q.app`` and every ``q.user`` as h2o_wave's checkpoint in ``directory``; returns the file.

    Values must pickle, as under h2o_wave; one that does not is named in the error.
    """
    data = state.to_dict()
    for scope, values in [('q.app', data['app']), *((f'q.user[{k!r}]', v) for k, v in data['users'].items())]:
        for key, value in values.items():
            try:
                pickle.dumps(value)
            except Exception as e:  # noqa: BLE001 - whatever pickle raises, said as one error
                raise ValueError(f'{scope}.{key} cannot be saved for the Wave server (it does not pickle: {e})') \
                    from None
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, WAVE_FILE)
    with open(path + '.tmp', 'wb') as f:
        pickle.dump((data['app'], data['users']), f)
    os.replace(path + '.tmp', path)
    return path


def restore(route: str, state: AppState) -> bool:
    """Load ``route``'s checkpoint (else h2o_wave's file) into ``state``; a bad one is logged and ignored (the app
    starts empty)."""
    path = checkpoint_path(route)
    if path is None:
        return False
    wave_file = os.path.join(os.path.dirname(path), WAVE_FILE)
    if not os.path.isfile(path) and os.path.isfile(wave_file):
        path = wave_file
    elif not os.path.isfile(path):
        return False
    try:
        with open(path, 'rb') as f:
            saved = pickle.load(f)
        if isinstance(saved, tuple):  # h2o_wave's (app, users)
            saved = {'app': saved[0], 'users': saved[1]}
        state.app = Expando(saved['app'])
        state.users = {k: Expando(v) for k, v in saved['users'].items()}
    except Exception:
        log.exception('wave_jupyter: could not restore %s from %s; starting empty', route, path)
        return False
    return True
