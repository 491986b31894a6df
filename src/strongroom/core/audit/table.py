"""The audit device table and the checkpoint signing key, both kept in the barrier.

``core/audit`` holds the enabled devices (JSON list); each entry carries the
device's HMAC salt, which never leaves the server. ``core/audit-checkpoint-key``
holds the raw Ed25519 private key that signs checkpoints: made once, by
whichever process needs it first (a conditional write: concurrent creators
converge on one key), and never returned by any API.

Changes are read-modify-write cycles committed with a precondition on the table
as read, retried on conflict, so two workers enabling devices at once both land.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from strongroom.errors import InvalidRequest, StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import RandomBytes

TABLE_KEY = "core/audit"
SIGNING_KEY = "core/audit-checkpoint-key"
SALT_BYTES = 32


@dataclass
class DeviceEntry:
    """One enabled audit device. ``path`` ends in '/'; ``salt`` is secret and never listed."""

    path: str
    type: str
    uuid: str
    salt: bytes = field(repr=False)
    description: str = ""
    options: dict[str, str] = field(default_factory=dict)
    local: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "type": self.type, "uuid": self.uuid,
            "salt": base64.b64encode(self.salt).decode(),
            "description": self.description, "options": dict(self.options), "local": self.local,
        }

    @staticmethod
    def from_json(raw: dict[str, Any]) -> DeviceEntry:
        return DeviceEntry(
            path=str(raw["path"]), type=str(raw["type"]), uuid=str(raw["uuid"]),
            salt=base64.b64decode(raw["salt"]), description=str(raw.get("description", "")),
            options={str(k): str(v) for k, v in dict(raw.get("options") or {}).items()},
            local=bool(raw.get("local", False)),
        )


def normalize_path(path: str) -> str:
    """``"/file"`` -> ``"file/"``; refuses empty paths and dot segments."""
    cleaned = path.strip().strip("/")
    segments = cleaned.split("/")
    if not cleaned or any(seg in ("", ".", "..") for seg in segments):
        raise InvalidRequest("audit device path must be a non-empty path without '.' or '..' segments")
    return cleaned + "/"


class AuditTable:
    """Reads and changes the stored table; ``storage`` is the barrier."""

    def __init__(self, storage: StorageBackend, random_bytes: RandomBytes) -> None:
        self.storage = storage
        self.random_bytes = random_bytes

    async def read(self) -> list[DeviceEntry]:
        raw = await self.storage.get(TABLE_KEY)
        return [DeviceEntry.from_json(item) for item in orjson.loads(raw)] if raw else []

    async def add(self, make: Callable[[], DeviceEntry]) -> DeviceEntry:
        """Append the entry ``make()`` builds, unless its path overlaps an enabled device's (400)."""

        async def attempt() -> DeviceEntry:
            raw, version = await self.storage.get_with_version(TABLE_KEY)
            entries = [DeviceEntry.from_json(item) for item in orjson.loads(raw)] if raw else []
            entry = make()
            for other in entries:
                if entry.path.startswith(other.path) or other.path.startswith(entry.path):
                    raise InvalidRequest(f"path already in use at {other.path}")
            await self._commit([*entries, entry], version)
            return entry

        return await retry_on_conflict(attempt, random_bytes=self.random_bytes)

    async def remove(self, path: str) -> bool:
        """Remove the device at ``path``; False when there was none."""

        async def attempt() -> bool:
            raw, version = await self.storage.get_with_version(TABLE_KEY)
            entries = [DeviceEntry.from_json(item) for item in orjson.loads(raw)] if raw else []
            kept = [e for e in entries if e.path != path]
            if len(kept) == len(entries):
                return False
            await self._commit(kept, version)
            return True

        return await retry_on_conflict(attempt, random_bytes=self.random_bytes)

    async def _commit(self, entries: list[DeviceEntry], version: bytes | None) -> None:
        body = orjson.dumps([e.to_json() for e in entries])
        await self.storage.transaction([TxnOp(TABLE_KEY, body)], [Precondition(TABLE_KEY, version)])

    def new_salt(self) -> bytes:
        return self.random_bytes(SALT_BYTES)

    async def signing_key(self, *, create: bool) -> Ed25519PrivateKey | None:
        """The checkpoint key, made now if ``create`` and there is none yet."""
        raw = await self.storage.get(SIGNING_KEY)
        if raw is not None:
            return Ed25519PrivateKey.from_private_bytes(raw)
        if not create:
            return None
        fresh = Ed25519PrivateKey.from_private_bytes(self.random_bytes(32))
        body = fresh.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        try:
            await self.storage.transaction([TxnOp(SIGNING_KEY, body)], [Precondition(SIGNING_KEY, None)])
        except StorageConflict:
            raw = await self.storage.get(SIGNING_KEY)
            if raw is None:
                raise
            return Ed25519PrivateKey.from_private_bytes(raw)
        return fresh

