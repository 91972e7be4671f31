"""An app in another process: an h2o_wave app that registered itself through the hub API (``wave run``, uvicorn).

To the broker it is an app like ours (``broker.AppLike``); its queries are forwarded over HTTP, as waved forwards
them: ``POST {address}/`` with the app's key pair, the tab's ids in ``Wave-*`` headers and ``{"data": args}`` (plus
the tab's headers on its first query), one request at a time per tab, in order. Its pages come back to us as
``PATCH``es to the hub. An app that stops answering is dropped: its tabs get ``{"r":1}`` and find it gone, or find it
again when it registers anew.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httpx

from . import protocol
from .security import KeyPair

if TYPE_CHECKING:
    from .broker import Client
    from .runtime import Runtime

log = logging.getLogger('wave_jupyter')

#: What waved sends an app when a tab is gone for good, before ``/disconnect`` (the SDK turns it into an event).
DISCONNECT = '{"data": {"":{"@system":{"client_disconnect":true}}}}'
#: Seconds an app has to take a query (it answers at once and runs the handler afterwards).
TIMEOUT = 10.0
#: Seconds a new app may refuse connections: h2o_wave registers before uvicorn listens, and a tab that reloads into
#: the app at once may come first.
STARTING = 5.0


class RemoteApp:
    """The app at ``route`` that another process serves at ``address`` (``key`` is what it expects from us)."""

    def __init__(self, runtime: Runtime, route: str, mode: str, address: str, key: KeyPair) -> None:
        self.runtime = runtime
        self.route = route
        self.mode = mode
        self.address = address.rstrip('/')
        self.key = key
        self._http: httpx.AsyncClient | None = None
        #: The last request of each tab: the next one waits for it (a tab's queries reach the app in order).
        self._last: dict[str, asyncio.Task] = {}
        self._booted: set[str] = set()
        self.dropped = False
        #: It has answered once: from then on a refused connection means it is gone.
        self.answered = False
        #: Connections it refused while starting.
        self.refused = 0
        self._registered = asyncio.get_running_loop().time()

    def __repr__(self) -> str:
        return f'<RemoteApp {self.route} at {self.address}>'

    def submit(self, client: Client, args: dict, events: dict | None) -> asyncio.Task:
        data: dict[str, Any] = dict(args)
        if events:
            data[''] = events
        body: dict[str, Any] = {'data': data}
        if client.id not in self._booted:  # waved forwards a tab's headers once, with its first query
            self._booted.add(client.id)
            body['headers'] = client.headers
        headers = {'Content-Type': 'application/json; charset=utf-8', 'Wave-Client-Id': client.id,
                   'Wave-Subject-Id': client.subject, 'Wave-Username': client.username}
        return self._after(client.id, '/', protocol.dumps(body), headers)

    def client_gone(self, client: Client) -> None:
        self._booted.discard(client.id)
        headers = {'Content-Type': 'application/json; charset=utf-8', 'Wave-Client-Id': client.id,
                   'Wave-Subject-Id': client.subject, 'Wave-Username': client.username}
        self._after(client.id, '/', DISCONNECT, headers)
        self._after(client.id, '/disconnect', '', {'Wave-Client-Id': client.id}, last=True)

    def _after(self, client_id: str, path: str, body: str, headers: dict[str, str], last: bool = False
               ) -> asyncio.Task:
        before = self._last.get(client_id)
        task = self.runtime.spawn(self._post(before, path, body, headers))
        if last:
            self._last.pop(client_id, None)
        else:
            self._last[client_id] = task
            task.add_done_callback(lambda t: self._last.get(client_id) is t and self._last.pop(client_id))
        return task

    async def _post(self, before: asyncio.Task | None, path: str, body: str, headers: dict[str, str]) -> None:
        if before is not None:
            await asyncio.wait([before])
        if self.dropped:
            return
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=TIMEOUT)
        loop = asyncio.get_running_loop()
        while True:
            try:
                reply = await self._http.post(self.address + path, content=body.encode(),
                                              headers={**headers, 'Authorization': self.key.header()})
                break
            except httpx.ConnectError as e:
                if self.answered or loop.time() - self._registered > STARTING or self.dropped:
                    self.drop(f'it did not answer ({type(e).__name__}: {e})')
                    return
                self.refused += 1
                await asyncio.sleep(0.1)  # still starting
            except httpx.HTTPError as e:
                self.drop(f'it did not answer ({type(e).__name__}: {e})')
                return
        self.answered = True
        if reply.status_code != 200:
            self.drop(f'it answered {reply.status_code} {reply.reason_phrase}')

    def drop(self, reason: str) -> None:
        """Forget the app: its tabs reload (``{"r":1}``) and see the route empty until it registers again."""
        if self.dropped:
            return
        self.dropped = True
        log.warning('wave_jupyter: dropped the app at %s (%s): %s', self.route, self.address, reason)
        self.runtime.unregister(self)
        self.runtime.spawn(self.shutdown())

    async def shutdown(self) -> None:
        self.dropped = True
        for task in list(self._last.values()):
            task.cancel()
        self._last.clear()
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()
