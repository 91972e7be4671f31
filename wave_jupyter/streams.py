"""Uplinked streams (``q.site.uplink``): an app in another process posts frames (a video's images, say) to a path, and
every browser that shows the path gets each new frame as the next part of one ``multipart/x-mixed-replace`` answer,
as waved serves them. Kept in memory: the latest frame of each stream, nothing older.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Frame:
    content_type: str
    data: bytes
    number: int


@dataclass
class Stream:
    latest: Frame | None = None
    closed: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def after(self, number: int) -> Frame | None:
        """The first frame newer than ``number``, once there is one; None once the stream ends."""
        while not self.closed and (self.latest is None or self.latest.number <= number):
            self.changed.clear()
            await self.changed.wait()
        return None if self.closed else self.latest


class Streams:
    """The streams of one runtime, by path (``demo/cam.jpeg``)."""

    def __init__(self) -> None:
        self._streams: dict[str, Stream] = {}

    def publish(self, path: str, content_type: str, data: bytes) -> None:
        stream = self._streams.setdefault(path, Stream())
        number = stream.latest.number + 1 if stream.latest else 1
        stream.latest = Frame(content_type, data, number)
        stream.changed.set()

    def get(self, path: str) -> Stream | None:
        return self._streams.get(path)

    def end(self, path: str) -> bool:
        """``q.site.unlink``: the stream's browsers get their answer's end. False if there was no such stream."""
        stream = self._streams.pop(path, None)
        if stream is None:
            return False
        stream.closed = True
        stream.changed.set()
        return True

    def end_all(self) -> None:
        for path in list(self._streams):
            self.end(path)
