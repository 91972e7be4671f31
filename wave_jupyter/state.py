"""What an app remembers, readable from a notebook: Expandos, the app/user/client state, the query history.

Every object here has a small ``_repr_html_`` so that evaluating ``demo.state`` or ``demo.history`` in a cell shows a
table instead of a wall of reprs. Plain HTML strings only: nothing here imports IPython.
"""

from __future__ import annotations

import html
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from h2o_wave import core

HISTORY = 100


class Expando(core.Expando):
    """``h2o_wave``'s Expando (same behaviour, ``isinstance``-compatible), with a table for notebooks."""

    def _repr_html_(self) -> str:
        return table(['name', 'value'], [(k, v) for k, v in core.expando_to_dict(self).items()], empty='(empty)')


def table(header: Iterable[str], rows: Iterable[Iterable[Any]], empty: str = '(none)') -> str:
    """A compact HTML table; values are shown by ``repr`` and escaped."""
    rows = list(rows)
    if not rows:
        return f'<em>{html.escape(empty)}</em>'
    head = ''.join(f'<th style="text-align:left">{html.escape(h)}</th>' for h in header)
    body = ''.join('<tr>' + ''.join(f'<td style="text-align:left"><code>{_cell(v)}</code></td>' for v in row) + '</tr>'
                   for row in rows)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return html.escape(text if len(text) <= 300 else text[:300] + '…')


@dataclass
class AppState:
    """``q.app``, ``q.user`` per subject and ``q.client`` per client id: the same Expandos the handler sees."""

    app: Expando = field(default_factory=Expando)
    users: dict[str, Expando] = field(default_factory=dict)
    clients: dict[str, Expando] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            'app': core.expando_to_dict(self.app),
            'users': {k: core.expando_to_dict(v) for k, v in self.users.items()},
            'clients': {k: core.expando_to_dict(v) for k, v in self.clients.items()},
        }

    def _repr_html_(self) -> str:
        rows = [('q.app', '', k, v) for k, v in core.expando_to_dict(self.app).items()]
        rows += [('q.user', s, k, v) for s, e in self.users.items() for k, v in core.expando_to_dict(e).items()]
        rows += [('q.client', c, k, v) for c, e in self.clients.items() for k, v in core.expando_to_dict(e).items()]
        return table(['scope', 'who', 'name', 'value'], rows, empty='(no state yet)')


@dataclass(frozen=True)
class QueryRecord:
    """One query an app handled: when, from which client, with which args and events."""

    time: float
    client_id: str
    args: dict
    events: dict

    def row(self) -> tuple:
        return (time.strftime('%H:%M:%S', time.localtime(self.time)) + f'.{int(self.time * 1000) % 1000:03d}',
                self.client_id[:8], self.args, self.events)


class QueryHistory(deque):
    """The most recent queries of an app (bounded), newest last."""

    def __init__(self, maxlen: int = HISTORY) -> None:
        super().__init__(maxlen=maxlen)

    def _repr_html_(self) -> str:
        return table(['time', 'client', 'args', 'events'], [r.row() for r in self], empty='(no queries yet)')
