"""Userpass users in the mount's storage.

Layout: ``user/<canonical username>`` holds a JSON object with the argon2id
hash of the password and the user's token settings. The password itself is
never stored; the hash only ever lives behind the barrier.

Every change is a read-modify-write that several workers may run at once (two
operators, or a rehash after login racing a password change), so each commits
with a precondition on the entry as read and runs again on a conflict.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from strongroom.errors import InternalError, StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import RandomBytes
from strongroom.sdk.token_params import TokenParams

PREFIX = "user/"

#: How a write changes a user: the entry to store, given the current one (None: absent).
Change = Callable[["UserEntry | None"], Awaitable["UserEntry"]]


@dataclass(frozen=True, slots=True)
class UserEntry:
    """One user. ``repr`` never shows the hash."""

    name: str
    password_hash: str = field(repr=False)
    token: TokenParams = field(default_factory=TokenParams)

    def encode(self) -> bytes:
        return orjson.dumps({"v": 1, "password_hash": self.password_hash, "token": self.token.to_json()})

    @staticmethod
    def decode(name: str, raw: bytes) -> UserEntry:
        try:
            body = orjson.loads(raw)
            return UserEntry(name, str(body["password_hash"]), TokenParams.from_json(body.get("token", {})))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise InternalError("a userpass entry in storage is malformed") from None


class Users:
    """The users of one mount over ``storage`` (the mount's barrier view)."""

    def __init__(self, storage: StorageBackend, random_bytes: RandomBytes) -> None:
        self.storage = storage
        self._random_bytes = random_bytes

    async def get(self, name: str) -> UserEntry | None:
        raw = await self.storage.get(PREFIX + name)
        return UserEntry.decode(name, raw) if raw is not None else None

    async def names(self) -> list[str]:
        return [n for n in await self.storage.list(PREFIX) if not n.endswith("/")]

    async def delete(self, name: str) -> None:
        await self.storage.delete(PREFIX + name)

    async def change(self, name: str, change: Change) -> UserEntry:
        """Apply ``change`` to the current entry and store the result, retried on a concurrent write."""
        key = PREFIX + name

        async def attempt() -> UserEntry:
            raw, version = await self.storage.get_with_version(key)
            current = UserEntry.decode(name, raw) if raw is not None else None
            updated = await change(current)
            await self.storage.transaction([TxnOp(key, updated.encode())], [Precondition(key, version)])
            return updated

        return await retry_on_conflict(attempt, random_bytes=self._random_bytes)

    async def replace_hash_if_unchanged(self, entry: UserEntry, new_hash: str) -> None:
        """Store ``new_hash`` for ``entry``'s user only if the entry is still ``entry`` (a rehash).

        A concurrent password change wins: its hash is never overwritten by one of the old password.
        """
        key = PREFIX + entry.name
        raw, version = await self.storage.get_with_version(key)
        if raw is None or UserEntry.decode(entry.name, raw) != entry:
            return
        updated = UserEntry(entry.name, new_hash, entry.token)
        try:
            await self.storage.transaction([TxnOp(key, updated.encode())], [Precondition(key, version)])
        except StorageConflict:
            return  # changed meanwhile: the newer entry stands
