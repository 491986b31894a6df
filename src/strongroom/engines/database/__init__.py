"""The ``database`` secrets engine: dynamic PostgreSQL credentials with leases. See docs/database.md."""

from .backend import DatabaseBackend, database_factory

__all__ = ["DatabaseBackend", "database_factory"]
