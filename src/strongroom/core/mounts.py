"""The mount table: which backend serves which path prefix.

The router is the only place that knows mounts. Entries are persisted through
the barrier (``core/mounts`` for secrets engines, ``core/auth`` for auth
methods) and each mount gets its own storage view (``logical/<uuid>/`` or
``auth/<uuid>/``) that it cannot escape.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from strongroom.errors import InvalidRequest

SECRET_TABLE_KEY = "core/mounts"
AUTH_TABLE_KEY = "core/auth"

#: Mount paths a user cannot take: they belong to the system.
RESERVED_PREFIXES = ("sys/", "auth/", "identity/", "cubbyhole/", "audit/")


@dataclass
class MountConfig:
    default_lease_ttl: int = 0
    max_lease_ttl: int = 0
    listing_visibility: str = ""
    audit_non_hmac_request_keys: list[str] = field(default_factory=list)
    audit_non_hmac_response_keys: list[str] = field(default_factory=list)
    passthrough_request_headers: list[str] = field(default_factory=list)
    #: Auth mounts: the tuned lockout settings under Vault's names (``strongroom.core.lockout.settings``).
    user_lockout_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class MountEntry:
    """One row of the mount table. ``path`` always ends in '/' and, for auth mounts,
    excludes the ``auth/`` prefix (as in Vault's ``sys/auth`` listing)."""

    path: str
    type: str
    kind: str  # "secret" or "auth"
    uuid: str
    accessor: str
    description: str = ""
    config: MountConfig = field(default_factory=MountConfig)
    options: dict[str, str] = field(default_factory=dict)
    local: bool = False
    seal_wrap: bool = False
    builtin: bool = False  # sys/, auth/token/: cannot be disabled or moved

    @property
    def route_prefix(self) -> str:
        """The request-path prefix this mount answers under."""
        return ("auth/" + self.path) if self.kind == "auth" else self.path

    @property
    def storage_prefix(self) -> str:
        return ("auth/" if self.kind == "auth" else "logical/") + self.uuid + "/"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(raw: dict[str, Any]) -> MountEntry:
        config = MountConfig(**raw.pop("config", {}))
        return MountEntry(config=config, **raw)


def new_mount(path: str, type_name: str, kind: str, random_hex: str, **kwargs: Any) -> MountEntry:
    short = type_name.replace("-", "_")
    return MountEntry(
        path=path,
        type=type_name,
        kind=kind,
        uuid=str(uuid.UUID(hex=random_hex[:32])),
        accessor=f"{'auth_' if kind == 'auth' else ''}{short}_{random_hex[32:40]}",
        **kwargs,
    )


def normalize_mount_path(path: str) -> str:
    """``"/secret"`` -> ``"secret/"``; refuses empty paths and dot segments."""
    cleaned = path.strip().strip("/")
    if not cleaned:
        raise InvalidRequest("mount path must not be empty")
    segments = cleaned.split("/")
    if any(seg in ("", ".", "..") for seg in segments):
        raise InvalidRequest(f"invalid mount path {path!r}")
    return cleaned + "/"


def encode_table(entries: list[MountEntry]) -> bytes:
    return orjson.dumps([e.to_json() for e in entries])


def decode_table(raw: bytes) -> list[MountEntry]:
    return [MountEntry.from_json(item) for item in orjson.loads(raw)]
