"""The seam between the engine and one kind of database: what a plugin must do.

The engine (``backend.py``) decides what to do; a plugin (``postgres.py``,
``mysql.py``) knows how to do it on its database. Every plugin keeps its
connections in a :class:`strongroom.engines.database.pool.Pool` sized by the
config's ``max_open_connections``. Statements are the role's or config's
templates (``{{name}}``, ``{{username}}``, ``{{password}}``, ``{{expiration}}``);
an empty list means the plugin's safe default. Errors are :class:`DatabaseError`
(a 400) whose text never carries a password.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from strongroom.errors import InvalidRequest

from .config import ConnectionConfig
from .templates import UsernameRules

CONNECT_TIMEOUT = 5


class DatabaseError(InvalidRequest):
    """The database refused or could not be reached. The message names host and cause, never a password."""


def scrub(message: str, secrets: Sequence[str]) -> str:
    """The first line of a driver's message with every secret replaced."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "<redacted>")
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


class DatabasePlugin(abc.ABC):
    """One configured database. Instances hold a pool; :meth:`close` ends it."""

    username_rules: UsernameRules

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.config.name!r})"

    @abc.abstractmethod
    async def verify(self) -> None:
        """Connect and run a trivial query; DatabaseError when that fails."""

    @abc.abstractmethod
    async def create_user(self, statements: Sequence[str], rollback: Sequence[str], username: str, password: str,
                          expire_time: float) -> None:
        """Run ``statements``; on any error leave nothing created (run ``rollback``, drop the user) and raise."""

    @abc.abstractmethod
    async def renew_user(self, username: str, statements: Sequence[str], expire_time: float) -> None:
        """Move the user's expiry (``statements`` or the default; a user that is gone stays gone)."""

    @abc.abstractmethod
    async def revoke_user(self, username: str, statements: Sequence[str]) -> None:
        """Stop the user logging in, end its open sessions, drop it. Idempotent."""

    @abc.abstractmethod
    async def set_password(self, username: str, password: str, statements: Sequence[str]) -> None:
        """Give an existing user a new password (static roles); DatabaseError when the user does not exist."""

    @abc.abstractmethod
    async def rotate_root(self, password: str, statements: Sequence[str]) -> None:
        """Change the connection user's own password to ``password`` (``statements`` or the default)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the pool's connections."""

    @property
    @abc.abstractmethod
    def open_connections(self) -> int:
        """Connections this process holds to the database now."""
