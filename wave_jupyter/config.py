"""What the environment says, in one place: every ``WAVE_JUPYTER_*`` and ``H2O_WAVE_*`` variable this package reads,
its default and how it is parsed (as h2o_wave's ``_Config`` does for the SDK).

It is read when something is made (a server, the process's runtime), not at import: a notebook may set a variable
after ``import wave_jupyter``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PORT_ENV = 'WAVE_JUPYTER_PORT'
SECRET_ENV = 'WAVE_JUPYTER_SECRET'
TRANSPORT_ENV = 'WAVE_JUPYTER_TRANSPORT'
ORIGINS_ENV = 'WAVE_JUPYTER_ALLOWED_ORIGINS'
CHECKPOINT_ENV = 'H2O_WAVE_CHECKPOINT_DIR'
PYODIDE_ENV = 'WAVE_JUPYTER_PYODIDE'

#: The port of a standalone server (``python app.py``, ``python -m wave_jupyter run``), as waved's. A server that a
#: notebook's kernel starts takes any free port instead: several kernels on one machine must not fight over one.
STANDALONE_PORT = 10101
#: How views reach apps: 'auto' (the first rung that works), 'direct', 'proxy' or 'comm' (no port at all).
TRANSPORTS = ('auto', 'direct', 'proxy', 'comm')


@dataclass(frozen=True)
class Config:
    #: ``WAVE_JUPYTER_PORT``: None when unset (each kind of server has its default).
    port: int | None = None
    #: ``WAVE_JUPYTER_SECRET``: a fixed secret, which only opens a door to each server's own (see ``Server``).
    secret: str | None = None
    #: ``WAVE_JUPYTER_TRANSPORT``.
    transport: str = 'auto'
    #: ``WAVE_JUPYTER_ALLOWED_ORIGINS``, comma-separated: WebSocket origins allowed besides the server's own.
    allowed_origins: tuple[str, ...] = ()
    #: ``H2O_WAVE_CHECKPOINT_DIR``: where ``q.app`` and ``q.user`` are saved on shutdown and read on start.
    checkpoint_dir: str | None = None
    #: ``WAVE_JUPYTER_PYODIDE``: Pyodide's core for lite sites (a folder or an npm ``.tgz``) instead of the download.
    pyodide: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        port = env.get(PORT_ENV, '').strip()
        if port and not port.isdigit():
            raise ValueError(f'{PORT_ENV} must be a port number; got {port!r}')
        transport = env.get(TRANSPORT_ENV, '').strip() or 'auto'
        check_transport(transport, TRANSPORT_ENV)
        return cls(port=int(port) if port else None, secret=env.get(SECRET_ENV) or None, transport=transport,
                   allowed_origins=tuple(o.strip() for o in env.get(ORIGINS_ENV, '').split(',') if o.strip()),
                   checkpoint_dir=env.get(CHECKPOINT_ENV) or None, pyodide=env.get(PYODIDE_ENV) or None)

    def port_or(self, default: int) -> int:
        return self.port if self.port is not None else default


def check_transport(transport: str, where: str = 'transport') -> str:
    if transport not in TRANSPORTS:
        raise ValueError(f'{where} must be one of {", ".join(TRANSPORTS)}; got {transport!r}')
    return transport
