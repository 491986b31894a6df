"""Automatic rotation (lazy, on the injected clock) and key writes racing across worker-like backends."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from transit_harness import Transit, b64

from strongroom.engines.transit import TransitBackend
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.storage import Precondition, TxnOp
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

HOUR = 3600


def latest(transit: Transit) -> int:
    version: int = transit.read("keys/k")["latest_version"]
    return version


def test_a_due_key_rotates_before_the_next_encryption(transit: Transit) -> None:
    transit.create("k", auto_rotate_period="1h")
    transit.clock.advance(HOUR - 1)
    assert transit.encrypt("k", b"x").startswith("vault:v1:")
    transit.clock.advance(1)
    assert transit.encrypt("k", b"x").startswith("vault:v2:")
    key = transit.read("keys/k")
    assert key["latest_version"] == 2
    assert key["keys"]["2"] == 1_800_000_000 + HOUR


def test_the_period_counts_from_the_latest_version_so_a_manual_rotation_restarts_it(transit: Transit) -> None:
    transit.create("k", auto_rotate_period="1h")
    transit.clock.advance(HOUR - 10)
    transit.write("keys/k/rotate")
    transit.clock.advance(20)
    assert transit.encrypt("k", b"x").startswith("vault:v2:")
    transit.clock.advance(HOUR)
    assert transit.encrypt("k", b"x").startswith("vault:v3:")


def test_a_key_that_stayed_idle_for_many_periods_rotates_once(transit: Transit) -> None:
    transit.create("k", auto_rotate_period="1h")
    transit.clock.advance(10 * HOUR)
    transit.encrypt("k", b"x")
    assert latest(transit) == 2


def test_decrypt_and_reads_never_rotate(transit: Transit) -> None:
    transit.create("k", auto_rotate_period="1h")
    ciphertext = transit.encrypt("k", b"x")
    transit.clock.advance(2 * HOUR)
    assert transit.decrypt("k", ciphertext) == b"x"
    transit.write("verify/k", {"input": b64(b"m"), "hmac": "vault:v1:AAAA"})
    assert latest(transit) == 1


@pytest.mark.parametrize(("key_type", "path", "body"), [
    ("aes256-gcm96", "rewrap/k", "ciphertext"),
    ("aes256-gcm96", "datakey/wrapped/k", None),
    ("hmac", "hmac/k", "input"),
    ("ed25519", "sign/k", "input"),
])
def test_every_operation_that_makes_new_output_rotates_a_due_key(
    transit: Transit, key_type: str, path: str, body: str | None
) -> None:
    transit.create("k", type=key_type, auto_rotate_period="1h")
    fields = {}
    if body == "ciphertext":
        fields = {"ciphertext": transit.encrypt("k", b"x")}
    elif body == "input":
        fields = {"input": b64(b"m")}
    transit.clock.advance(HOUR)
    transit.write(path, fields)
    assert latest(transit) == 2


def test_rotate_due_keys_rotates_exactly_the_due_keys(transit: Transit) -> None:
    transit.create("k", auto_rotate_period="1h")
    transit.create("slow", auto_rotate_period="24h")
    transit.create("manual")
    transit.clock.advance(HOUR)
    assert transit.rotate_due() == ["k"]
    assert transit.rotate_due() == []
    transit.clock.advance(23 * HOUR)
    assert transit.rotate_due() == ["k", "slow"]
    assert transit.read("keys/manual")["latest_version"] == 1


def test_disabling_auto_rotation_stops_it(transit: Transit) -> None:
    transit.create("k", auto_rotate_period="1h")
    transit.write("keys/k/config", {"auto_rotate_period": 0})
    transit.clock.advance(100 * HOUR)
    transit.encrypt("k", b"x")
    assert latest(transit) == 1


class InterleavingStorage(InmemBackend):
    """In-memory storage that yields to the event loop between a read and a write, so coroutines interleave."""

    def __init__(self) -> None:
        super().__init__()
        self.conflicts = 0

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        found = await super().get_with_version(key)
        await asyncio.sleep(0)
        return found

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        await asyncio.sleep(0)
        try:
            await super().transaction(ops, preconditions)
        except Exception:
            self.conflicts += 1
            raise


def workers(count: int) -> tuple[list[TransitBackend], InterleavingStorage, ManualClock]:
    """``count`` backends over one storage and one clock, as worker processes share a store."""
    storage, clock = InterleavingStorage(), ManualClock(start=1_800_000_000.0)
    backends = [
        TransitBackend(BackendContext(storage=storage, system=SystemView(clock=clock), mount_point="transit/",
                                      mount_accessor="transit_0001"))
        for _ in range(count)
    ]
    return backends, storage, clock


async def call(backend: TransitBackend, op: Operation, path: str, data: dict[str, object]) -> Response | None:
    return await backend.handle(Request(op, path, dict(data), storage=backend.ctx.storage))


def test_workers_noticing_the_same_due_rotation_make_exactly_one_new_version() -> None:
    backends, storage, clock = workers(4)

    async def scenario() -> list[str]:
        await call(backends[0], Operation.UPDATE, "keys/k", {"auto_rotate_period": "1h"})
        clock.advance(HOUR)
        answers = await asyncio.gather(*[
            call(backends[i % 4], Operation.UPDATE, "encrypt/k", {"plaintext": b64(b"x")}) for i in range(24)
        ])
        return [a.data["ciphertext"] for a in answers if a is not None and a.data is not None]

    ciphertexts = asyncio.run(scenario())
    assert len(ciphertexts) == 24
    assert all(c.startswith("vault:v2:") for c in ciphertexts)
    assert storage.conflicts > 0  # the race really happened and was settled by the precondition
    read = asyncio.run(call(backends[3], Operation.READ, "keys/k", {}))
    assert read is not None
    assert read.data is not None
    assert read.data["latest_version"] == 2


def test_racing_creations_of_one_key_agree_on_a_single_key() -> None:
    backends, _, _ = workers(2)

    async def scenario() -> tuple[Response | None, Response | None, str]:
        first, second = await asyncio.gather(
            call(backends[0], Operation.UPDATE, "keys/k", {}), call(backends[1], Operation.UPDATE, "keys/k", {})
        )
        sealed = await call(backends[0], Operation.UPDATE, "encrypt/k", {"plaintext": b64(b"x")})
        assert sealed is not None
        assert sealed.data is not None
        opened = await call(backends[1], Operation.UPDATE, "decrypt/k", {"ciphertext": sealed.data["ciphertext"]})
        assert opened is not None
        assert opened.data is not None
        return first, second, opened.data["plaintext"]

    first, second, plaintext = asyncio.run(scenario())
    assert plaintext == b64(b"x")
    assert first is not None
    assert second is not None
    assert sorted([first.warnings, second.warnings]) == [[], ["key k already existed"]]


def test_racing_config_changes_both_land() -> None:
    backends, _, _ = workers(2)

    async def scenario() -> dict[str, object]:
        await call(backends[0], Operation.UPDATE, "keys/k", {})
        await asyncio.gather(
            call(backends[0], Operation.UPDATE, "keys/k/config", {"deletion_allowed": True}),
            call(backends[1], Operation.UPDATE, "keys/k/config", {"exportable": True}),
        )
        read = await call(backends[1], Operation.READ, "keys/k", {})
        assert read is not None
        assert read.data is not None
        return read.data

    data = asyncio.run(scenario())
    assert (data["deletion_allowed"], data["exportable"]) == (True, True)
