"""What ``database/config/:name`` and ``database/roles/:name`` store, and how they are shown.

Both are JSON in the mount's barrier view (``config/<name>``, ``role/<name>``).
The connection password is stored (encrypted by the barrier) but never shown:
:meth:`ConnectionConfig.public` omits it and ``repr`` hides it.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import asdict, dataclass, field
from typing import Any

PLUGIN_POSTGRES = "postgresql-database-plugin"


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """One configured database connection."""

    name: str
    plugin_name: str
    connection_url: str
    username: str = ""
    password: str = field(default="", repr=False)
    allowed_roles: tuple[str, ...] = ()
    max_open_connections: int = 4
    password_policy: str = ""
    username_template: str = ""
    verify_connection: bool = True

    def allows(self, role: str) -> bool:
        """Whether ``role`` matches one of ``allowed_roles`` (globs; an empty list allows none, as Vault)."""
        return any(fnmatch.fnmatchcase(role, pattern) for pattern in self.allowed_roles)

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> ConnectionConfig:
        data = json.loads(raw)
        data["allowed_roles"] = tuple(data.get("allowed_roles", ()))
        return cls(**data)

    def public(self) -> dict[str, Any]:
        """The read answer, in Vault's shape (connection details nested, no password)."""
        return {
            "plugin_name": self.plugin_name,
            "allowed_roles": list(self.allowed_roles),
            "password_policy": self.password_policy,
            "verify_connection": self.verify_connection,
            "connection_details": {
                "connection_url": self.connection_url,
                "username": self.username,
                "max_open_connections": self.max_open_connections,
                "username_template": self.username_template,
            },
        }


@dataclass(frozen=True, slots=True)
class RoleConfig:
    """One dynamic role: which connection, what SQL, which TTLs (seconds; 0: the mount's)."""

    name: str
    db_name: str
    creation_statements: tuple[str, ...]
    revocation_statements: tuple[str, ...] = ()
    default_ttl: int = 0
    max_ttl: int = 0

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> RoleConfig:
        data = json.loads(raw)
        data["creation_statements"] = tuple(data["creation_statements"])
        data["revocation_statements"] = tuple(data.get("revocation_statements", ()))
        return cls(**data)

    def public(self) -> dict[str, Any]:
        return {
            "db_name": self.db_name,
            "creation_statements": list(self.creation_statements),
            "revocation_statements": list(self.revocation_statements),
            "default_ttl": self.default_ttl,
            "max_ttl": self.max_ttl,
        }
