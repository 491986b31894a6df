"""One read-modify-write over identity records: every key read is a precondition of the commit.

Reads record the version token of each key (``None`` when absent); the commit writes
all changes in one storage transaction that holds only if none of those keys changed.
A key created here (an index entry) was read as absent first, so two processes
creating the same alias, name or index race on storage and exactly one commits; the
other gets :class:`StorageConflict` and its attempt runs again on fresh data.
"""

from __future__ import annotations

import json
from typing import Any

from strongroom.errors import InternalError, StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp


class Txn:
    def __init__(self, storage: StorageBackend) -> None:
        self._storage = storage
        self._versions: dict[str, bytes | None] = {}
        self._ops: dict[str, bytes | None] = {}

    async def read(self, key: str) -> Any | None:
        """The decoded JSON at ``key`` (None when absent), as this transaction will have seen it."""
        raw, version = await self._storage.get_with_version(key)
        if key in self._versions and self._versions[key] != version:
            # Another writer committed since this transaction first read the key: its view is no
            # longer one state. Retry on fresh data rather than decide (e.g. "name in use") on a mix.
            raise StorageConflict()
        self._versions.setdefault(key, version)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise InternalError("a stored identity record is unreadable") from None

    async def put(self, key: str, body: Any) -> None:
        if key not in self._versions:
            await self.read(key)
        self._ops[key] = json.dumps(body, sort_keys=True).encode()

    async def delete(self, key: str) -> None:
        if key not in self._versions:
            await self.read(key)
        self._ops[key] = None

    @property
    def changed(self) -> bool:
        return bool(self._ops)

    async def commit(self) -> None:
        if not self._ops:
            return
        await self._storage.transaction(
            [TxnOp(key, value) for key, value in self._ops.items()],
            [Precondition(key, version) for key, version in self._versions.items()],
        )
