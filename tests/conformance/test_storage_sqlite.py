"""The SQLite backend passes the storage conformance suite."""

from __future__ import annotations

from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.testing import StorageConformance
from strongroom.storage.sqlite import SQLiteBackend


class TestSQLiteStorage(StorageConformance):
    shared_store = True

    def make_backend(self) -> StorageBackend:
        return SQLiteBackend(str(self.workdir / "store.db"))

    def make_second_instance(self) -> StorageBackend:
        return SQLiteBackend(str(self.workdir / "store.db"))
