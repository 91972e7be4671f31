"""One typed event hub: what happens in a runtime, for whoever watches (the CLI, the notebook, the lab extension).

Subscribers name the event classes they want; an event is delivered to every subscriber of its class, in order, on
the thread that emits it (the runtime's loop thread). A failing subscriber is logged and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger('wave_jupyter')


class Served(Protocol):
    """What an event says of an app (``app.App``; named by shape here, so this module imports nothing of ours)."""

    route: str


class Tab(Protocol):
    """What an event says of a browser tab (``broker.Client``)."""

    id: str
    route: str | None


@dataclass(frozen=True)
class Event:
    """Base of every event."""


@dataclass(frozen=True)
class RouteAdded(Event):
    """An app was mounted at ``route`` (``app`` set), or a script first saved a page there (``app`` None)."""

    route: str
    app: Served | None = None


@dataclass(frozen=True)
class RouteRemoved(Event):
    route: str
    app: Served | None = None


@dataclass(frozen=True)
class AppSwapped(Event):
    """A new handler serves the app (hot swap)."""

    app: Served


@dataclass(frozen=True)
class AppStopped(Event):
    app: Served


@dataclass(frozen=True)
class ClientJoined(Event):
    """A new browser tab (a new Wave client id) connected; a reconnect of a known tab is not a new client."""

    client: Tab


@dataclass(frozen=True)
class ClientAttached(Event):
    """A tab opened an app's route (its first ``+``, or a new route in the same tab)."""

    client: Tab
    app: Served


@dataclass(frozen=True)
class ClientLeft(Event):
    """A tab did not come back within the reconnect timeout and was forgotten."""

    client: Tab


@dataclass(frozen=True)
class QueryDone(Event):
    """A handler ran to its end (or raised) for one query."""

    app: Served


@dataclass(frozen=True)
class HandlerError(Event):
    app: Served
    traceback: str


@dataclass(frozen=True)
class HandlerOutput(Event):
    """Text a handler printed."""

    app: Served
    text: str


@dataclass(frozen=True)
class LoopBlocked(Event):
    """A handler held the event loop too long."""

    app: Served
    message: str


Subscriber = Callable[[Event], None]


class Hub:
    def __init__(self) -> None:
        self._subscribers: list[tuple[tuple[type[Event], ...], Subscriber]] = []
        self._once: set[Hashable] = set()

    def subscribe(self, callback: Subscriber, *kinds: type[Event]) -> Callable[[], None]:
        """Call ``callback(event)`` for every event of ``kinds`` (all events if none); returns an unsubscribe."""
        entry = (kinds or (Event,), callback)
        self._subscribers.append(entry)

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)
        return unsubscribe

    def subscribe_once(self, key: Hashable, callback: Subscriber, *kinds: type[Event]) -> None:
        """As :meth:`subscribe`, unless a subscription was made under ``key`` already: the one subscription per hub of
        a module or an object, however many times it asks."""
        if key not in self._once:
            self._once.add(key)
            self.subscribe(callback, *kinds)

    def emit(self, event: Event) -> None:
        for kinds, callback in list(self._subscribers):
            if isinstance(event, kinds):
                try:
                    callback(event)
                except Exception:
                    log.exception('wave_jupyter: a subscriber to %s failed', type(event).__name__)
