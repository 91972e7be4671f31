"""``h2o_wave`` as a Wave file sees it here: the real SDK, with its server-facing names (``app``, ``listen``,
``main``, ``Q``, ``site``, ``AsyncSite``) bound to this package instead of to waved. Nothing else in the process is
patched: only the files run by :mod:`.files` get this module for ``import h2o_wave``.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import TYPE_CHECKING

from .app import Handler

if TYPE_CHECKING:
    from .runtime import Runtime

#: ``mount(route, handler, mode, on_startup, on_shutdown)``: where a file's apps go instead of the process's runtime.
Mount = Callable[[str, Handler, 'str | None', 'Callable | None', 'Callable | None'], object]


def h2o_wave_facade(mount: Mount | None = None, runtime: Runtime | None = None) -> types.ModuleType:
    """The module: with ``mount``, its ``@app`` and ``listen`` hand apps to it, else to the process (``listen``); with
    ``runtime``, its ``site`` and ``AsyncSite()`` are that runtime's pages, else the process's."""
    import h2o_wave

    from .process import ProcessAsyncSite, ProcessSite
    from .process import site as process_site
    from .query import Auth, Query
    from .runner import app, listen
    from .site import AsyncPage, Page
    facade = types.ModuleType('h2o_wave', h2o_wave.__doc__)
    facade.__dict__.update({k: v for k, v in vars(h2o_wave).items() if not k.startswith('__')})
    class AsyncSite(ProcessAsyncSite):
        def __init__(self, given: object = None) -> None:  # AsyncSite() in the file: this facade's pages
            super().__init__(given if given is not None else runtime)

    class Site(ProcessSite):
        def __init__(self, given: object = None) -> None:
            super().__init__(given if given is not None else runtime)

    facade.__dict__.update(
        app=app, listen=listen, main=_Main(), Q=Query, Query=Query, Auth=Auth,
        site=Site() if runtime is not None else process_site, Site=Site, AsyncSite=AsyncSite,
        Page=Page, AsyncPage=AsyncPage,
    )
    if mount is not None:
        def mounted_app(route: str, mode: str | None = None, on_startup: Callable | None = None,
                        on_shutdown: Callable | None = None) -> Callable[[Handler], Handler]:
            def wrap(handle: Handler) -> Handler:
                mount(route, handle, mode, on_startup, on_shutdown)
                return handle
            return wrap

        def mounted_listen(route: str, handle: Handler, mode: str | None = None, **_: object) -> None:
            mount(route, handle, mode, None, None)

        facade.__dict__.update(app=mounted_app, listen=mounted_listen)
    facade.__path__ = h2o_wave.__path__  # so "import h2o_wave.ui" still resolves submodules

    def submodule(name: str) -> types.ModuleType:
        """``from h2o_wave import graphics``: submodules the package itself never imports."""
        try:
            return importlib.import_module(f'h2o_wave.{name}')
        except ModuleNotFoundError:
            raise AttributeError(f"module 'h2o_wave' has no attribute {name!r}") from None

    facade.__getattr__ = submodule  # type: ignore[method-assign]
    return facade


class _Main:
    """Stands in for ``h2o_wave.main`` (an ASGI entry point that has nothing to do here)."""

    def __repr__(self) -> str:
        return '<wave_jupyter: h2o_wave.main is not needed; apps are served in-process>'
