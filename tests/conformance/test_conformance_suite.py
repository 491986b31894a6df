"""The conformance suite's own rules: the shared-store capability is declared, never guessed."""

from __future__ import annotations

import pytest

from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.testing import StorageConformance
from strongroom.storage.inmem import InmemBackend


def test_a_backend_test_class_must_declare_shared_store() -> None:
    with pytest.raises(TypeError, match="must set shared_store"):

        class Undeclared(StorageConformance):
            def make_backend(self) -> StorageBackend:
                return InmemBackend()


def test_claiming_a_shared_store_requires_a_second_instance_factory() -> None:
    with pytest.raises(TypeError, match="no make_second_instance"):

        class Claims(StorageConformance):
            shared_store = True

            def make_backend(self) -> StorageBackend:
                return InmemBackend()


def test_without_a_shared_store_the_cross_instance_tests_do_not_exist() -> None:
    class Private(StorageConformance):
        shared_store = False

        def make_backend(self) -> StorageBackend:
            return InmemBackend()

    assert Private.test_second_instance_sees_acknowledged_writes is None
    assert callable(Private.test_concurrent_puts_all_land)


def test_an_intermediate_base_class_needs_no_flag() -> None:
    class SharedBase(StorageConformance):
        pass

    assert callable(SharedBase.test_second_instance_sees_acknowledged_writes)
