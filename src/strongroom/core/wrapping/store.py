"""Wrapped responses: stored once through the barrier, handed out once.

A wrapped answer is kept at ``<token hash>`` in this store's barrier view
(the storage key is the token store's salted hash of the wrapping token, so
storage never learns the token). The wrapping token itself is a real token
from the token store: an orphan with the single policy ``response-wrapping``,
``num_uses`` 1, a TTL (and hard cap) equal to the wrap TTL, not renewable. So
it expires like any token, and its revocation (by use, expiry, ``tidy`` or an
operator) deletes the wrapped answer through :meth:`WrappingStore.forget`,
which the core registers as an ``on_revoke`` callback.

Single use. :meth:`WrappingStore.unwrap` and :meth:`WrappingStore.take` (rewrap)
take the record out with a conditional delete on the version they read, so of
any number of concurrent unwraps in any number of processes sharing storage
exactly one receives the data; every other one, like every later one, gets
Vault's "wrapping token is not valid or does not exist" (400). The token is
revoked after the record is taken. :meth:`WrappingStore.lookup` reads without
consuming.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from strongroom.core.tokens.entry import TokenEntry, TokenSpec
from strongroom.core.tokens.store import TokenStore
from strongroom.core.wrapping.info import WRAPPING_POLICY, WrapInfo
from strongroom.core.wrapping.payload import dump_response, load_response
from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import Response
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import SystemView

#: Vault's wording; clients match on it.
NOT_VALID = "wrapping token is not valid or does not exist"


@dataclass(frozen=True, slots=True)
class WrappedRecord:
    """One stored wrapped answer and how it was created (``creation_time`` in epoch seconds)."""

    response: dict[str, Any]
    creation_ttl: int
    creation_time: float
    creation_path: str
    wrapped_accessor: str

    def __repr__(self) -> str:
        return f"WrappedRecord(creation_path={self.creation_path!r}, creation_ttl={self.creation_ttl})"

    def load(self) -> Response:
        """The wrapped answer as the backend gave it (see :mod:`.payload`)."""
        return load_response(self.response)

    def to_bytes(self) -> bytes:
        return orjson.dumps({
            "v": 1,
            "response": self.response,
            "creation_ttl": self.creation_ttl,
            "creation_time": self.creation_time,
            "creation_path": self.creation_path,
            "wrapped_accessor": self.wrapped_accessor,
        })

    @classmethod
    def from_bytes(cls, raw: bytes) -> WrappedRecord:
        body = orjson.loads(raw)
        return cls(
            response=dict(body["response"]),
            creation_ttl=int(body["creation_ttl"]),
            creation_time=float(body["creation_time"]),
            creation_path=str(body["creation_path"]),
            wrapped_accessor=str(body.get("wrapped_accessor", "")),
        )


def is_wrapping_token(entry: TokenEntry) -> bool:
    """True for a token minted by :meth:`WrappingStore.wrap` (its only policy is ``response-wrapping``)."""
    return entry.policies == (WRAPPING_POLICY,)


class WrappingStore:
    """Wrap, look up, unwrap (and take, for rewrap). ``storage`` is a barrier view only this store uses."""

    def __init__(self, storage: StorageBackend, tokens: TokenStore, system: SystemView) -> None:
        self._storage = storage
        self._tokens = tokens
        self._system = system

    def __repr__(self) -> str:
        return f"WrappingStore({self._storage!r})"

    async def wrap(self, response: Response, *, ttl: int, creation_path: str) -> WrapInfo:
        """Store ``response`` under a new wrapping token valid for ``ttl`` seconds (> 0)."""
        wrapped_accessor = response.auth.accessor if response.auth is not None else ""
        return await self._store(dump_response(response), ttl, creation_path, wrapped_accessor)

    async def lookup(self, token: str) -> WrappedRecord:
        """The record behind a live wrapping token, without consuming it; InvalidRequest otherwise."""
        entry = await self._live_entry(token)
        raw = await self._storage.get(entry.id_hash)
        if raw is None:
            raise InvalidRequest(NOT_VALID)
        return WrappedRecord.from_bytes(raw)

    async def unwrap(self, token: str) -> Response:
        """The wrapped answer, exactly once: the token and its record are gone afterwards."""
        return (await self.take(token)).load()

    async def take(self, token: str) -> WrappedRecord:
        """Take the record out (conditional delete: one taker wins) and revoke its token.

        Used by unwrap and rewrap; a rewrap stores the answer again under a new token,
        so a crash between the two loses the answer but never hands it out twice.
        """
        entry = await self._live_entry(token)
        key = entry.id_hash

        async def attempt() -> bytes:
            raw, version = await self._storage.get_with_version(key)
            if raw is None:
                raise InvalidRequest(NOT_VALID)
            # Conditional on the version read: of concurrent takers only one commits.
            await self._storage.transaction([TxnOp(key, None)], [Precondition(key, version)])
            return raw

        raw = await retry_on_conflict(attempt, random_bytes=self._system.random_bytes)
        await self._tokens.revoke_tree(entry)
        return WrappedRecord.from_bytes(raw)

    async def forget(self, entry: TokenEntry) -> None:
        """``on_revoke`` callback: a revoked wrapping token takes its wrapped answer with it."""
        if is_wrapping_token(entry):
            await self._storage.delete(entry.id_hash)

    async def _store(self, response: dict[str, Any], ttl: int, creation_path: str,
                     wrapped_accessor: str) -> WrapInfo:
        if ttl <= 0:
            raise InvalidRequest("the response wrapping TTL must be greater than zero")
        spec = TokenSpec(
            policies=(WRAPPING_POLICY,),
            path=creation_path,
            display_name="response-wrapping",
            ttl=ttl,
            explicit_max_ttl=ttl,
            num_uses=1,
            renewable=False,
        )
        token_id, entry = await self._tokens.create(spec, creator=None, system=self._system)
        record = WrappedRecord(
            response=response,
            creation_ttl=entry.ttl,
            creation_time=entry.creation_time,
            creation_path=creation_path,
            wrapped_accessor=wrapped_accessor,
        )
        await self._storage.put(entry.id_hash, record.to_bytes())
        return WrapInfo(
            token=token_id,
            accessor=entry.accessor,
            ttl=entry.ttl,
            creation_time=entry.creation_time,
            creation_path=creation_path,
            wrapped_accessor=wrapped_accessor,
        )

    async def _live_entry(self, token: str) -> TokenEntry:
        entry = await self._tokens.lookup(token) if token else None
        if entry is None or not is_wrapping_token(entry):
            raise InvalidRequest(NOT_VALID)
        return entry
