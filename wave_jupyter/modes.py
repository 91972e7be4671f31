"""Wave's three app modes and the one rule that follows from them: where an app's ``q.page`` lives."""

from __future__ import annotations

UNICAST, MULTICAST, BROADCAST = 'unicast', 'multicast', 'broadcast'
MODES = (UNICAST, MULTICAST, BROADCAST)
#: The user of every query without single sign-on.
ANON = 'anon'


def check_mode(mode: str | None, default: str = UNICAST) -> str:
    """``mode`` (or ``default`` for None), refused with a clear error unless it is one of :data:`MODES`."""
    mode = mode or default
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}; got {mode!r}')
    return mode


def page_path(mode: str, route: str, client_id: str, subject: str) -> str:
    """Where ``q.page`` lives: the client's own page (unicast), its user's (multicast), or the route (broadcast)."""
    if mode == UNICAST:
        return f'/{client_id}'
    if mode == MULTICAST:
        return f'/{subject}'
    return route
