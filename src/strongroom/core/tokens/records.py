"""How token records are laid out in storage. Only the token store uses this.

Inside the view the core hands over (``sys/token/`` behind the barrier)::

    salt                              32 random bytes, generated once
    id/<H(token)>                     the TokenEntry (JSON)
    accessor/<H(accessor)>            {"accessor": ..., "token": H(token)}
    parent/<H(parent)>/<H(child)>     the parent -> children index
    lease/<token path>/<H(token)>     the token's lease (tokens that expire): LIST sys/leases/lookup
    due/<hour>/<minute>/<hex H(token)>  the expiry index the expiry loop reads (``core.leases.schedule``)

The two lease entries are written and moved in the same transactions as the
token entry itself, so a token that expires costs no extra commit.

``H`` is HMAC-SHA256 under the salt with a label per kind (see :mod:`.ids`), so
neither a token nor an accessor is a storage key, and the raw token is stored
nowhere.
"""

from __future__ import annotations

import asyncio

import orjson

from strongroom.core.leases.schedule import due_key
from strongroom.core.tokens.entry import TokenEntry, decode_entry
from strongroom.core.tokens.ids import SALT_BYTES, Hasher
from strongroom.errors import InternalError
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.sdk.system import RandomBytes

SALT_KEY = "salt"
ID_PREFIX = "id/"
ACCESSOR_PREFIX = "accessor/"
PARENT_PREFIX = "parent/"
LEASE_PREFIX = "lease/"


def id_key(id_hash: str) -> str:
    return ID_PREFIX + id_hash


def accessor_key(accessor_hash: str) -> str:
    return ACCESSOR_PREFIX + accessor_hash


def child_key(parent_hash: str, child_hash: str) -> str:
    return f"{PARENT_PREFIX}{parent_hash}/{child_hash}"


def lease_path(entry: TokenEntry) -> str:
    """The token's path as its lease id starts (``auth/token/create``); '' when it has no usable path."""
    path = entry.path.strip("/")
    if not path or any(part in ("", ".", "..") for part in path.split("/")):
        return ""
    return path


def lease_id(entry: TokenEntry) -> str:
    """The token's lease id as Vault forms it: its creation path and its salted hash."""
    return f"{lease_path(entry) or 'auth/token'}/{entry.id_hash}"


def due_time(entry: TokenEntry) -> float:
    """When the token expires (0: never): its TTL, or its explicit max when that comes first."""
    times = [t for t in (entry.expire_time, entry.hard_deadline()) if t]
    return min(times) if times else 0.0


def lease_ops(entry: TokenEntry, *, delete: bool = False) -> list[TxnOp]:
    """The token's lease entries (none for a token that never expires)."""
    when = due_time(entry)
    if not when:
        return []
    value = None if delete else b""
    return [TxnOp(LEASE_PREFIX + lease_id(entry), value), TxnOp(due_key(when, entry.id_hash), value)]


class TokenRecords:
    """Typed reads and writes of the layout above over one storage view."""

    def __init__(self, storage: StorageBackend, random_bytes: RandomBytes) -> None:
        self.storage = storage
        self._random_bytes = random_bytes
        self._hasher: Hasher | None = None
        self._salt_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenRecords({self.storage!r})"

    async def hasher(self) -> Hasher:
        """The keyed hasher; the salt is created on first use if the store has none.

        Two processes creating the salt at once would each keep their own, so the
        core creates it during init (the first root token), where one process runs.
        """
        if self._hasher is None:
            async with self._salt_lock:
                if self._hasher is None:
                    salt = await self.storage.get(SALT_KEY)
                    if salt is None:
                        salt = self._random_bytes(SALT_BYTES)
                        await self.storage.put(SALT_KEY, salt)
                    self._hasher = Hasher(salt)
        return self._hasher

    async def read(self, id_hash: str) -> TokenEntry | None:
        raw = await self.storage.get(id_key(id_hash))
        return None if raw is None else decode_entry(raw)

    async def read_for_update(self, id_hash: str) -> tuple[TokenEntry | None, Precondition]:
        """The entry (None: gone) and a precondition that it is still exactly as read."""
        raw, version = await self.storage.get_with_version(id_key(id_hash))
        entry = None if raw is None else decode_entry(raw)
        return entry, Precondition(id_key(id_hash), version)

    async def replace(self, entry: TokenEntry, guard: Precondition, previous: TokenEntry | None = None) -> None:
        """Overwrite the entry if ``guard`` (from :meth:`read_for_update`) still holds.

        Raises StorageConflict, writing nothing, when any process changed or
        revoked the token since it was read: a revoked token can never be
        written back, and no concurrent change (a spent use) is lost.
        """
        ops = [TxnOp(id_key(entry.id_hash), entry.to_bytes())]
        if previous is not None and due_time(previous) != due_time(entry):
            # A renewal moves the expiry index entry in the same transaction.
            ops += [*lease_ops(previous, delete=True), *lease_ops(entry)]
        await self.storage.transaction(ops, [guard])

    async def exists(self, id_hash: str) -> bool:
        return await self.storage.get(id_key(id_hash)) is not None

    async def mint(self, entry: TokenEntry, accessor_hash: str) -> None:
        """Store a new token in one transaction: the entry, its accessor index and its parent-index entry.

        Conditional on the id being unused, so two processes minting the same
        caller-chosen id cannot both succeed: the later one gets StorageConflict.
        """
        index = orjson.dumps({"accessor": entry.accessor, "token": entry.id_hash})
        ops = [TxnOp(id_key(entry.id_hash), entry.to_bytes()), TxnOp(accessor_key(accessor_hash), index)]
        if entry.parent:
            ops.append(TxnOp(child_key(entry.parent, entry.id_hash), b"1"))
        ops += lease_ops(entry)
        await self.storage.transaction(ops, [Precondition(id_key(entry.id_hash), None)])

    async def destroy_ops(self, id_hash: str, entry: TokenEntry | None, parent_hash: str) -> list[TxnOp]:
        """One transaction's worth: delete the entry, its accessor index and its parent-index entry."""
        ops = [TxnOp(id_key(id_hash), None)]
        if entry is not None:
            accessor_hash = (await self.hasher()).accessor(entry.accessor)
            if accessor_hash is not None:
                ops.append(TxnOp(accessor_key(accessor_hash), None))
            ops += lease_ops(entry, delete=True)
        if parent_hash:
            ops.append(TxnOp(child_key(parent_hash, id_hash), None))
        return ops

    async def read_accessor(self, accessor_hash: str) -> tuple[str, str] | None:
        """(accessor, token hash) stored under ``accessor_hash``, or None."""
        raw = await self.storage.get(accessor_key(accessor_hash))
        if raw is None:
            return None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InternalError("a stored accessor entry is malformed") from exc
        accessor = body.get("accessor") if isinstance(body, dict) else None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(accessor, str) or not isinstance(token, str):
            raise InternalError("a stored accessor entry is malformed")
        return accessor, token

    async def children(self, id_hash: str) -> list[str]:
        keys = await self.storage.list(f"{PARENT_PREFIX}{id_hash}/")
        return [key for key in keys if not key.endswith("/")]

    async def id_hashes(self) -> list[str]:
        return await self.storage.list(ID_PREFIX)

    async def accessor_hashes(self) -> list[str]:
        return await self.storage.list(ACCESSOR_PREFIX)

    async def parents_with_children(self) -> list[str]:
        return [key.rstrip("/") for key in await self.storage.list(PARENT_PREFIX) if key.endswith("/")]
