"""The stored form of a lease and where it lives under ``sys/expire/`` (a barrier view).

Layout (keys relative to the view):

* ``id/<lease id>``: the :class:`LeaseEntry` as JSON. Lease ids contain '/'
  (``<mount><path>/<random>``), so listing ``id/<prefix>`` walks them like a tree,
  as ``LIST sys/leases/lookup/:prefix`` answers.
* ``due/<hour>/<minute>/<hex id>``: the expiry index (see ``schedule``).
* ``token/<token hash>/<hex id>``: the leases a token owns, for revoking them with it.

The entry holds what revocation needs after a restart; it never holds the
secret itself (only the backend's ``internal`` hints, e.g. a username or serial).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson

from strongroom.errors import InternalError
from strongroom.sdk.logical import SecretLease


@dataclass(frozen=True, slots=True)
class LeaseEntry:
    lease_id: str
    #: The mount's route prefix (``database/``) and the issuing path relative to it.
    mount: str
    path: str
    issue_time: float
    expire_time: float
    #: Absolute hard cap: no renewal moves ``expire_time`` past it.
    max_expire_time: float
    renewable: bool
    last_renewal: float = 0.0
    internal: dict[str, Any] = field(default_factory=dict)
    #: The owning token's id hash ("" for none); revoking the token revokes the lease.
    token_hash: str = ""
    #: Failed revocation attempts so far, the next one's time, and whether we gave up hoping.
    attempts: int = 0
    next_attempt: float = 0.0
    irrevocable: bool = False
    last_error: str = ""
    #: A revocation in progress: who claimed it and until when the claim holds.
    claim_owner: str = ""
    claim_until: float = 0.0
    #: Set when the lease was revoked early (API, token, prefix): due at once, never renewable again.
    revoked: bool = False

    def __repr__(self) -> str:
        # internal may hold identifiers a backend considers sensitive; keep them out of logs.
        return f"LeaseEntry({self.lease_id!r}, expire_time={self.expire_time}, irrevocable={self.irrevocable})"

    @property
    def due_time(self) -> float:
        """When the expiry loop must look at this lease next."""
        if self.attempts or self.revoked:
            return self.next_attempt
        return self.expire_time

    def ttl_at(self, now: float) -> int:
        return max(0, int(self.expire_time - now))

    def claimed_by_other(self, owner: str, now: float) -> bool:
        return bool(self.claim_owner) and self.claim_owner != owner and self.claim_until > now

    def secret_lease(self) -> SecretLease:
        return SecretLease(self.lease_id, self.path, dict(self.internal), self.issue_time, self.expire_time)

    def with_changes(self, **changes: Any) -> LeaseEntry:
        return replace(self, **changes)


def encode(entry: LeaseEntry) -> bytes:
    return orjson.dumps(asdict(entry))


def decode(raw: bytes) -> LeaseEntry:
    try:
        return LeaseEntry(**orjson.loads(raw))
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise InternalError("corrupt lease entry") from exc


def id_key(lease_id: str) -> str:
    return "id/" + lease_id


def hex_id(lease_id: str) -> str:
    return lease_id.encode().hex()


def from_hex(name: str) -> str:
    return bytes.fromhex(name).decode()


def token_key(token_hash: str, lease_id: str) -> str:
    return f"token/{token_hash}/{hex_id(lease_id)}"
