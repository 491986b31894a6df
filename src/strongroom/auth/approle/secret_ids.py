"""Secret IDs: stored only as salted HMACs, spent atomically across workers.

Layout:

* ``secret_id/<role instance>/<hmac(secret_id)>``: one secret ID's terms
  (accessor, metadata, CIDRs, uses left, TTL and times). The secret ID itself
  is never stored.
* ``accessor/<hmac(accessor)>``: where an accessor's secret ID is filed.

Spending a use is a read-modify-write that workers may run at once: it commits
with a precondition on the entry as read and runs again on a conflict, so of
two logins racing for the last use exactly one succeeds, and no use is lost.
The last use deletes the entry (and its accessor) in the same transaction.

A secret ID past its expiration time, or with no use left, is refused exactly
like one that never existed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from strongroom.auth.approle.ids import ACCESSOR, SECRET_ID, Hasher, same
from strongroom.errors import InternalError, StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import Clock, RandomBytes

SECRET_PREFIX = "secret_id/"
ACCESSOR_PREFIX = "accessor/"
#: Go's zero time, which Vault shows as the expiration of a secret ID that never expires.
ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class SecretIdEntry:
    """The terms of one secret ID. ``repr`` shows neither the HMAC nor the accessor nor the metadata."""

    secret_hmac: str = field(repr=False)
    accessor: str = field(repr=False)
    metadata: Mapping[str, str] = field(repr=False)
    cidr_list: tuple[str, ...]
    token_bound_cidrs: tuple[str, ...]
    num_uses: int
    ttl: int
    creation_time: float
    expiration_time: float  # 0: never
    last_updated_time: float

    def expired(self, now: float) -> bool:
        return bool(self.expiration_time) and now >= self.expiration_time

    def lookup_data(self) -> dict[str, Any]:
        """Vault's answer to ``secret-id/lookup`` and ``secret-id-accessor/lookup``."""
        return {
            "cidr_list": list(self.cidr_list),
            "creation_time": rfc3339(self.creation_time),
            "expiration_time": rfc3339(self.expiration_time) if self.expiration_time else ZERO_TIME,
            "last_updated_time": rfc3339(self.last_updated_time),
            "metadata": dict(self.metadata),
            "secret_id_accessor": self.accessor,
            "secret_id_num_uses": self.num_uses,
            "secret_id_ttl": self.ttl,
            "token_bound_cidrs": list(self.token_bound_cidrs),
        }

    def encode(self) -> bytes:
        return orjson.dumps({
            "v": 1, "secret_hmac": self.secret_hmac, "accessor": self.accessor, "metadata": dict(self.metadata),
            "cidr_list": list(self.cidr_list), "token_bound_cidrs": list(self.token_bound_cidrs),
            "num_uses": self.num_uses, "ttl": self.ttl, "creation_time": self.creation_time,
            "expiration_time": self.expiration_time, "last_updated_time": self.last_updated_time,
        })

    @staticmethod
    def decode(raw: bytes) -> SecretIdEntry:
        try:
            b = orjson.loads(raw)
            return SecretIdEntry(
                secret_hmac=str(b["secret_hmac"]), accessor=str(b["accessor"]),
                metadata={str(k): str(v) for k, v in b["metadata"].items()},
                cidr_list=tuple(b["cidr_list"]), token_bound_cidrs=tuple(b["token_bound_cidrs"]),
                num_uses=int(b["num_uses"]), ttl=int(b["ttl"]), creation_time=float(b["creation_time"]),
                expiration_time=float(b["expiration_time"]), last_updated_time=float(b["last_updated_time"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise InternalError("an approle secret ID in storage is malformed") from None


@dataclass(frozen=True, slots=True)
class NewSecretId:
    """What to issue: the terms a caller asked for, already checked against the role."""

    metadata: Mapping[str, str]
    cidr_list: tuple[str, ...]
    token_bound_cidrs: tuple[str, ...]
    num_uses: int
    ttl: int


class SecretIds:
    """The secret IDs of one mount over ``storage`` (the mount's barrier view)."""

    def __init__(self, storage: StorageBackend, hasher: Hasher, *, clock: Clock, random_bytes: RandomBytes) -> None:
        self.storage = storage
        self.hasher = hasher
        self._clock = clock
        self._random_bytes = random_bytes

    def _key(self, instance: str, secret_id: str) -> str:
        return f"{SECRET_PREFIX}{instance}/{self.hasher.mac(SECRET_ID, secret_id)}"

    def _accessor_key(self, accessor: str) -> str:
        return ACCESSOR_PREFIX + self.hasher.mac(ACCESSOR, accessor)

    async def issue(self, instance: str, secret_id: str, accessor: str, terms: NewSecretId) -> SecretIdEntry | None:
        """File a new secret ID under the role ``instance``; None when that secret ID is already registered."""
        now = self._clock()
        key = self._key(instance, secret_id)
        entry = SecretIdEntry(
            secret_hmac=self.hasher.mac(SECRET_ID, secret_id), accessor=accessor, metadata=dict(terms.metadata),
            cidr_list=terms.cidr_list, token_bound_cidrs=terms.token_bound_cidrs, num_uses=terms.num_uses,
            ttl=terms.ttl, creation_time=now, expiration_time=now + terms.ttl if terms.ttl else 0.0,
            last_updated_time=now,
        )
        accessor_key = self._accessor_key(accessor)
        pointer = orjson.dumps({"instance": instance, "secret_key": key})
        try:
            await self.storage.transaction(
                [TxnOp(key, entry.encode()), TxnOp(accessor_key, pointer)],
                [Precondition(key, None), Precondition(accessor_key, None)],
            )
        except StorageConflict:  # the secret ID (or, astronomically, the accessor) is taken
            return None
        return entry

    async def find(self, instance: str, secret_id: str) -> tuple[str, SecretIdEntry] | None:
        """The live entry of a presented secret ID under role ``instance`` (expired ones are None)."""
        key = self._key(instance, secret_id)
        raw = await self.storage.get(key)
        if raw is None:
            return None
        entry = SecretIdEntry.decode(raw)
        if not same(entry.secret_hmac, self.hasher.mac(SECRET_ID, secret_id)) or entry.expired(self._clock()):
            return None
        return key, entry

    async def find_by_accessor(self, instance: str, accessor: str) -> tuple[str, SecretIdEntry] | None:
        """The live entry of an accessor, only if it belongs to role ``instance``."""
        raw = await self.storage.get(self._accessor_key(accessor))
        if raw is None:
            return None
        pointer = orjson.loads(raw)
        key = str(pointer.get("secret_key", ""))
        if pointer.get("instance") != instance or not key.startswith(f"{SECRET_PREFIX}{instance}/"):
            return None
        entry_raw = await self.storage.get(key)
        if entry_raw is None:
            return None
        entry = SecretIdEntry.decode(entry_raw)
        if not same(entry.accessor, accessor) or entry.expired(self._clock()):
            return None
        return key, entry

    async def accessors(self, instance: str) -> list[str]:
        """Accessors of the live secret IDs of role ``instance``, sorted."""
        found: list[str] = []
        folder = f"{SECRET_PREFIX}{instance}/"
        now = self._clock()
        for leaf in await self.storage.list(folder):
            raw = await self.storage.get(folder + leaf)
            if raw is not None:
                entry = SecretIdEntry.decode(raw)
                if not entry.expired(now):
                    found.append(entry.accessor)
        return sorted(found)

    async def destroy(self, key: str, entry: SecretIdEntry) -> None:
        """Delete a secret ID and its accessor in one transaction."""
        await self.storage.transaction([TxnOp(key, None), TxnOp(self._accessor_key(entry.accessor), None)])

    async def destroy_presented(self, instance: str, secret_id: str) -> None:
        """Delete a presented secret ID of role ``instance`` (expired or not); nothing when unknown."""
        key = self._key(instance, secret_id)
        raw = await self.storage.get(key)
        if raw is None:
            return
        entry = SecretIdEntry.decode(raw)
        if same(entry.secret_hmac, self.hasher.mac(SECRET_ID, secret_id)):
            await self.destroy(key, entry)

    async def spend(
        self, instance: str, secret_id: str, admits: Callable[[SecretIdEntry], bool], *, dry_run: bool
    ) -> SecretIdEntry | None:
        """Use a presented secret ID for one login: the entry as it was, or None.

        None when it is unknown, expired, used up, or ``admits`` (the login's checks
        of source addresses against the entry's CIDRs) refuses it; all of that is
        decided before a use is spent, so a caller from the wrong network cannot
        burn uses. With ``dry_run`` every check runs and nothing is spent (a login
        the core has locked out).
        """

        async def attempt() -> SecretIdEntry | None:
            key = self._key(instance, secret_id)
            raw, version = await self.storage.get_with_version(key)
            if raw is None:
                return None
            entry = SecretIdEntry.decode(raw)
            if not same(entry.secret_hmac, self.hasher.mac(SECRET_ID, secret_id)):
                return None
            now = self._clock()
            if entry.expired(now) or entry.num_uses < 0 or not admits(entry):
                return None
            if dry_run or entry.num_uses == 0:
                return entry
            condition = [Precondition(key, version)]
            if entry.num_uses == 1:
                await self.storage.transaction(
                    [TxnOp(key, None), TxnOp(self._accessor_key(entry.accessor), None)], condition
                )
            else:
                spent = replace(entry, num_uses=entry.num_uses - 1, last_updated_time=now)
                await self.storage.transaction([TxnOp(key, spent.encode())], condition)
            return entry

        return await retry_on_conflict(attempt, random_bytes=self._random_bytes)

    async def tidy(self, live_instances: set[str]) -> int:
        """Delete expired secret IDs, those of roles that are gone, and dangling accessors. Returns the count."""
        removed = 0
        now = self._clock()
        for folder in await self.storage.list(SECRET_PREFIX):
            if not folder.endswith("/"):
                continue
            instance = folder.rstrip("/")
            for leaf in await self.storage.list(SECRET_PREFIX + folder):
                key = SECRET_PREFIX + folder + leaf
                raw, version = await self.storage.get_with_version(key)
                if raw is None:
                    continue
                entry = SecretIdEntry.decode(raw)
                if instance in live_instances and not entry.expired(now):
                    continue
                removed += await self._discard(key, version, entry)
        for leaf in await self.storage.list(ACCESSOR_PREFIX):
            raw = await self.storage.get(ACCESSOR_PREFIX + leaf)
            if raw is None:
                continue
            target = str(orjson.loads(raw).get("secret_key", ""))
            if not target or await self.storage.get(target) is None:
                await self.storage.delete(ACCESSOR_PREFIX + leaf)
        return removed

    async def _discard(self, key: str, version: bytes | None, entry: SecretIdEntry) -> int:
        try:
            await self.storage.transaction(
                [TxnOp(key, None), TxnOp(self._accessor_key(entry.accessor), None)], [Precondition(key, version)]
            )
        except StorageConflict:
            return 0  # a login changed it meanwhile; the next tidy looks again
        return 1
