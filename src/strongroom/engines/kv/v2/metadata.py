"""KV v2 ``metadata/:path``: read, write, patch and delete a secret's metadata; LIST and SCAN folders."""

from __future__ import annotations

from typing import Any

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request, Response
from strongroom.sdk.storage import TxnOp

from ..common import folder_prefix, is_secret_path, lookup_path, pagination, secret_path
from ..listing import list_page, scan_page
from ..merge_patch import merge_patch
from . import custom_metadata
from .engine import Engine
from .model import MountConfig, SecretMeta
from .store import META_PREFIX, V2Store

#: The settings a metadata write or patch may change.
SETTINGS = ("max_versions", "cas_required", "delete_version_after", "custom_metadata")

_CAS_WARNING = '"cas_required" set to false, but is mandated by backend config. This value will be ignored.'


def _max_versions(fd: FieldData) -> int:
    value: int = fd.get("max_versions") or 0
    if value < 0:
        raise InvalidRequest("max_versions must be zero or a positive integer")
    return value


def _warnings(fd: FieldData, config: MountConfig) -> list[str]:
    if fd.has("cas_required") and config.cas_required and not fd.get("cas_required"):
        return [_CAS_WARNING]
    return []


def _strings(parsed: dict[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in parsed.items() if value is not None}


class MetadataHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def exists(self, req: Request, fd: FieldData) -> bool:
        path = fd.get("path")
        return is_secret_path(path) and await self.engine.store(req).meta(path) is not None

    async def read(self, req: Request, fd: FieldData) -> Response:
        path = lookup_path(fd.get("path"))
        meta = None if path is None else await self.engine.store(req).meta(path)
        if meta is None:
            raise NotFound()
        return Response(data=meta.metadata_view())

    async def write(self, req: Request, fd: FieldData) -> Response | None:
        """Set the settings present in the request (others keep their value); creates the metadata.

        A request with none of the settings changes nothing, not even creating
        the metadata (as Vault). ``custom_metadata`` replaces the whole map.
        """
        path = secret_path(fd.get("path"))
        if not any(fd.has(name) for name in SETTINGS):
            return None
        custom: dict[str, str] | None = None
        if fd.has("custom_metadata"):
            custom = _strings(custom_metadata.parse(fd.get("custom_metadata"), allow_null=False))
            custom_metadata.validate(custom)
        max_versions = _max_versions(fd)
        store = self.engine.store(req)

        async def attempt() -> MountConfig:
            config = await store.config()
            now = self.engine.now()
            meta, guard = await store.meta_for_update(path)
            meta = meta or self.engine.new_meta(now)
            if fd.has("max_versions"):
                meta.max_versions = max_versions
            if fd.has("cas_required"):
                meta.cas_required = fd.get("cas_required")
            if fd.has("delete_version_after"):
                meta.delete_version_after = fd.get("delete_version_after")
            if custom is not None:
                meta.custom_metadata = custom or None
            await store.commit([store.put_meta(path, meta)], guard)
            return config

        async with self.engine.locks.for_key(path):
            config = await self.engine.retry_on_conflict(attempt)
        self.engine.publish(req, "metadata-write", path)
        warnings = _warnings(fd, config)
        return Response(warnings=warnings) if warnings else None

    async def patch(self, req: Request, fd: FieldData) -> Response | None:
        """JSON merge patch of the settings; the metadata must exist (404 otherwise).

        ``null`` resets a setting to its default; inside ``custom_metadata`` it
        removes that key, and the merged map must still meet the limits.
        """
        present = [name for name in SETTINGS if name in fd.raw]
        if not present:
            return None
        path = lookup_path(fd.get("path"))
        if path is None:
            raise NotFound()
        custom_patch: dict[str, str | None] | None = None
        if fd.has("custom_metadata"):
            custom_patch = custom_metadata.parse(fd.get("custom_metadata"), allow_null=True)
            custom_metadata.validate(_strings(custom_patch))
        max_versions = _max_versions(fd)
        store = self.engine.store(req)

        async def attempt() -> MountConfig:
            meta, guard = await store.meta_for_update(path)
            if meta is None:
                raise NotFound()
            config = await store.config()
            if "max_versions" in present:
                meta.max_versions = max_versions
            if "cas_required" in present:
                meta.cas_required = bool(fd.get("cas_required"))
            if "delete_version_after" in present:
                meta.delete_version_after = fd.get("delete_version_after") or 0
            if "custom_metadata" in present:
                meta.custom_metadata = self._patched_custom(meta, custom_patch)
            await store.commit([store.put_meta(path, meta)], guard)
            return config

        async with self.engine.locks.for_key(path):
            config = await self.engine.retry_on_conflict(attempt)
        self.engine.publish(req, "metadata-patch", path)
        warnings = _warnings(fd, config)
        return Response(warnings=warnings) if warnings else None

    @staticmethod
    def _patched_custom(meta: SecretMeta, patch: dict[str, str | None] | None) -> dict[str, str] | None:
        if patch is None:  # "custom_metadata": null drops the whole map
            return None
        merged: Any = merge_patch(meta.custom_metadata or {}, patch)
        custom_metadata.validate(merged)
        return dict(merged) or None

    async def delete(self, req: Request, fd: FieldData) -> None:
        """Remove the metadata and every version, for good. A missing secret is not an error."""

        async def change(path: str, meta: SecretMeta, store: V2Store) -> list[TxnOp]:
            # Conditional, so a version another worker adds meanwhile is deleted too, not orphaned.
            return [store.delete_meta(path), *store.delete_versions(meta, list(meta.versions))]

        await self.engine.change_existing(req, fd.get("path"), change, event="metadata-delete")

    async def list(self, req: Request, fd: FieldData) -> Response:
        """Immediate children of a folder (secrets, and sub-folders ending in '/'), paginated."""
        after, limit = pagination(fd)
        storage = self.engine.store(req).storage
        keys = await list_page(storage, META_PREFIX + folder_prefix(fd.get("path")), after, limit)
        if not keys:
            raise NotFound()
        return Response.list_of(keys)

    async def scan(self, req: Request, fd: FieldData) -> Response:
        """Every secret below a folder, recursively, as paths relative to it; paginated."""
        after, limit = pagination(fd)
        storage = self.engine.store(req).storage
        keys = await scan_page(storage, META_PREFIX + folder_prefix(fd.get("path")), after, limit)
        if not keys:
            raise NotFound()
        return Response.list_of(keys)
