"""The browser-facing half of waved: clients, subscriptions and page fan-out, without any transport.

A browser tab is a :class:`Client`. It subscribes to page paths; ops saved to a path go, byte for byte, to every
subscriber of that path and are applied to the page store. Apps are looked up by route; the broker hands them
queries and knows nothing of handlers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Protocol

from . import events as ev
from . import protocol
from .connection import Connection
from .modes import ANON, UNICAST, page_path
from .pages import PageStore

log = logging.getLogger('wave_jupyter')


class AppLike(Protocol):
    """What the broker needs of an app: its route and mode, and to be handed queries."""

    route: str
    mode: str

    def submit(self, client: Client, args: dict, events: dict | None) -> Any: ...

    def client_gone(self, client: Client) -> None: ...

    async def shutdown(self) -> None: ...


class Client:
    """One browser tab (one Wave client id), which may outlive several sockets."""

    def __init__(self, client_id: str, headers: dict[str, list[str]], location_base: str = '/') -> None:
        self.id = client_id
        #: The prefix this tab sees in its location (e.g. behind jupyter-server-proxy), stripped from frame paths.
        self.location_base = location_base
        self.subject = ANON
        self.username = ANON
        self.headers = headers
        self.conn: Connection | None = None
        self.route: str | None = None
        self.watching = False
        self.subscriptions: set[str] = set()
        self.sent = 0
        self.expiry: asyncio.TimerHandle | None = None

    def send(self, text: str) -> None:
        if self.conn is not None:
            self.sent += 1
            self.conn.send(text)

    def __repr__(self) -> str:
        state = 'connected' if self.conn else 'disconnected'
        return f'<Client {self.id} {self.route or "-"} {state}>'


def app_page_path(app: AppLike, client: Client) -> str:
    return page_path(app.mode, app.route, client.id, client.subject)


class Broker:
    def __init__(self, reconnect_timeout: float = 5.0, events: ev.Hub | None = None) -> None:
        self.reconnect_timeout = reconnect_timeout
        self.events = events or ev.Hub()
        self.pages = PageStore()
        self.clients: dict[str, Client] = {}
        self.subscribers: dict[str, set[Client]] = {}
        self.apps: dict[str, AppLike] = {}
        self._pending_clear: dict[str, asyncio.Handle] = {}

    # --- sockets -----------------------------------------------------------------------------------------------

    def connect(self, conn: Connection, client_id: str | None, headers: dict[str, list[str]],
                location_base: str = '/') -> Client:
        """A socket opened. A known ``client-id`` takes its client back (state kept); anything else gets a new id.

        ``location_base`` is the prefix of the paths this tab sends (its location's), stripped to find routes.
        """
        client = self.clients.get(client_id) if client_id else None
        if client is not None:
            client.location_base = location_base
            if client.expiry is not None:
                client.expiry.cancel()
                client.expiry = None
            old, client.conn = client.conn, conn
            if old is not None and old is not conn:
                old.close()
            return client
        client = Client(str(uuid.uuid4()), headers, location_base)
        client.conn = conn
        self.clients[client.id] = client
        client.send(protocol.client_id_doc(client.id))
        self.events.emit(ev.ClientJoined(client))
        return client

    def disconnected(self, client: Client, conn: Connection) -> None:
        """A socket closed: wait for the tab to come back, then forget the client (waved's reconnect timeout)."""
        if client.conn is not conn:
            return  # a newer socket already took over
        client.conn = None
        loop = asyncio.get_event_loop()
        client.expiry = loop.call_later(self.reconnect_timeout, self.expire, client)

    def expire(self, client: Client) -> None:
        client.expiry = None
        if client.conn is not None or self.clients.get(client.id) is not client:
            return
        del self.clients[client.id]
        for path in list(client.subscriptions):
            self.unsubscribe(client, path)
        app = self.apps.get(client.route) if client.route else None
        if app is not None:
            app.client_gone(client)
        self.pages.delete(f'/{client.id}')
        self.events.emit(ev.ClientLeft(client))

    # --- frames from the browser ---------------------------------------------------------------------------------

    def receive(self, client: Client, text: str | bytes) -> None:
        """Handle one frame. Bad frames are answered with a logged error, never an exception."""
        try:
            frame = protocol.parse_frame(text)
            route = protocol.route_of(frame.path, client.location_base)
            if frame.kind == protocol.WATCH:
                self.watch(client, route, frame.data)
            elif frame.kind == protocol.QUERY:
                self.query(client, route, protocol.parse_query(frame.data))
            else:
                log.warning('client %s: page patches (*) need an editable server; ignored', client.id)
                client.send(protocol.ACK)
        except protocol.ProtocolError as e:
            log.warning('client %s sent a bad frame: %s', client.id, e)
            client.send(protocol.ACK)
        except Exception:  # a bug of ours must not cost the client its socket or its busy overlay
            log.exception('client %s: failed to handle a frame', client.id)
            client.send(protocol.ACK)

    def watch(self, client: Client, route: str, hash_: str) -> None:
        if client.watching:
            # A reconnect: waved sends nothing; we resend the page so a UI that lost its page shows it again.
            path = self.page_path_of(client)
            if path and path in self.pages:
                client.send(protocol.page_doc(self.pages.dump(path)))
            return
        client.watching = True
        self.subscribe(client, route)
        app = self.apps.get(route)
        if app is None:
            client.send(protocol.meta_doc(client.username))
            if route in self.pages:
                client.send(protocol.page_doc(self.pages.dump(route)))
            else:
                client.send(protocol.error_doc('not_found'))
            return
        self.attach(client, app)
        args: dict[str, Any] = {'#': hash_, '__wave_submission_name__': '#'} if hash_ else {}
        app.submit(client, args, None)

    def attach(self, client: Client, app: AppLike) -> None:
        """Subscribe a client to its app's page; a shared page that already exists is sent at once."""
        if client.route != app.route:
            client.route = app.route
            self.events.emit(ev.ClientAttached(client, app))
        path = app_page_path(app, client)
        self.subscribe(client, path)
        if app.mode != UNICAST and path in self.pages:
            client.send(protocol.page_doc(self.pages.dump(path)))

    def query(self, client: Client, route: str, args: dict[str, Any]) -> None:
        app = self.apps.get(route)
        if app is None:
            log.warning('client %s: query for %s, which has no app; ignored', client.id, route)
            client.send(protocol.ACK)
            return
        if client.route != route:
            self.attach(client, app)
        events = args.pop('', None)
        app.submit(client, args, events if isinstance(events, dict) else None)
        if app.mode != UNICAST:
            self.clear_soon(app_page_path(app, client))

    def tabs_at(self, route: str) -> list[Client]:
        """The tabs showing ``route`` (whoever serves it: an app of ours, of another process, a script's page)."""
        return [c for c in self.clients.values() if c.route == route]

    def page_path_of(self, client: Client) -> str | None:
        app = self.apps.get(client.route) if client.route else None
        return app_page_path(app, client) if app else client.route

    # --- pages ---------------------------------------------------------------------------------------------------

    def subscribe(self, client: Client, path: str) -> None:
        self.subscribers.setdefault(path, set()).add(client)
        client.subscriptions.add(path)

    def unsubscribe(self, client: Client, path: str) -> None:
        subs = self.subscribers.get(path)
        if subs is not None:
            subs.discard(client)
            if not subs:
                del self.subscribers[path]
        client.subscriptions.discard(path)

    def clear_soon(self, path: str) -> None:
        """waved's ``{"c":1}`` after a shared-page query, sent with the handler's ops if they come in this loop turn
        (one frame instead of two, as waved's writer batches them), else on its own."""
        if path not in self._pending_clear and self.subscribers.get(path):
            self._pending_clear[path] = asyncio.get_running_loop().call_soon(self._flush_clear, path)

    def _flush_clear(self, path: str) -> None:
        if self._pending_clear.pop(path, None) is not None:
            self.send_to(path, protocol.CLEAR)

    def send_to(self, path: str, text: str) -> None:
        pending = self._pending_clear.pop(path, None)
        if pending is not None:
            pending.cancel()
            text = protocol.CLEAR + '\n' + text
        for client in list(self.subscribers.get(path, ())):
            client.send(text)

    def patch(self, path: str, raw: str, ops: list | None = None, announce: bool = True) -> None:
        """Relay an ops batch verbatim to the page's subscribers and apply it to the stored page. A new page is
        announced (``on_new_route``) if ``announce`` and it belongs to no app or client."""
        if ops is None:
            ops = json.loads(raw)['d']
        new = path not in self.pages
        self.send_to(path, raw)
        self.pages.apply(path, ops)
        if new and announce and not self.is_private_path(path):
            self.events.emit(ev.RouteAdded(path))

    def is_private_path(self, path: str) -> bool:
        """Client and subject pages belong to apps; only other paths are pages a browser can open."""
        name = path[1:]
        return name in self.clients or name == ANON or path in self.apps

    # --- apps ----------------------------------------------------------------------------------------------------

    def register(self, app: AppLike) -> None:
        """Mount an app; open tabs of that route reload, as with waved's register_app."""
        self.apps[app.route] = app
        self.send_to(app.route, protocol.RESET)
        self.events.emit(ev.RouteAdded(app.route, app))

    def unregister(self, app: AppLike) -> None:
        if self.apps.get(app.route) is app:
            del self.apps[app.route]
            self.send_to(app.route, protocol.RESET)
            self.events.emit(ev.RouteRemoved(app.route, app))

    def reset_route(self, route: str) -> None:
        self.send_to(route, protocol.RESET)
