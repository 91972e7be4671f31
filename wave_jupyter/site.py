"""Sites and pages of the in-process server: ``q.site``, ``AsyncSite`` and the synchronous ``site`` of Wave scripts.

Pages re-use the SDK's op recording (``h2o_wave.core.PageBase``: ``page['x'] = card``, ``page['x'].content = ...``), so
the ops are exactly the SDK's. ``save()`` hands them straight to the server, with no HTTP hop; from another thread
the hand-off goes through the server's event loop.
"""

from __future__ import annotations

import os
from typing import Any

from h2o_wave.core import PageBase, ServiceError, marshal

from . import urls
from .runtime import Runtime


def _take_ops(page: PageBase) -> tuple[str, list] | None:
    """The ops recorded since the last save, as the wire batch and as objects; clears the page's record.

    This module is the one place that reads the SDK's private op record (``PageBase._changes``).
    """
    if not page._changes:
        return None
    ops = list(page._changes)
    page._changes.clear()
    return marshal({'d': ops}), ops


def discard_unsaved(page: PageBase) -> None:
    """Forget the ops recorded since the last save (the error card replaces whatever the handler was building)."""
    page._changes.clear()


class _Cache:
    """``q.site.cache``: a server-side key-value store (waved's ``_c/`` endpoints), kept in memory."""

    def __init__(self, shards: dict[str, dict[str, Any]]) -> None:
        self._shards = shards

    def get(self, shard: str, key: str, default: Any = None) -> Any:
        return self._shards.get(shard, {}).get(key, default)

    def keys(self, shard: str) -> list[str]:
        return list(self._shards.get(shard, {}))

    def set(self, shard: str, key: str, value: Any) -> None:
        if value is None:
            self._shards.get(shard, {}).pop(key, None)
        else:
            self._shards.setdefault(shard, {})[key] = value


class _AsyncCache(_Cache):
    async def get(self, shard: str, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return _Cache.get(self, shard, key, default)

    async def keys(self, shard: str) -> list[str]:  # type: ignore[override]
        return _Cache.keys(self, shard)

    async def set(self, shard: str, key: str, value: Any) -> None:  # type: ignore[override]
        _Cache.set(self, shard, key, value)


class _SiteBase:
    def __init__(self, runtime: Any = None) -> None:
        """``runtime``: a :class:`~.runtime.Runtime`, or anything that has one (a ``Server``). Without one, a
        subclass says whose (``process.ProcessSite``: the process's)."""
        self._runtime: Runtime | None = getattr(runtime, 'runtime', runtime)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise TypeError(f'{type(self).__name__}() needs a runtime or a server here: use wave_jupyter.site '
                            'or AsyncSite from wave_jupyter for the process\'s own')
        return self._runtime

    def _upload_url(self, relative: str) -> str:
        return urls.file_url(urls.files_base(self.runtime.base_url), relative)

    def _upload_path(self, url: str) -> str:
        """``<uuid>/<name>`` of a file URL as the browser sent it, whatever prefix a proxy put in front."""
        stored = urls.stored_of(url) if url.startswith('/') else None
        if stored is None:
            raise ServiceError(f'not an upload of this server: {url!r} (expected {self.runtime.base_url}_f/...)')
        return stored

    def _load(self, url: str) -> dict:
        dump = self.runtime.broker.pages.dump(url)
        if dump is None:
            raise ServiceError(f'Request failed (code=404): no page at {url}')
        return {'p': dump}

    def _upload(self, files: list[str]) -> list[str]:
        for f in files:
            if not os.path.isfile(f):
                raise ValueError(f'{f} is not a file')
        return [self._upload_url(p) for p in self.runtime.uploads.copy_in(files)]

    def _upload_dir(self, directory: str) -> list[str]:
        if not os.path.isdir(directory):
            raise ValueError(f'{directory} is not a directory')
        return [self._upload_url(self.runtime.uploads.copy_dir_in(directory))]

    def _download(self, url: str, path: str) -> str:
        source = self.runtime.uploads.resolve(self._upload_path(url))
        path = os.path.abspath(path)
        target = os.path.join(path, os.path.basename(url)) if os.path.isdir(path) else path
        with open(source, 'rb') as src, open(target, 'wb') as dst:
            dst.write(src.read())
        return target

    def _unload(self, url: str) -> None:
        self.runtime.uploads.delete(self._upload_path(url))

    @staticmethod
    def _unsupported(what: str) -> ServiceError:
        return ServiceError(f'{what} needs the real waved server; wave_jupyter does not serve it yet')


class AsyncPage(PageBase):
    """A page whose ``save()`` reaches every open browser of that page at once."""

    def __init__(self, site: AsyncSite, url: str, app_page: bool = False) -> None:
        self.site = site
        #: ``q.page``: an app's own page, which is never announced as a page of its own.
        self.app_page = app_page
        super().__init__(url)

    async def save(self) -> None:
        batch = _take_ops(self)
        if batch:
            self.site.runtime.publish(self.url, *batch, announce=not self.app_page)

    async def load(self) -> dict:
        return self.site._load(self.url)


class AsyncSite(_SiteBase):
    """The site of ``q.site``: pages by path, uploads and downloads, on this server."""

    def __getitem__(self, url: str) -> AsyncPage:
        return AsyncPage(self, url)

    def __delitem__(self, url: str) -> None:
        self.runtime.publish(url, marshal({'d': [{}]}), [{}])

    @property
    def cache(self) -> _AsyncCache:
        return _AsyncCache(self.runtime.cache)

    async def load(self, url: str) -> dict:
        return self._load(url)

    async def upload(self, files: list[str]) -> list[str]:
        return self._upload(files)

    async def upload_dir(self, directory: str) -> list[str]:
        return self._upload_dir(directory)

    async def download(self, url: str, path: str) -> str:
        return self._download(url, path)

    async def unload(self, url: str) -> None:
        self._unload(url)

    async def uplink(self, path: str, content_type: str, file: Any) -> str:
        raise self._unsupported('uplink')

    async def unlink(self, path: str) -> None:
        raise self._unsupported('unlink')

    async def proxy(self, method: str, url: str, headers: Any = None, body: Any = None) -> Any:
        raise self._unsupported('proxy')


class Page(PageBase):
    """The synchronous page of Wave scripts; ``save()`` may be called from any thread, even while the loop is busy."""

    def __init__(self, site: Site, url: str) -> None:
        self.site = site
        super().__init__(url)

    def save(self) -> None:
        batch = _take_ops(self)
        if batch:
            self.site.runtime.publish_threadsafe(self.url, *batch)

    def load(self) -> dict:
        return self.site.load(self.url)


class Site(_SiteBase):
    """The synchronous site (``from h2o_wave import site``) for scripts that write pages without an app."""

    def __getitem__(self, url: str) -> Page:
        return Page(self, url)

    def __delitem__(self, url: str) -> None:
        self.runtime.publish_threadsafe(url, marshal({'d': [{}]}), [{}])

    @property
    def cache(self) -> _Cache:
        return _Cache(self.runtime.cache)

    def load(self, url: str) -> dict:
        return self._load(url)

    def upload(self, files: list[str]) -> list[str]:
        return self._upload(files)

    def upload_dir(self, directory: str) -> list[str]:
        return self._upload_dir(directory)

    def download(self, url: str, path: str) -> str:
        return self._download(url, path)

    def unload(self, url: str) -> None:
        self._unload(url)

    def uplink(self, path: str, content_type: str, file: Any) -> str:
        raise self._unsupported('uplink')

    def unlink(self, path: str) -> None:
        raise self._unsupported('unlink')

