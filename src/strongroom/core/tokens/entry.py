"""What the token store keeps about one token, and what a caller asks it to mint.

A :class:`TokenEntry` never holds the token itself: ``id_hash`` is the keyed
hash the entry is stored under, and ``parent`` is the parent's hash. Entries
are immutable; the store writes a new one (``dataclasses.replace``) on every
change. ``repr`` shows lifetimes and policies, never the hash, the accessor,
the parent or the metadata.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import orjson

from strongroom.errors import InternalError

SERVICE = "service"
#: ``num_uses`` of a token whose last use is in flight: dead to every other request.
REVOCATION_PENDING = -1
_FORMAT_VERSION = 1
#: Bound of the per-process decoded-entry map (:func:`decode_entry`); cleared whole when full.
DECODED_MAX = 4096
_decoded: dict[bytes, TokenEntry] = {}


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """What to mint. The store canonicalises the policies and computes the TTL from these requests.

    ``ttl`` 0 means "the default"; ``max_ttl`` is a backend cap below the mount's
    (0: none); ``explicit_max_ttl`` is a hard cap measured from creation that no
    renewal can pass; ``period`` makes every renewal reset the TTL to it.
    ``token_id`` is a caller-chosen id, already authorised (sudo) by the caller.
    """

    policies: tuple[str, ...] = ()
    path: str = "auth/token/create"
    display_name: str = "token"
    meta: Mapping[str, str] = field(default_factory=dict, repr=False)
    ttl: int = 0
    max_ttl: int = 0
    explicit_max_ttl: int = 0
    period: int = 0
    num_uses: int = 0
    renewable: bool = True
    role: str = ""
    entity_id: str = ""
    bound_cidrs: tuple[str, ...] = ()
    token_id: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """One stored token. Times are epoch seconds; ``expire_time`` 0 means it never expires."""

    id_hash: str = field(repr=False)
    accessor: str = field(repr=False)
    parent: str = field(repr=False)
    policies: tuple[str, ...]
    path: str
    meta: Mapping[str, str] = field(repr=False)
    display_name: str
    num_uses: int
    creation_time: float
    #: The TTL granted at creation (Vault's ``creation_ttl``).
    ttl: int
    max_ttl: int
    explicit_max_ttl: int
    period: int
    renewable: bool
    role: str
    type: str
    entity_id: str
    bound_cidrs: tuple[str, ...]
    expire_time: float
    last_renewal_time: float = 0.0
    #: Set first when a tree revocation starts: the token, and everything below it, is dead from then on.
    revoking: bool = False
    #: A parent in an ancestor namespace's store (``<namespace id>:<parent hash>``): the token lives only
    #: while that parent does (``TokenStore.outer_alive``); "" for none.
    outer_parent: str = field(default="", repr=False)

    @property
    def orphan(self) -> bool:
        return not self.parent

    @property
    def revocation_pending(self) -> bool:
        return self.num_uses == REVOCATION_PENDING

    def hard_deadline(self) -> float:
        """The instant no renewal can pass (creation + explicit max TTL), or 0 when there is none."""
        return self.creation_time + self.explicit_max_ttl if self.explicit_max_ttl > 0 else 0.0

    def is_expired(self, now: float) -> bool:
        if self.expire_time and now >= self.expire_time:
            return True
        deadline = self.hard_deadline()
        return bool(deadline) and now >= deadline

    def remaining_ttl(self, now: float) -> int:
        """Whole seconds left (rounded down), 0 for a token that never expires or has expired."""
        if not self.expire_time:
            return 0
        return max(0, math.floor(self.expire_time - now))

    def allows_address(self, remote_addr: str) -> bool:
        """Whether a request from ``remote_addr`` may use this token (always, without bound CIDRs)."""
        if not self.bound_cidrs:
            return True
        try:
            address = ipaddress.ip_address(remote_addr)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in self.bound_cidrs)

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        body["meta"] = dict(self.meta)
        body["v"] = _FORMAT_VERSION
        return orjson.dumps(body)

    @classmethod
    def from_bytes(cls, raw: bytes) -> TokenEntry:
        """Parse a stored entry. Raises InternalError (naming no value) when it is malformed."""
        try:
            body = _versioned(orjson.loads(raw))
            return cls(
                id_hash=_str(body, "id_hash"),
                accessor=_str(body, "accessor"),
                parent=_str(body, "parent"),
                policies=tuple(_str_list(body, "policies")),
                path=_str(body, "path"),
                meta=_str_map(body, "meta"),
                display_name=_str(body, "display_name"),
                num_uses=_int(body, "num_uses"),
                creation_time=_float(body, "creation_time"),
                ttl=_int(body, "ttl"),
                max_ttl=_int(body, "max_ttl"),
                explicit_max_ttl=_int(body, "explicit_max_ttl"),
                period=_int(body, "period"),
                renewable=_bool(body, "renewable"),
                role=_str(body, "role"),
                type=_str(body, "type"),
                entity_id=_str(body, "entity_id"),
                bound_cidrs=tuple(_str_list(body, "bound_cidrs")),
                expire_time=_float(body, "expire_time"),
                last_renewal_time=_float(body, "last_renewal_time"),
                revoking=_bool(body, "revoking"),
                outer_parent=_str(body, "outer_parent") if "outer_parent" in body else "",
            )
        except (orjson.JSONDecodeError, TypeError, KeyError) as exc:
            raise InternalError("a stored token entry is malformed") from exc


def decode_entry(raw: bytes) -> TokenEntry:
    """``TokenEntry.from_bytes(raw)``, parsed once per distinct stored form in this process.

    Safe to share because the result is a function of ``raw`` alone and entries
    are never changed in place (the store writes a new one). Storage is still
    read on every lookup, so a revoked or changed token is seen at once: only
    the JSON decode and validation of bytes already seen are skipped. The map
    holds what the token store keeps anyway (hashes, accessors, policy names),
    never a token.
    """
    entry = _decoded.get(raw)
    if entry is None:
        entry = TokenEntry.from_bytes(raw)
        if len(_decoded) >= DECODED_MAX:
            _decoded.clear()
        _decoded[raw] = entry
    return entry


def _versioned(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("v") != _FORMAT_VERSION:
        raise TypeError("unknown token entry format")
    return body


def _str(body: dict[str, Any], key: str) -> str:
    value = body[key]
    if not isinstance(value, str):
        raise TypeError(key)
    return value


def _int(body: dict[str, Any], key: str) -> int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(key)
    return value


def _float(body: dict[str, Any], key: str) -> float:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(key)
    return float(value)


def _bool(body: dict[str, Any], key: str) -> bool:
    value = body[key]
    if not isinstance(value, bool):
        raise TypeError(key)
    return value


def _str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(key)
    return value


def _str_map(body: dict[str, Any], key: str) -> dict[str, str]:
    value = body[key]
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TypeError(key)
    return value
