"""AppRole roles in the mount's storage.

Layout:

* ``role/<name>``: the role (JSON), including its role ID (behind the barrier,
  as Vault keeps it) and ``instance``, a random id drawn when the role is
  created. Secret IDs are filed under the instance, not the name, so a role
  deleted and created again under the same name never inherits old secret IDs.
* ``role_id/<hmac(role_id)>``: which role (name and instance) a role ID belongs to.

A role and its index entry change together in one transaction with
preconditions on everything read (the role as read, the new index entry
absent), retried on a conflict: two roles can never end up sharing a role ID,
even when two workers set it at the same moment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from strongroom.auth.approle.ids import ROLE_ID, Hasher, same
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import RandomBytes
from strongroom.sdk.token_params import TokenParams

ROLE_PREFIX = "role/"
ROLE_ID_PREFIX = "role_id/"


@dataclass(frozen=True, slots=True)
class RoleEntry:
    """One role. ``repr`` never shows the role ID."""

    name: str
    instance: str
    role_id: str = field(repr=False)
    bind_secret_id: bool = True
    secret_id_bound_cidrs: tuple[str, ...] = ()
    secret_id_num_uses: int = 0
    secret_id_ttl: int = 0
    token: TokenParams = field(default_factory=TokenParams)

    def check_constraints(self) -> None:
        """Vault's rule: a role must demand something of a login (a secret ID or a source address)."""
        if not self.bind_secret_id and not self.secret_id_bound_cidrs and not self.token.bound_cidrs:
            raise InvalidRequest("at least one constraint should be enabled on the role")

    def encode(self) -> bytes:
        body: dict[str, Any] = {
            "v": 1, "instance": self.instance, "role_id": self.role_id, "bind_secret_id": self.bind_secret_id,
            "secret_id_bound_cidrs": list(self.secret_id_bound_cidrs), "secret_id_num_uses": self.secret_id_num_uses,
            "secret_id_ttl": self.secret_id_ttl, "token": self.token.to_json(),
        }
        return orjson.dumps(body)

    @staticmethod
    def decode(name: str, raw: bytes) -> RoleEntry:
        try:
            body = orjson.loads(raw)
            return RoleEntry(
                name=name, instance=str(body["instance"]), role_id=str(body["role_id"]),
                bind_secret_id=bool(body["bind_secret_id"]),
                secret_id_bound_cidrs=tuple(body["secret_id_bound_cidrs"]),
                secret_id_num_uses=int(body["secret_id_num_uses"]), secret_id_ttl=int(body["secret_id_ttl"]),
                token=TokenParams.from_json(body["token"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise InternalError("an approle role in storage is malformed") from None


#: How a write changes a role: the role to store, given the current one (None: absent).
RoleChange = Callable[[RoleEntry | None], Awaitable[RoleEntry]]


class Roles:
    """The roles of one mount over ``storage`` (the mount's barrier view)."""

    def __init__(self, storage: StorageBackend, hasher: Hasher, random_bytes: RandomBytes) -> None:
        self.storage = storage
        self.hasher = hasher
        self._random_bytes = random_bytes

    def _index_key(self, role_id: str) -> str:
        return ROLE_ID_PREFIX + self.hasher.mac(ROLE_ID, role_id)

    async def get(self, name: str) -> RoleEntry | None:
        raw = await self.storage.get(ROLE_PREFIX + name)
        return RoleEntry.decode(name, raw) if raw is not None else None

    async def names(self) -> list[str]:
        return [n for n in await self.storage.list(ROLE_PREFIX) if not n.endswith("/")]

    async def by_role_id(self, role_id: str) -> RoleEntry | None:
        """The role a presented role ID belongs to, or None. The stored ID is compared in constant time."""
        raw = await self.storage.get(self._index_key(role_id))
        if raw is None:
            return None
        index = orjson.loads(raw)
        role = await self.get(str(index.get("name", "")))
        if role is None or role.instance != index.get("instance") or not same(role.role_id, role_id):
            return None  # a stale index entry (the role was deleted or its role ID changed)
        return role

    async def change(self, name: str, change: RoleChange) -> RoleEntry:
        """Store ``change(current)``; keeps the role ID index in step (refusing a role ID in use)."""
        key = ROLE_PREFIX + name

        async def attempt() -> RoleEntry:
            raw, version = await self.storage.get_with_version(key)
            current = RoleEntry.decode(name, raw) if raw is not None else None
            updated = await change(current)
            updated.check_constraints()
            ops = [TxnOp(key, updated.encode())]
            conditions = [Precondition(key, version)]
            if current is None or not same(current.role_id, updated.role_id):
                new_index = self._index_key(updated.role_id)
                index_raw, index_version = await self.storage.get_with_version(new_index)
                if index_raw is not None and await self.by_role_id(updated.role_id) is not None:
                    raise InvalidRequest("role_id already in use")
                ops.append(TxnOp(new_index, orjson.dumps({"name": name, "instance": updated.instance})))
                conditions.append(Precondition(new_index, index_version))
                if current is not None:
                    ops.append(TxnOp(self._index_key(current.role_id), None))
            await self.storage.transaction(ops, conditions)
            return updated

        return await retry_on_conflict(attempt, random_bytes=self._random_bytes)

    async def delete(self, name: str) -> RoleEntry | None:
        """Remove the role and its index entry (its secret IDs die with it: they are filed under its instance)."""
        key = ROLE_PREFIX + name

        async def attempt() -> RoleEntry | None:
            raw, version = await self.storage.get_with_version(key)
            if raw is None:
                return None
            role = RoleEntry.decode(name, raw)
            await self.storage.transaction(
                [TxnOp(key, None), TxnOp(self._index_key(role.role_id), None)], [Precondition(key, version)]
            )
            return role

        return await retry_on_conflict(attempt, random_bytes=self._random_bytes)

    async def instances(self) -> set[str]:
        """The instance ids of every role that exists now (for tidy)."""
        found: set[str] = set()
        for name in await self.names():
            role = await self.get(name)
            if role is not None:
                found.add(role.instance)
        return found

    async def stale_index_keys(self) -> list[str]:
        """Role ID index entries that point at no current role (left by an interrupted change)."""
        stale: list[str] = []
        for leaf in await self.storage.list(ROLE_ID_PREFIX):
            raw = await self.storage.get(ROLE_ID_PREFIX + leaf)
            if raw is None:
                continue
            index = orjson.loads(raw)
            role = await self.get(str(index.get("name", "")))
            if role is None or role.instance != index.get("instance") or self._index_key(role.role_id) != (
                ROLE_ID_PREFIX + leaf
            ):
                stale.append(ROLE_ID_PREFIX + leaf)
        return stale

