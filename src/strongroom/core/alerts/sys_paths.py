"""``sys/alerts``: recent alerts for operators. An ordinary sys path: the ACL decides who may read it.

``GET sys/alerts`` answers ``{"alerts": [...]}``, newest first, at most
``limit`` (default 100, at most the detector's history), optionally only one
``kind``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from strongroom.core.alerts.signals import KINDS
from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response

if TYPE_CHECKING:
    from strongroom.core.core import Core

MAX_LIMIT = 10_000


def alert_paths(core: Core) -> list[Path]:
    async def list_alerts(req: Request, f: FieldData) -> Response:
        kind = f.get("kind")
        if kind and kind not in KINDS:
            raise InvalidRequest(f"unknown alert kind; use one of {', '.join(sorted(KINDS))}")
        limit = f.get("limit")
        if not 0 < limit <= MAX_LIMIT:
            raise InvalidRequest(f"'limit' must be between 1 and {MAX_LIMIT}")
        alerts = await core.alert_feed.recent(kind=kind, limit=limit)
        return Response(data={"alerts": alerts})

    return [
        Path(
            "alerts/?",
            {Operation.READ: list_alerts},
            {"kind": Field(T.STRING, ""), "limit": Field(T.INT, 100)},
            help="Recent alerts raised by the built-in detector, newest first.",
        )
    ]
