"""KV v2 ``data/:path`` (read, write, patch, delete of the latest version) and ``subkeys/:path``."""

from __future__ import annotations

from typing import Any

from strongroom.errors import CheckAndSetMismatch, InvalidRequest, NotFound, StorageConflict
from strongroom.sdk.fields import FieldData, FieldType, coerce
from strongroom.sdk.logical import TAG_CANARY, Operation, Request, Response
from strongroom.sdk.storage import Precondition, TxnOp

from ..common import encode_entry, is_secret_path, lookup_path, secret_path
from ..merge_patch import merge_patch
from .engine import EarlyRead, Engine
from .model import MountConfig, SecretMeta, VersionMeta
from .store import V2Store


def check_and_set(fd: FieldData, config: MountConfig, meta: SecretMeta | None) -> None:
    """Enforce ``options.cas``: it must equal the current version (0: the secret has no version yet).

    Without it the write is refused when the mount or the secret has ``cas_required``.
    """
    options = fd.get("options") or {}
    raw = options.get("cas")
    current = meta.current_version if meta is not None else 0
    if raw is not None:
        try:
            cas = coerce(FieldType.INT, raw, "cas")
        except InvalidRequest:
            raise InvalidRequest("error parsing check-and-set parameter") from None
        if cas != current:
            raise CheckAndSetMismatch()
    elif config.cas_required or (meta is not None and meta.cas_required):
        raise InvalidRequest("check-and-set parameter required for this call")


def subkeys(data: dict[str, Any], max_depth: int, depth: int = 1) -> dict[str, Any]:
    """The structure of ``data`` with every leaf replaced by None; 0 means no depth limit.

    An object at ``max_depth``, and any empty object, counts as a leaf (as Vault).
    """
    result: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value and (max_depth == 0 or depth < max_depth):
            result[key] = subkeys(value, max_depth, depth + 1)
        else:
            result[key] = None
    return result


async def commit_new_version(
    store: V2Store,
    path: str,
    meta: SecretMeta,
    guard: Precondition,
    *,
    config: MountConfig,
    encoded: bytes,
    now: int,
) -> None:
    """Add a version holding ``encoded`` and drop what max_versions pushes out, in one transaction.

    ``guard`` is the precondition from reading ``meta``: StorageConflict if it changed since.
    """
    dropped = meta.add_version(now, config)
    ops = [store.put_version(meta, meta.current_version, encoded), store.put_meta(path, meta)]
    ops.extend(store.delete_versions(meta, dropped))
    await store.commit(ops, guard)


class DataHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def exists(self, req: Request, fd: FieldData) -> bool:
        path = fd.get("path")
        if not is_secret_path(path):
            return False
        store = self.engine.store(req)
        if req.operation is not Operation.UPDATE:
            return await store.meta(path) is not None
        # The core asks before a write: what is read here (with its precondition) can
        # serve the write's first attempt, which saves reading the metadata twice.
        meta, guard = await store.meta_for_update(path)
        self.engine.keep_early_read(req, path, meta, guard)
        return meta is not None

    async def read(self, req: Request, fd: FieldData) -> Response:
        """The latest version, or ``version``. A deleted or destroyed one: 404 carrying its metadata."""
        store = self.engine.store(req)
        meta, number, version = await self._locate(store, fd)
        body: dict[str, Any] = {"data": None, "metadata": meta.version_view(number)}
        if not version.is_readable(self.engine.now()):
            return Response(data=body, status=404)
        data = await store.version_data(meta, number)
        if data is None:  # destroyed or pruned by a writer since the metadata was read
            raise NotFound()
        body["data"] = data
        response = Response(data=body)
        if (meta.custom_metadata or {}).get("canary", "").strip().lower() == "true":
            # A honeytoken: no one has a reason to read it, so the core's alert detector hears of it.
            response.tags[TAG_CANARY] = "true"
        return response

    async def write(self, req: Request, fd: FieldData) -> Response:
        path = secret_path(fd.get("path"))
        if not fd.has("data"):
            raise InvalidRequest("no data provided")
        encoded = encode_entry(fd.get("data"))
        store = self.engine.store(req)

        async def attempt(early: EarlyRead | None = None) -> SecretMeta:
            config = await store.config()
            meta, guard = (early.meta, early.guard) if early is not None else await store.meta_for_update(path)
            check_and_set(fd, config, meta)
            now = self.engine.now()
            meta = meta if meta is not None else self.engine.new_meta(now)
            await commit_new_version(store, path, meta, guard, config=config, encoded=encoded, now=now)
            return meta

        async with self.engine.locks.for_key(path):
            early = self.engine.take_early_read(req, path)
            try:
                # Committed only if the metadata is still as the existence check read it.
                meta = await attempt(early) if early is not None else None
            except (StorageConflict, InvalidRequest):
                # Stale, or refused on what may be stale (check-and-set): decide again on fresh data.
                meta = None
            if meta is None:
                meta = await self.engine.retry_on_conflict(attempt)
        self.engine.publish(req, "data-write", path, meta)
        return Response(data=meta.version_view(meta.current_version))

    async def patch(self, req: Request, fd: FieldData) -> Response:
        """JSON merge patch of the latest version into a new version. 404 if missing, deleted or destroyed."""
        path = lookup_path(fd.get("path"))
        if path is None:
            raise NotFound()
        if not fd.has("data"):
            raise InvalidRequest("no data provided")
        changes = fd.get("data")
        store = self.engine.store(req)

        async def attempt() -> Response:
            meta, guard = await store.meta_for_update(path)
            if meta is None:
                raise NotFound()
            config = await store.config()
            check_and_set(fd, config, meta)
            number = meta.current_version
            version = meta.versions.get(number)
            if version is None:
                raise NotFound()
            now = self.engine.now()
            if not version.is_readable(now):
                return Response(data=meta.version_view(number), status=404)
            current = await store.version_data(meta, number)
            if current is None:
                raise NotFound()
            try:
                merged = merge_patch(current, changes)
            except RecursionError:
                raise InvalidRequest("the patch is nested too deeply") from None
            encoded = encode_entry(merged)
            await commit_new_version(store, path, meta, guard, config=config, encoded=encoded, now=now)
            self.engine.publish(req, "data-patch", path, meta)
            return Response(data=meta.version_view(meta.current_version))

        async with self.engine.locks.for_key(path):
            return await self.engine.retry_on_conflict(attempt)

    async def delete(self, req: Request, fd: FieldData) -> None:
        """Soft-delete the latest version. Nothing there, or already gone: still 204 (as Vault)."""

        async def change(path: str, meta: SecretMeta, store: V2Store) -> list[TxnOp]:
            version = meta.versions.get(meta.current_version)
            now = self.engine.now()
            if version is None or not version.is_readable(now):
                return []
            version.deletion_ns = now
            return [store.put_meta(path, meta)]

        await self.engine.change_existing(req, fd.get("path"), change, event="data-delete")

    async def subkeys(self, req: Request, fd: FieldData) -> Response:
        """The keys of a version's data with values replaced by null, down to ``depth`` (0: all)."""
        depth = fd.get("depth") or 0
        if depth < 0:
            raise InvalidRequest("depth must be zero or a positive integer")
        store = self.engine.store(req)
        meta, number, version = await self._locate(store, fd)
        body: dict[str, Any] = {"subkeys": None, "metadata": meta.version_view(number)}
        if not version.is_readable(self.engine.now()):
            return Response(data=body, status=404)
        data = await store.version_data(meta, number)
        if data is None:
            raise NotFound()
        body["subkeys"] = subkeys(data, depth)
        return Response(data=body)

    @staticmethod
    async def _locate(store: V2Store, fd: FieldData) -> tuple[SecretMeta, int, VersionMeta]:
        """The secret and the version a read asks for (``version``, else the latest), or NotFound."""
        path = lookup_path(fd.get("path"))
        meta = None if path is None else await store.meta(path)
        if meta is None:
            raise NotFound()
        requested = fd.get("version") or 0
        number = requested if requested > 0 else meta.current_version
        version = meta.versions.get(number)
        if version is None:
            raise NotFound()
        return meta, number, version
