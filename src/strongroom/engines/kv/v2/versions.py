"""KV v2 ``delete/:path``, ``undelete/:path`` and ``destroy/:path``: act on listed versions.

Each answers 204. Version numbers that do not exist (or, for delete and
undelete, are destroyed) are skipped without error, as in Vault; a secret
that does not exist is not an error either.
"""

from __future__ import annotations

from typing import Any

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import FieldData, FieldType, coerce
from strongroom.sdk.logical import Request
from strongroom.sdk.storage import TxnOp

from .engine import Engine
from .model import SecretMeta
from .store import V2Store


def parse_versions(raw: Any) -> list[int]:
    """Version numbers from a JSON list, a single number, or a comma-separated string; at least one."""
    if isinstance(raw, str):
        items: list[Any] = [part for part in (piece.strip() for piece in raw.split(",")) if part]
    elif isinstance(raw, list):
        items = raw
    elif raw is None:
        items = []
    else:
        items = [raw]
    versions = [coerce(FieldType.INT, item, "versions") for item in items]
    if not versions:
        raise InvalidRequest("no version number provided")
    return versions


class VersionHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def delete(self, req: Request, fd: FieldData) -> None:
        """Soft-delete: set ``deletion_time`` to now on each live version listed."""
        numbers = parse_versions(fd.get("versions"))

        async def change(path: str, meta: SecretMeta, store: V2Store) -> list[TxnOp]:
            now = self.engine.now()
            for number in numbers:
                version = meta.versions.get(number)
                if version is not None and version.is_readable(now):
                    version.deletion_ns = now
            return [store.put_meta(path, meta)]

        await self.engine.change_existing(req, fd.get("path"), change, event="delete")

    async def undelete(self, req: Request, fd: FieldData) -> None:
        """Clear the deletion of each listed version that is not destroyed.

        With a delete_version_after in force the version gets a fresh period
        from now, so it is not hidden again at once by its old deadline.
        """
        numbers = parse_versions(fd.get("versions"))

        async def change(path: str, meta: SecretMeta, store: V2Store) -> list[TxnOp]:
            config = await store.config()
            now = self.engine.now()
            for number in numbers:
                version = meta.versions.get(number)
                if version is not None and not version.destroyed:
                    version.deletion_ns = meta.undelete_deadline(now, config)
            return [store.put_meta(path, meta)]

        await self.engine.change_existing(req, fd.get("path"), change, event="undelete")

    async def destroy(self, req: Request, fd: FieldData) -> None:
        """Remove the data of each listed version for good; its metadata stays, marked ``destroyed``."""
        numbers = parse_versions(fd.get("versions"))

        async def change(path: str, meta: SecretMeta, store: V2Store) -> list[TxnOp]:
            present = [number for number in numbers if number in meta.versions]
            for number in present:
                meta.versions[number].destroyed = True
            return [store.put_meta(path, meta), *store.delete_versions(meta, present)]

        await self.engine.change_existing(req, fd.get("path"), change, event="destroy")
