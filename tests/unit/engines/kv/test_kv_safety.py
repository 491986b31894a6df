"""Secrets stay out of errors, writes are atomic, and writers in one process do not lose updates."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from strongroom.errors import CheckAndSetMismatch, StorageError, StrongroomError
from strongroom.sdk.logical import Operation

READ, UPDATE, PATCH, DELETE, LIST = (
    Operation.READ,
    Operation.UPDATE,
    Operation.PATCH,
    Operation.DELETE,
    Operation.LIST,
)
CANARY = "CANARY-s3cr3t-7f1e9a"

# Malformed requests that carry the canary (CVE-2025-4166: KV echoed values of malformed payloads).
V2_MALFORMED: list[tuple[Operation, str, dict[str, Any]]] = [
    (UPDATE, "data/app", {"data": [CANARY]}),
    (UPDATE, "data/app", {"data": CANARY}),
    (UPDATE, "data/app", {"data": {"k": {CANARY}}}),
    (UPDATE, "data/app", {"data": {"k": "v"}, "options": CANARY}),
    (UPDATE, "data/app", {"data": {"k": "v"}, "options": {"cas": CANARY}}),
    (PATCH, "data/app", {"data": [CANARY]}),
    (READ, "data/app", {"version": CANARY}),
    (READ, "subkeys/app", {"depth": CANARY}),
    (UPDATE, "delete/app", {"versions": [CANARY]}),
    (UPDATE, "destroy/app", {"versions": CANARY}),
    (UPDATE, "metadata/app", {"max_versions": CANARY}),
    (UPDATE, "metadata/app", {"cas_required": CANARY}),
    (UPDATE, "metadata/app", {"delete_version_after": CANARY}),
    (UPDATE, "metadata/app", {"custom_metadata": CANARY}),
    (UPDATE, "metadata/app", {"custom_metadata": {"k": [CANARY]}}),
    (UPDATE, "metadata/app", {"custom_metadata": {"k": CANARY * 40}}),
    (UPDATE, "metadata/app", {"custom_metadata": {"k": CANARY + "\x00"}}),
    (UPDATE, "metadata/app", {"custom_metadata": {CANARY * 10: "v"}}),
    (UPDATE, "metadata/app", {"custom_metadata": {CANARY + "\x07": "v"}}),
    (PATCH, "metadata/app", {"custom_metadata": {"k": CANARY * 40}}),
    (LIST, "metadata/", {"limit": CANARY}),
    (UPDATE, "config", {"max_versions": CANARY}),
]


def _error_text(error: StrongroomError) -> str:
    return " ".join([str(error), error.message, *error.errors, repr(error)])


@pytest.mark.parametrize(("operation", "path", "body"), V2_MALFORMED)
def test_v2_errors_never_echo_the_payload(kv2, operation, path, body) -> None:
    kv2.put("app", {"k": "v"})
    with pytest.raises(StrongroomError) as caught:
        kv2.call(operation, path, body)
    assert caught.value.status == 400
    assert CANARY not in _error_text(caught.value)


def test_v1_errors_never_echo_the_payload(kv1) -> None:
    with pytest.raises(StrongroomError) as caught:
        kv1.call(UPDATE, "app", {"k": {CANARY}})
    assert caught.value.status == 400
    assert CANARY not in _error_text(caught.value)


def test_secret_values_never_appear_in_storage_keys(kv2) -> None:
    kv2.put("app", {"password": CANARY})
    kv2.call(PATCH, "data/app", {"data": {"other": CANARY}})
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"note": "x"}})
    assert all(CANARY not in key for key in kv2.contents())


def test_storage_layout_is_one_metadata_entry_and_one_entry_per_version(kv2) -> None:
    kv2.put("team/app", {"v": "1"})
    kv2.put("team/app", {"v": "2"})
    kv2.call(UPDATE, "config", {"max_versions": 5})
    keys = sorted(kv2.contents())
    assert keys[0] == "config"
    assert keys[1] == "meta/team/app"
    secret_id = keys[2].split("/")[1]
    assert keys[2:] == [f"ver/{secret_id}/1", f"ver/{secret_id}/2"]
    assert len(secret_id) == 32


@pytest.mark.parametrize(
    ("operation", "path", "body"),
    [
        (UPDATE, "data/app", {"data": {"v": "2"}}),
        (PATCH, "data/app", {"data": {"v": "2"}}),
        (DELETE, "data/app", {}),
        (UPDATE, "delete/app", {"versions": [1]}),
        (UPDATE, "undelete/app", {"versions": [1]}),
        (UPDATE, "destroy/app", {"versions": [1]}),
        (UPDATE, "metadata/app", {"max_versions": 2}),
        (PATCH, "metadata/app", {"max_versions": 2}),
        (DELETE, "metadata/app", {}),
    ],
)
def test_every_v2_change_is_one_storage_transaction(kv2, operation, path, body) -> None:
    kv2.put("app", {"v": "1"})
    kv2.storage.calls.clear()
    kv2.call(operation, path, body)
    assert kv2.storage.calls == ["transaction"]


def test_a_failed_transaction_leaves_no_partial_version(kv2) -> None:
    kv2.call(UPDATE, "config", {"max_versions": 1})
    kv2.put("app", {"v": "1"})
    before = kv2.contents()
    kv2.storage.fail_transactions = True
    with pytest.raises(StorageError):
        kv2.put("app", {"v": "2"})
    kv2.storage.fail_transactions = False
    assert kv2.contents() == before
    assert kv2.get("app").data["data"] == {"v": "1"}


def test_a_failed_metadata_delete_keeps_the_secret_whole(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2"})
    before = kv2.contents()
    kv2.storage.fail_transactions = True
    with pytest.raises(StorageError):
        kv2.call(DELETE, "metadata/app")
    assert kv2.contents() == before


@pytest.fixture
def yielding_kv2(make_kv, recording_storage):
    """A v2 mount whose storage gives the event loop away on every call, as real I/O does."""

    class YieldingStorage(recording_storage):
        async def get(self, key: str) -> bytes | None:
            await asyncio.sleep(0)
            return await super().get(key)

        async def transaction(self, ops, preconditions=()) -> None:
            await asyncio.sleep(0)
            await super().transaction(ops, preconditions)

    return make_kv("2", storage=YieldingStorage())


def test_concurrent_cas_writes_in_one_process_let_exactly_one_win(yielding_kv2) -> None:
    kv = yielding_kv2

    async def race() -> list[Any]:
        writes = [
            kv.backend.handle(kv.request(UPDATE, "data/app", {"data": {"writer": n}, "options": {"cas": 0}}))
            for n in range(5)
        ]
        return await asyncio.gather(*writes, return_exceptions=True)

    results = asyncio.run(race())
    assert sum(isinstance(result, CheckAndSetMismatch) for result in results) == 4
    assert kv.ok(READ, "metadata/app")["current_version"] == 1


def test_concurrent_patches_in_one_process_lose_no_update(yielding_kv2) -> None:
    kv = yielding_kv2
    kv.put("app", {"base": "1"})

    async def race() -> None:
        await asyncio.gather(
            *(kv.backend.handle(kv.request(PATCH, "data/app", {"data": {f"k{n}": n}})) for n in range(4))
        )

    asyncio.run(race())
    data = kv.get("app").data
    assert data["data"] == {"base": "1", "k0": 0, "k1": 1, "k2": 2, "k3": 3}
    assert data["metadata"]["version"] == 5
