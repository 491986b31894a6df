"""``sys/audit``, ``sys/audit/:path`` and ``sys/audit-hash/:path``, merged into the ``sys/`` backend.

``SystemBackend.paths()`` imports this module when it builds its table (this
module uses the ``sys/`` backend's answer shapes, so the import goes that way).

As in Vault, all three need ``sudo`` on top of the path's capability
(:data:`SUDO_PATHS`). Enabling or disabling a device bumps the storage
generation, so every worker starts or stops it before its next request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from strongroom.core.audit.broker import Auditor
from strongroom.core.sys_backend import legacy_response
from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response

if TYPE_CHECKING:
    from strongroom.core.core import Core

SUDO_PATHS = ["audit", "audit/.+", "audit-hash/.+"]

_ENABLE_FIELDS = {
    "type": Field(T.STRING),
    "description": Field(T.STRING, ""),
    "options": Field(T.MAP, {}),
    "local": Field(T.BOOL, False),
}


def audit_paths(core: Core) -> list[Path]:
    """The paths, bound to ``core`` (whose ``audit`` must be an :class:`Auditor` for them to work)."""
    R, U, D = Operation.READ, Operation.UPDATE, Operation.DELETE

    def auditor() -> Auditor:
        if not isinstance(core.audit, Auditor):
            raise InvalidRequest("audit devices are not available on this server")
        return core.audit

    async def list_devices(req: Request, _: FieldData) -> Response:
        devices = await auditor().listing()
        return legacy_response(devices, req.request_id)

    async def enable(req: Request, f: FieldData) -> None:
        type_name = f.get("type")
        if not type_name:
            raise InvalidRequest("field 'type' is required")
        options = f.get("options") or {}
        if not isinstance(options, dict):
            raise InvalidRequest("field 'options' must be a map of strings")
        await auditor().enable(f.get("path"), type_name, description=f.get("description"),
                               options=options, local=f.get("local"))
        await core.bump_generation()

    async def disable(req: Request, f: FieldData) -> None:
        if await auditor().disable(f.get("path")):
            await core.bump_generation()

    async def audit_hash(req: Request, f: FieldData) -> Response:
        value = f.get("input")
        if not isinstance(value, str):
            raise InvalidRequest("field 'input' is required")
        return legacy_response({"hash": auditor().hash(f.get("path"), value)}, req.request_id)

    return [
        Path("audit/?", {R: list_devices}, help="list the enabled audit devices"),
        Path("audit/(?P<path>.+)", {U: enable, D: disable}, _ENABLE_FIELDS, help="enable or disable an audit device"),
        Path("audit-hash/(?P<path>.+)", {U: audit_hash}, {"input": Field(T.STRING)},
             help="the HMAC an audit device writes for a value"),
    ]

