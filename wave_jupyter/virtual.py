"""A browser tab without a browser: it speaks the Wave UI's frames to an app and keeps what comes back.

For teaching (see exactly what crosses the wire per click), for notebooks that must run top to bottom without a
person clicking, and for tests. It goes through the same broker as a real socket, so the app cannot tell.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from .app import App
from .pages import StoredPage, strings


class VirtualTab:
    """One Wave client of ``app``; ``frames`` holds every document received, ``page`` the page as the UI has it."""

    def __init__(self, app: App, hash: str = '', user: str | None = None) -> None:  # noqa: A002 - the UI's name
        """``user``: who is signed in (``q.auth.username`` and the key of ``q.user``); anonymous by default."""
        self.app = app
        self.frames: list[dict] = []
        self.page = StoredPage()
        self.closed = False
        broker = app.runtime.broker
        self.client = broker.connect(self, None, {'User-Agent': ['wave_jupyter.VirtualTab']})
        if user is not None:
            self.client.subject = self.client.username = user
        broker.receive(self.client, f'+ {app.route} {hash}')

    @property
    def id(self) -> str:
        return self.client.id

    # --- the Connection interface the broker writes to -----------------------------------------------------------

    def send(self, text: str) -> None:
        for line in text.split('\n'):
            doc = json.loads(line)
            self.frames.append(doc)
            if 'd' in doc:
                self.page.apply(doc['d'])
            elif 'p' in doc:
                self.page = StoredPage.from_dump(doc['p'])

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.app.runtime.broker.disconnected(self.client, self)

    # --- what a person does --------------------------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait until the app's handlers running now are done."""
        while self.app.tasks:
            await asyncio.gather(*list(self.app.tasks), return_exceptions=True)

    async def click(self, name: str | None = None, value: Any = True, **args: Any) -> list[dict]:
        """Push ``args`` (and ``name=value``, e.g. a button) as the UI does; returns the documents that came back."""
        if name is not None:
            args[name] = value
        if args:
            args.setdefault('__wave_submission_name__', name or next(iter(args)))
        start = len(self.frames)
        await self.settle()
        self.app.runtime.broker.receive(self.client, f'@ {self.app.route} {json.dumps(args)}')
        await self.settle()
        return self.frames[start:]

    async def emit(self, source: str, event: str, data: Any = True) -> list[dict]:
        """``wave.emit(source, event, data)``: an event, as tables, plots and scripts send them."""
        return await self.click(**{'': {source: {event: data}}, '__wave_submission_name__': source})

    def text(self) -> str:
        """Every string on the page, for quick checks: ``'Hello, Ada!' in tab.text()``."""
        return '\n'.join(strings(self.page.to_dict()))

    def __repr__(self) -> str:
        return f'<VirtualTab {self.app.route} client={self.id} frames={len(self.frames)}>'
