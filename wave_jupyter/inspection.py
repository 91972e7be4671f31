"""What a notebook cell reads of a running app: the last query, the history, errors, printed output, the page.

A mixin of :class:`~.app.App`, so that inspecting an app and running it stay two jobs in two modules.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from .broker import Client
from .modes import page_path
from .state import HISTORY, AppState, QueryHistory, QueryRecord

if TYPE_CHECKING:
    from .query import Query
    from .runtime import Runtime


class Inspection:
    """Readable state of an app: ``last_query``, ``history``, ``errors``, ``output``, ``tabs``, ``page()``."""

    runtime: Runtime
    route: str
    mode: str
    state: AppState

    def _init_inspection(self) -> None:
        #: The most recent ``q`` the handler got (live: its ``args``, ``client``, ``page``).
        self.last_query: Query | None = None
        self.history = QueryHistory()
        #: How many queries the handler has finished (the history keeps only the latest).
        self.handled = 0
        #: Tracebacks of handler errors, newest last.
        self.errors: deque[str] = deque(maxlen=HISTORY)
        #: What the handlers printed.
        self.output: deque[str] = deque(maxlen=1000)

    # What the app tells its inspection; only these write the state above.
    def _saw_query(self, q: Query, record: QueryRecord) -> None:
        self.last_query = q
        self.history.append(record)

    def _saw_done(self) -> None:
        self.handled += 1

    def _saw_error(self, tb: str) -> None:
        self.errors.append(tb)

    def _saw_output(self, text: str) -> None:
        self.output.append(text)

    @property
    def tabs(self) -> list[Client]:
        """The browser tabs (Wave clients, each with its socket) showing this app. Their ``q.client`` state is in
        ``state.clients``, by client id."""
        return self.runtime.broker.tabs_at(self.route)

    def page(self, client_id: str | None = None) -> dict | None:
        """The server-side page of a tab (the latest one if None) as plain data."""
        q = self.last_query
        if client_id is None and q is None:
            return self._stored(self.route) if self.mode != 'unicast' else None
        if client_id is not None:
            client = self.runtime.broker.clients.get(client_id)
            subject = client.subject if client is not None else 'anon'
            return self._stored(page_path(self.mode, self.route, client_id, subject))
        return self._stored(q.page.url)

    def _stored(self, path: str) -> dict | None:
        page = self.runtime.broker.pages.get(path)
        return page.to_dict() if page is not None else None

    def state_dict(self) -> dict:
        return self.state.to_dict()

    def __repr__(self) -> str:
        return f'<App {self.route} {self.mode} tabs={len(self.tabs)}>'


__all__ = ['Inspection']
