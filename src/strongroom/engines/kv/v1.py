"""KV version 1: an unversioned map from path to a JSON object, as Vault's ``kv`` with ``version=1``.

Storage layout (inside the mount's barrier view): ``kv/<path>`` holds the JSON
object exactly as written. Listing a folder is one storage ``list`` of
``kv/<folder>/``.

Vault compatibility notes: a write stores the whole request body (any keys) and
answers 204; a read answers the stored object. When the object carries a
``ttl`` (or the legacy ``lease``) key that parses as a duration, the read says
so as a non-renewable lease hint; otherwise the hint is the mount's default
lease TTL, as Vault sends it (clients use it as a refresh interval).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import Field, FieldData, FieldType, parse_duration
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import BackendContext, LeaseOptions, Operation, Request, Response
from strongroom.sdk.storage import StorageBackend

from .common import (
    decode_entry,
    encode_entry,
    folder_prefix,
    is_secret_path,
    lookup_path,
    pagination,
    request_storage,
    secret_path,
)
from .listing import list_page, scan_page

PREFIX = "kv/"

_LIST_FIELDS = {
    "after": Field(FieldType.STRING, default="", description="List only entries that sort after this one."),
    "limit": Field(FieldType.INT, default=0, description="Return at most this many entries (0: all)."),
}


class KVv1:
    """The request handlers and path table of a version 1 mount."""

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx

    def paths(self) -> Sequence[Path]:
        return [
            Path(
                # No named group: a capture would be merged into the body and
                # shadow a secret field that happens to be called "path".
                pattern=".*",
                operations={
                    Operation.READ: self.read,
                    Operation.UPDATE: self.write,
                    Operation.DELETE: self.delete,
                    Operation.LIST: self.list,
                    Operation.SCAN: self.scan,
                },
                fields=_LIST_FIELDS,
                existence=self.exists,
                raw_data=True,
                help="Read, write, delete and list arbitrary JSON objects (KV version 1).",
            )
        ]

    def _storage(self, req: Request) -> StorageBackend:
        return request_storage(req, self.ctx.storage)

    async def exists(self, req: Request, fd: FieldData) -> bool:
        if not is_secret_path(req.path):
            return False
        return await self._storage(req).get(PREFIX + req.path) is not None

    async def read(self, req: Request, fd: FieldData) -> Response:
        path = lookup_path(req.path)
        raw = None if path is None else await self._storage(req).get(PREFIX + path)
        if raw is None:
            raise NotFound()
        data = decode_entry(raw)
        ttl = _ttl_hint(data)
        if ttl is None:
            ttl = self.ctx.system.default_lease_ttl
        return Response(data=data, secret=LeaseOptions(ttl=ttl, renewable=False))

    async def write(self, req: Request, fd: FieldData) -> None:
        path = secret_path(req.path)
        if not isinstance(req.data, dict) or not req.data:
            raise InvalidRequest("missing data fields")
        await self._storage(req).put(PREFIX + path, encode_entry(req.data))
        self._publish(req, "write", path)

    async def delete(self, req: Request, fd: FieldData) -> None:
        path = lookup_path(req.path)
        if path is not None:
            await self._storage(req).delete(PREFIX + path)
            self._publish(req, "delete", path)

    def _publish(self, req: Request, operation: str, path: str) -> None:
        """Vault's ``kv-v1/<operation>`` event (names only, never a value)."""
        full = req.mount_point + path
        self.ctx.system.publish_event(
            f"kv-v1/{operation}", full, {"path": full, "data_path": full, "operation": operation, "modified": True}
        )

    async def list(self, req: Request, fd: FieldData) -> Response:
        after, limit = pagination(fd)
        keys = await list_page(self._storage(req), PREFIX + folder_prefix(req.path), after, limit)
        if not keys:
            raise NotFound()
        return Response.list_of(keys)

    async def scan(self, req: Request, fd: FieldData) -> Response:
        after, limit = pagination(fd)
        keys = await scan_page(self._storage(req), PREFIX + folder_prefix(req.path), after, limit)
        if not keys:
            raise NotFound()
        return Response.list_of(keys)


def _ttl_hint(data: Any) -> int | None:
    """Seconds from the object's ``ttl`` (or ``lease``) key; None when absent or not a duration (as Vault)."""
    if not isinstance(data, dict):
        return None
    raw = data.get("ttl", data.get("lease"))
    if raw is None:
        return None
    try:
        return parse_duration(raw, "ttl")
    except InvalidRequest:
        return None
