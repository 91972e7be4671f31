"""The one thing the session logic needs from a transport: send a text frame, close.

The tornado WebSocket is one adapter; a Jupyter comm or a test double is another, without touching the broker.
"""

from __future__ import annotations

from typing import Protocol


class Connection(Protocol):
    def send(self, text: str) -> None:
        """Queue one text frame; must not block and must not raise if the peer is gone."""

    def close(self) -> None:
        """Drop the peer."""
