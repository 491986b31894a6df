"""KV v2's storage layout, inside the mount's (encrypted, prefixed) storage view.

    config                  MountConfig as JSON (absent: all defaults)
    meta/<secret path>      SecretMeta as JSON, one entry per secret
    ver/<secret id>/<n>     the data of version n, exactly the JSON object written

Listing a folder is one ``list("meta/<folder>/")``. Every change to a secret is
a single storage transaction, so a version and the metadata that names it
appear (or disappear) together.

Every change is also conditional: it is read with :meth:`V2Store.meta_for_update`
(or :meth:`V2Store.config_for_update`), which returns a precondition on the
entry as read, and committed with it. If another worker process changed the
entry in between, storage refuses the whole transaction with StorageConflict
and the handler runs again on fresh data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strongroom.errors import InternalError
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

from ..common import decode_entry, encode_entry
from .meta_cache import MetaCache
from .model import MountConfig, SecretMeta

CONFIG_KEY = "config"
META_PREFIX = "meta/"
VERSION_PREFIX = "ver/"


class V2Store:
    """Typed access to one mount's KV v2 entries."""

    def __init__(self, storage: StorageBackend, meta_cache: MetaCache | None = None) -> None:
        self.storage = storage
        self._meta_cache = meta_cache

    async def config(self) -> MountConfig:
        raw = await self.storage.get(CONFIG_KEY)
        return MountConfig() if raw is None else MountConfig.from_json(decode_entry(raw))

    async def config_for_update(self) -> tuple[MountConfig, Precondition]:
        """The config and a precondition that it is still the one read."""
        raw, version = await self.storage.get_with_version(CONFIG_KEY)
        config = MountConfig() if raw is None else MountConfig.from_json(decode_entry(raw))
        return config, Precondition(CONFIG_KEY, version)

    async def save_config(self, config: MountConfig, guard: Precondition) -> None:
        await self.storage.transaction([TxnOp(CONFIG_KEY, encode_entry(config.to_json()))], [guard])

    async def meta(self, path: str) -> SecretMeta | None:
        """The secret's metadata (None: no such secret), for reading only: it may be shared.

        Served from the mount's :class:`MetaCache` while the store's revision is the
        one it was read at. The revision is taken before the read, so an entry is
        never filed under a revision older than what it was read from.
        """
        cache = self._meta_cache
        revision = self.storage.revision() if cache is not None else None
        if cache is not None and revision is not None:
            hit, meta = cache.lookup(revision, path)
            if hit:
                return meta
        raw = await self.storage.get(META_PREFIX + path)
        meta = None if raw is None else SecretMeta.from_json(decode_entry(raw))
        if cache is not None and revision is not None:
            cache.keep(revision, path, meta)
        return meta

    async def meta_for_update(self, path: str) -> tuple[SecretMeta | None, Precondition]:
        """The secret's metadata (None: no such secret) and a precondition that it is still as read."""
        raw, version = await self.storage.get_with_version(META_PREFIX + path)
        meta = None if raw is None else SecretMeta.from_json(decode_entry(raw))
        return meta, Precondition(META_PREFIX + path, version)

    async def version_data(self, meta: SecretMeta, number: int) -> dict[str, Any] | None:
        """The data of a version, or None when it is gone (pruned or destroyed since ``meta`` was read)."""
        raw = await self.storage.get(self._version_key(meta, number))
        if raw is None:
            return None
        data = decode_entry(raw)
        if not isinstance(data, dict):
            raise InternalError("a kv version entry is malformed")
        return data

    def put_meta(self, path: str, meta: SecretMeta) -> TxnOp:
        return TxnOp(META_PREFIX + path, encode_entry(meta.to_json()))

    @staticmethod
    def delete_meta(path: str) -> TxnOp:
        return TxnOp(META_PREFIX + path, None)

    def put_version(self, meta: SecretMeta, number: int, encoded_data: bytes) -> TxnOp:
        return TxnOp(self._version_key(meta, number), encoded_data)

    def delete_versions(self, meta: SecretMeta, numbers: Sequence[int]) -> list[TxnOp]:
        return [TxnOp(self._version_key(meta, number), None) for number in numbers]

    async def commit(self, ops: Sequence[TxnOp], guard: Precondition) -> None:
        """Apply ``ops`` in one transaction if ``guard`` (from ``meta_for_update``) holds; else StorageConflict."""
        await self.storage.transaction(ops, [guard])

    @staticmethod
    def _version_key(meta: SecretMeta, number: int) -> str:
        return f"{VERSION_PREFIX}{meta.id}/{number}"
