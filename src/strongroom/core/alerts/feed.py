"""Where ``sys/alerts`` reads recent alerts from: the detector's process, near or far.

A worker asks the supervisor (which runs the detector) over the private
channel; the single-process server reads its own service. A Core that nobody
wired a detector into (unit tests of other parts) has :class:`NoDetector`,
which says so instead of pretending the list is empty.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from strongroom.core.alerts.service import AlertService
from strongroom.errors import InternalError


class AlertFeed(Protocol):
    async def recent(self, *, kind: str = "", limit: int = 100) -> list[dict[str, Any]]:
        """The most recent alerts, newest first, as ``Alert.to_json()`` dicts."""


class NoDetector:
    async def recent(self, *, kind: str = "", limit: int = 100) -> list[dict[str, Any]]:
        raise InternalError("no alert detector runs in this server")


class LocalFeed:
    def __init__(self, service: AlertService) -> None:
        self._service = service

    async def recent(self, *, kind: str = "", limit: int = 100) -> list[dict[str, Any]]:
        return self._service.recent(kind=kind, limit=limit)


Call = Callable[[dict[str, Any]], Awaitable[Any]]


class RemoteFeed:
    """Asks the detector's process through ``call`` (a worker's ``channel.call("alerts_list", args)``)."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def recent(self, *, kind: str = "", limit: int = 100) -> list[dict[str, Any]]:
        result = await self._call({"kind": kind, "limit": limit})
        if not isinstance(result, list):
            raise InternalError("the alert detector answered with something that is not a list")
        return [item for item in result if isinstance(item, dict)]
