"""Test Wave apps without a browser or a server: apps run in-process, tabs speak the Wave UI's frames to them.

    async def test_greeting(wave_test):               # the fixture of the pytest plugin (``.plugin``)
        wave_test.load('app.py')                      # an unmodified h2o_wave file: its @app mounts here
        tab = wave_test.tab('/demo')
        await tab.click('go', who='Ada')
        assert 'Hello, Ada!' in tab.card('out')['content']

A :class:`WaveTest` is a runtime of its own (no port, no global server): tests do not share apps or state.
Tabs go through the same broker as a browser's socket, so the app cannot tell them apart.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .. import urls
from ..app import App, Handler, mount
from ..files import exec_file, resolve
from ..runtime import Runtime
from ..state import Expando
from ..virtual import VirtualTab


class Tab(VirtualTab):
    """A browser tab on one app: click, upload, read what the page shows and the state behind it."""

    def card(self, name: str) -> dict:
        """The card ``name`` as the UI has it (its attributes; ``items`` of a form card included)."""
        cards = self.page.to_dict()
        if name not in cards:
            raise KeyError(f'no card {name!r} on {self.app.route} (cards: {", ".join(cards) or "none"})')
        return cards[name]

    async def upload(self, name: str, files: Mapping[str, bytes] | list[str | os.PathLike], **args: Any) -> list[dict]:
        """Upload ``files`` (``{filename: bytes}`` or local paths) through ``ui.file_upload(name=...)``: stored as a
        browser's upload is, then ``q.args[name]`` is the list of their paths, as after the UI's upload."""
        store = self.app.runtime.uploads
        paths = []
        for item in (files.items() if isinstance(files, Mapping) else [(None, f) for f in files]):
            filename, data = item
            key, folder = store.new_folder()
            if filename is None:
                source = Path(data)
                filename, data = source.name, source.read_bytes()
            (folder / os.path.basename(filename)).write_bytes(data)
            paths.append(urls.file_url(urls.files_base(self.app.runtime.base_url),
                                       f'{key}/{os.path.basename(filename)}'))
        return await self.click(name, paths, **args)

    @property
    def client_state(self) -> Expando:
        """This tab's ``q.client``."""
        return self.app.state.clients.setdefault(self.id, Expando())

    @property
    def user_state(self) -> Expando:
        """The ``q.user`` of this tab's user."""
        return self.app.state.users.setdefault(self.client.subject, Expando())

    @property
    def app_state(self) -> Expando:
        """The app's ``q.app``."""
        return self.app.state.app


class WaveTest:
    """Apps and tabs for one test, on the test's event loop."""

    def __init__(self, data_dir: str | None = None) -> None:
        self.runtime = Runtime(data_dir=data_dir, reconnect_timeout=0.1)
        self.tabs: list[Tab] = []

    @property
    def apps(self) -> dict[str, App]:
        return {r: a for r, a in self.runtime.apps.items() if isinstance(a, App)}

    def app(self, route: str, handler: Handler, mode: str | None = None, on_startup: Callable | None = None,
            on_shutdown: Callable | None = None) -> App:
        """Serve ``handler`` at ``route`` (a handler from the test module, or one imported from the app's code)."""
        self.runtime.bind()
        return mount(self.runtime, route, handler, mode, on_startup, on_shutdown)

    def load(self, target: str | os.PathLike) -> dict[str, App]:
        """Run a Wave app file (or module, ``pkg.app``) written for h2o_wave, unchanged; its apps mount here."""
        self.runtime.bind()
        exec_file(resolve(str(target)), mount=lambda *spec: self.app(*spec), runtime=self.runtime)
        return self.apps

    def tab(self, route: str | None = None, user: str | None = None, hash: str = '') -> Tab:  # noqa: A002
        """A new tab on ``route`` (the only app if omitted), signed in as ``user`` (anonymous by default)."""
        apps = self.apps
        if route is None:
            if len(apps) != 1:
                raise ValueError(f'say which app: {", ".join(apps) or "no app is served"}')
            route = next(iter(apps))
        if route not in apps:
            raise KeyError(f'no app at {route!r} (served: {", ".join(apps) or "none"})')
        tab = Tab(apps[route], hash=hash, user=user)
        self.tabs.append(tab)
        return tab

    async def start(self) -> None:
        """Wait until every app has started (its checkpoint restored, its ``on_startup`` done)."""
        while not all(a.running for a in self.apps.values()):
            await asyncio.sleep(0.005)

    async def aclose(self) -> None:
        """Close the tabs and stop the apps (their ``on_shutdown`` runs)."""
        for tab in self.tabs:
            tab.close()
        if self.runtime.loop is not None:
            await self.runtime.aclose()


__all__ = ['Tab', 'WaveTest']
