"""The in-memory backend passes the storage conformance suite."""

from __future__ import annotations

from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.testing import StorageConformance
from strongroom.storage.inmem import InmemBackend


class TestInmemStorage(StorageConformance):
    # One dict per instance: there is no store that two instances could share.
    shared_store = False

    def make_backend(self) -> StorageBackend:
        return InmemBackend()
