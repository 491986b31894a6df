"""What ``database/config``, ``roles`` and ``static-roles`` store, and how they are shown.

All three are JSON in the mount's barrier view (``config/<name>``, ``role/<name>``,
``static-role/<name>``). Passwords (the connection's, a static role's, and a
``pending_password`` written before a rotation changes the database, so a crash
between the database change and the store loses nothing) are stored, encrypted
by the barrier, but never shown: ``public`` omits them and ``repr`` hides them.
:func:`rewrite` is the one read-modify-write every rotation step uses (conditional
on the entry as read, so two workers rotating at once cannot both win).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

from strongroom.errors import NotFound, StrongroomError
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import RandomBytes

PLUGIN_POSTGRES = "postgresql-database-plugin"
PLUGIN_MYSQL = "mysql-database-plugin"
#: Every plugin name accepted, as Vault spells them. The MySQL variants differ only in username limits.
PLUGINS = (PLUGIN_POSTGRES, PLUGIN_MYSQL, "mysql-rds-database-plugin", "mysql-aurora-database-plugin",
           "mysql-legacy-database-plugin")


class Stored:
    """JSON encoding for the stored dataclasses below."""

    __slots__ = ()

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()  # type: ignore[call-overload]

    @classmethod
    def decode(cls, raw: bytes) -> Self:
        """From stored JSON: lists become tuples, fields added since it was written take defaults."""
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known})


S = TypeVar("S", bound=Stored)


async def rewrite(storage: StorageBackend, key: str, cls: type[S], change: Callable[[S], Awaitable[S | None]],
                  random_bytes: RandomBytes) -> tuple[S, S] | None:
    """Read ``key``, ``change`` it, and write the result conditional on what was read (again on a conflict).

    Answers (before, after), or None when ``change`` answered None (nothing written).
    NotFound when the key does not exist.
    """
    async def attempt() -> tuple[S, S] | None:
        raw, version = await storage.get_with_version(key)
        if raw is None:
            raise NotFound()
        before = cls.decode(raw)
        after = await change(before)
        if after is None:
            return None
        await storage.transaction([TxnOp(key, after.encode())], [Precondition(key, version)])
        return before, after

    return await retry_on_conflict(attempt, random_bytes=random_bytes)


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Rotation attempts kept per static role and per connection (its root rotations), newest first.
HISTORY_SIZE = 20
#: One attempt as stored: ``at`` (epoch seconds), ``trigger`` (create/manual/scheduled), ``outcome``, ``error``.
Attempt = dict[str, Any]


def with_attempt(history: tuple[Attempt, ...], at: float, trigger: str, error: str = "") -> tuple[Attempt, ...]:
    """``history`` with one attempt first (bounded). ``error`` is a scrubbed reason, never a password."""
    attempt = {"at": at, "trigger": trigger, "outcome": "failure" if error else "success", "error": error[:200]}
    return (attempt, *history)[:HISTORY_SIZE]


def failure_reason(exc: BaseException) -> str:
    """What a failed rotation is remembered and reported by: a Strongroom error's message (scrubbed of
    passwords where it is raised), else only the exception's class name (a foreign message may hold anything)."""
    return exc.message if isinstance(exc, StrongroomError) else type(exc).__name__


def history_view(history: tuple[Attempt, ...]) -> list[dict[str, str]]:
    return [{"time": rfc3339(a["at"]), "trigger": a["trigger"], "outcome": a["outcome"], "error": a["error"]}
            for a in history]


@dataclass(frozen=True, slots=True)
class RotationTerms:
    """When something rotates by itself: every ``period`` seconds, or at a cron ``schedule`` (UTC) within
    ``window`` seconds of each scheduled time. All zero/empty: never by itself."""

    period: int = 0
    schedule: str = ""
    window: int = 0

    @property
    def automatic(self) -> bool:
        return bool(self.period or self.schedule)


@dataclass(frozen=True, slots=True)
class ConnectionConfig(Stored):
    """One configured database connection."""

    name: str
    plugin_name: str
    connection_url: str
    username: str = ""
    password: str = field(default="", repr=False)
    allowed_roles: tuple[str, ...] = ()
    max_open_connections: int = 4
    max_idle_seconds: int = 300
    password_policy: str = ""
    username_template: str = ""
    verify_connection: bool = True
    root_rotation_statements: tuple[str, ...] = ()
    root_rotation_period: int = 0
    root_rotation_schedule: str = ""
    root_rotation_window: int = 0
    last_root_rotation: float = 0.0
    #: The new root password while a rotation is under way (see the module docstring).
    pending_password: str = field(default="", repr=False)
    #: MySQL TLS (Vault's names): the CA to trust, and a client certificate with its key (never shown).
    tls_ca: str = ""
    tls_certificate_key: str = field(default="", repr=False)
    #: The root rotations tried (see :func:`with_attempt`).
    rotation_history: tuple[Attempt, ...] = ()

    def allows(self, role: str) -> bool:
        """Whether ``role`` matches one of ``allowed_roles`` (globs; an empty list allows none, as Vault)."""
        return any(fnmatch.fnmatchcase(role, pattern) for pattern in self.allowed_roles)

    @property
    def root_rotation(self) -> RotationTerms:
        return RotationTerms(self.root_rotation_period, self.root_rotation_schedule, self.root_rotation_window)

    def public(self) -> dict[str, Any]:
        """The read answer, in Vault's shape (connection details nested, no password)."""
        return {
            "plugin_name": self.plugin_name,
            "allowed_roles": list(self.allowed_roles),
            "password_policy": self.password_policy,
            "verify_connection": self.verify_connection,
            "root_credentials_rotate_statements": list(self.root_rotation_statements),
            "rotation_period": self.root_rotation_period,
            "rotation_schedule": self.root_rotation_schedule,
            "rotation_window": self.root_rotation_window,
            "last_root_rotation": rfc3339(self.last_root_rotation) if self.last_root_rotation else "",
            "root_rotation_history": history_view(self.rotation_history),
            "connection_details": {
                "connection_url": self.connection_url,
                "username": self.username,
                "max_open_connections": self.max_open_connections,
                "max_idle_seconds": self.max_idle_seconds,
                "username_template": self.username_template,
                "tls_ca": self.tls_ca,
            },
        }


@dataclass(frozen=True, slots=True)
class RoleConfig(Stored):
    """One dynamic role: which connection, what SQL, which TTLs (seconds; 0: the mount's)."""

    name: str
    db_name: str
    creation_statements: tuple[str, ...]
    revocation_statements: tuple[str, ...] = ()
    rollback_statements: tuple[str, ...] = ()
    renew_statements: tuple[str, ...] = ()
    default_ttl: int = 0
    max_ttl: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "db_name": self.db_name,
            "creation_statements": list(self.creation_statements),
            "revocation_statements": list(self.revocation_statements),
            "rollback_statements": list(self.rollback_statements),
            "renew_statements": list(self.renew_statements),
            "default_ttl": self.default_ttl,
            "max_ttl": self.max_ttl,
            "credential_type": "password",
        }


@dataclass(frozen=True, slots=True)
class StaticRole(Stored):
    """An existing database user whose password the engine owns and rotates."""

    name: str
    db_name: str
    username: str
    rotation_period: int = 0
    rotation_schedule: str = ""
    rotation_window: int = 0
    rotation_statements: tuple[str, ...] = ()
    password: str = field(default="", repr=False)
    pending_password: str = field(default="", repr=False)
    last_vault_rotation: float = 0.0
    #: The scheduler due time the last (or the pending) scheduled rotation served.
    rotation_due: float = 0.0
    #: The rotations tried (see :func:`with_attempt`).
    rotation_history: tuple[Attempt, ...] = ()

    @property
    def rotation(self) -> RotationTerms:
        return RotationTerms(self.rotation_period, self.rotation_schedule, self.rotation_window)

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "db_name": self.db_name,
            "username": self.username,
            "rotation_statements": list(self.rotation_statements),
            "credential_type": "password",
            "last_vault_rotation": rfc3339(self.last_vault_rotation) if self.last_vault_rotation else "",
            "rotation_history": history_view(self.rotation_history),
        }
        if self.rotation_schedule:
            out.update(rotation_schedule=self.rotation_schedule, rotation_window=self.rotation_window)
        else:
            out["rotation_period"] = self.rotation_period
        return out
