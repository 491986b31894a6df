"""The barrier over an untrusted store: confidentiality, integrity, path binding, sealing and rotation."""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from strongroom.crypto.barrier import KEYRING_PATH, Barrier
from strongroom.errors import (
    AlreadyInitialized,
    DecryptionFailed,
    InvalidRequest,
    NotInitialized,
    Sealed,
)
from strongroom.sdk.storage import StorageBackend, TxnOp
from strongroom.sdk.system import ManualClock
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")
ROOT_KEY = bytes(range(32))
OTHER_ROOT_KEY = bytes(range(1, 33))
CANARY = b"canary-7f3a91-plaintext"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def unsealed_barrier(
    physical: StorageBackend | None = None, clock: ManualClock | None = None
) -> Barrier:
    barrier = Barrier(physical or InmemBackend(), clock=clock or ManualClock())
    if not await barrier.is_initialized():
        await barrier.initialize(ROOT_KEY)
    await barrier.unseal(ROOT_KEY)
    return barrier


async def stored_entries(physical: InmemBackend, prefix: str = "") -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for child in await physical.list(prefix):
        if child.endswith("/"):
            out.update(await stored_entries(physical, prefix + child))
        else:
            value = await physical.get(prefix + child)
            assert value is not None
            out[prefix + child] = value
    return out


def term_of(blob: bytes) -> int:
    return int(struct.unpack(">I", blob[1:5])[0])


# --- round trips --------------------------------------------------------------------------------


def test_values_round_trip_through_the_barrier() -> None:
    async def scenario() -> None:
        barrier = await unsealed_barrier()
        await barrier.put("secret/a", b"alpha")
        await barrier.put("secret/empty", b"")
        assert await barrier.get("secret/a") == b"alpha"
        assert await barrier.get("secret/empty") == b""
        assert await barrier.get("secret/missing") is None
        assert await barrier.list("secret/") == ["a", "empty"]
        await barrier.delete("secret/a")
        assert await barrier.get("secret/a") is None

    run(scenario())


def test_a_transaction_seals_its_puts_and_applies_its_deletes() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        await barrier.put("t/old", b"old")
        await barrier.transaction([TxnOp("t/new", CANARY), TxnOp("t/old", None)])
        assert await barrier.get("t/new") == CANARY
        assert await barrier.get("t/old") is None
        raw = await physical.get("t/new")
        assert raw is not None
        assert CANARY not in raw

    run(scenario())


def test_the_physical_store_never_sees_plaintext() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        await barrier.put("kv/data/app", CANARY)
        await barrier.put(CANARY.decode() + "-path-is-visible-by-design", CANARY)
        for value in (await stored_entries(physical)).values():
            assert CANARY not in value

    run(scenario())


def test_an_entry_has_version_term_nonce_ciphertext_and_tag() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        await barrier.put("p", b"12345")
        blob = await physical.get("p")
        assert blob is not None
        assert blob[0] == 1
        assert term_of(blob) == 1
        assert len(blob) == 1 + 4 + 12 + 5 + 16

    run(scenario())


def test_writing_the_same_value_twice_gives_different_ciphertexts() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        await barrier.put("p", b"same")
        first = await physical.get("p")
        await barrier.put("p", b"same")
        assert await physical.get("p") != first

    run(scenario())


SEGMENT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/"), min_size=1, max_size=8)


@settings(max_examples=50, deadline=None)
@given(path=st.lists(SEGMENT, min_size=1, max_size=4).map("/".join), value=st.binary(max_size=300))
def test_any_path_and_value_round_trip(path: str, value: bytes) -> None:
    assume(not path.startswith("core/"))

    async def scenario() -> None:
        barrier = await unsealed_barrier()
        await barrier.put(path, value)
        assert await barrier.get(path) == value

    run(scenario())


def test_a_path_that_is_not_valid_unicode_is_refused() -> None:
    async def scenario() -> None:
        barrier = await unsealed_barrier()
        with pytest.raises(InvalidRequest):
            await barrier.put("bad/\udc80", b"v")

    run(scenario())


# --- integrity: every tamper is one opaque error ------------------------------------------------


async def barrier_with_entry(value: bytes = b"payload") -> tuple[Barrier, InmemBackend, bytes]:
    physical = InmemBackend()
    barrier = await unsealed_barrier(physical)
    await barrier.put("secret/entry", value)
    blob = await physical.get("secret/entry")
    assert blob is not None
    return barrier, physical, blob


async def read_tampered(barrier: Barrier, physical: InmemBackend, blob: bytes) -> None:
    await physical.put("secret/entry", blob)
    await barrier.get("secret/entry")


def test_flipping_any_bit_of_an_entry_fails_to_decrypt() -> None:
    async def scenario() -> None:
        barrier, physical, blob = await barrier_with_entry(b"xy")
        for position in range(len(blob)):
            for bit in (0x01, 0x80):
                damaged = bytearray(blob)
                damaged[position] ^= bit
                with pytest.raises(DecryptionFailed):
                    await read_tampered(barrier, physical, bytes(damaged))

    run(scenario())


def test_truncating_an_entry_to_any_length_fails_to_decrypt() -> None:
    async def scenario() -> None:
        barrier, physical, blob = await barrier_with_entry()
        for length in range(len(blob)):
            with pytest.raises(DecryptionFailed):
                await read_tampered(barrier, physical, blob[:length])

    run(scenario())


def test_appending_to_an_entry_fails_to_decrypt() -> None:
    async def scenario() -> None:
        barrier, physical, blob = await barrier_with_entry()
        with pytest.raises(DecryptionFailed):
            await read_tampered(barrier, physical, blob + b"\x00")

    run(scenario())


def test_an_entry_copied_to_another_path_fails_to_decrypt() -> None:
    async def scenario() -> None:
        barrier, physical, blob = await barrier_with_entry()
        await physical.put("secret/elsewhere", blob)
        with pytest.raises(DecryptionFailed):
            await barrier.get("secret/elsewhere")
        assert await barrier.get("secret/entry") == b"payload"

    run(scenario())


def test_swapping_two_entries_makes_both_fail_to_decrypt() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        await barrier.put("a", b"one")
        await barrier.put("b", b"two")
        blob_a, blob_b = await physical.get("a"), await physical.get("b")
        assert blob_a is not None
        assert blob_b is not None
        await physical.put("a", blob_b)
        await physical.put("b", blob_a)
        for path in ("a", "b"):
            with pytest.raises(DecryptionFailed):
                await barrier.get(path)

    run(scenario())


def test_relabelling_an_entry_with_another_known_term_fails_to_decrypt() -> None:
    async def scenario() -> None:
        barrier, physical, blob = await barrier_with_entry()
        await barrier.rotate()
        relabelled = blob[:1] + struct.pack(">I", 2) + blob[5:]
        with pytest.raises(DecryptionFailed):
            await read_tampered(barrier, physical, relabelled)

    run(scenario())


def test_an_entry_claiming_an_unknown_future_term_fails_after_a_reload() -> None:
    async def scenario() -> None:
        barrier, physical, blob = await barrier_with_entry()
        with pytest.raises(DecryptionFailed):
            await read_tampered(barrier, physical, blob[:1] + struct.pack(">I", 99) + blob[5:])
        assert barrier.key_status().term == 1

    run(scenario())


def test_the_keyring_blob_copied_to_an_entry_path_fails_to_decrypt() -> None:
    async def scenario() -> None:
        barrier, physical, _ = await barrier_with_entry()
        keyring_blob = await physical.get(KEYRING_PATH)
        assert keyring_blob is not None
        with pytest.raises(DecryptionFailed):
            await read_tampered(barrier, physical, keyring_blob)

    run(scenario())


def test_an_unknown_envelope_version_fails_to_decrypt() -> None:
    async def scenario() -> None:
        barrier, physical, blob = await barrier_with_entry()
        with pytest.raises(DecryptionFailed):
            await read_tampered(barrier, physical, b"\x02" + blob[1:])

    run(scenario())


@settings(max_examples=200, deadline=None)
@given(blob=st.binary(max_size=120))
def test_random_bytes_in_storage_only_ever_raise_decryption_failed(blob: bytes) -> None:
    async def scenario() -> None:
        barrier, physical, _ = await barrier_with_entry()
        with pytest.raises(DecryptionFailed):
            await read_tampered(barrier, physical, blob)

    run(scenario())


@settings(max_examples=200, deadline=None)
@given(term=st.integers(0, 2**32 - 1), tail=st.binary(max_size=80))
def test_well_formed_headers_with_random_bodies_only_ever_raise_decryption_failed(
    term: int, tail: bytes
) -> None:
    async def scenario() -> None:
        barrier, physical, _ = await barrier_with_entry()
        with pytest.raises(DecryptionFailed):
            await read_tampered(barrier, physical, b"\x01" + struct.pack(">I", term) + tail)

    run(scenario())


# --- sealing ------------------------------------------------------------------------------------


async def assert_every_operation_is_refused_while_sealed(barrier: Barrier) -> None:
    operations: Sequence[Callable[[], Coroutine[Any, Any, object]]] = (
        lambda: barrier.get("a"),
        lambda: barrier.put("a", b"v"),
        lambda: barrier.delete("a"),
        lambda: barrier.list(""),
        lambda: barrier.transaction([TxnOp("a", b"v")]),
        barrier.rotate,
        barrier.reload_keyring,
        lambda: barrier.rekey_root(OTHER_ROOT_KEY),
    )
    for operation in operations:
        with pytest.raises(Sealed):
            await operation()
    with pytest.raises(Sealed):
        barrier.key_status()


def test_a_new_barrier_is_sealed_and_refuses_everything() -> None:
    async def scenario() -> None:
        barrier = Barrier(InmemBackend())
        await barrier.initialize(ROOT_KEY)
        assert barrier.sealed
        await assert_every_operation_is_refused_while_sealed(barrier)

    run(scenario())


def test_sealing_refuses_everything_until_unsealed_again() -> None:
    async def scenario() -> None:
        barrier = await unsealed_barrier()
        await barrier.put("a", b"kept")
        barrier.seal()
        assert barrier.sealed
        await assert_every_operation_is_refused_while_sealed(barrier)
        await barrier.unseal(ROOT_KEY)
        assert await barrier.get("a") == b"kept"

    run(scenario())


class PausingBackend(InmemBackend):
    """Holds every get until released, so a test can seal the barrier mid-read."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def get(self, key: str) -> bytes | None:
        if self.paused:
            self.reached.set()
            await self.release.wait()
        return await super().get(key)


def test_a_read_in_flight_when_the_barrier_is_sealed_raises_sealed() -> None:
    async def scenario() -> None:
        physical = PausingBackend()
        barrier = await unsealed_barrier(physical)
        await barrier.put("a", CANARY)
        physical.paused = True
        read = asyncio.create_task(barrier.get("a"))
        await physical.reached.wait()
        barrier.seal()
        physical.release.set()
        with pytest.raises(Sealed):
            await read

    run(scenario())


def test_an_unseal_in_flight_when_the_barrier_is_sealed_leaves_it_sealed() -> None:
    async def scenario() -> None:
        physical = PausingBackend()
        barrier = Barrier(physical)
        await barrier.initialize(ROOT_KEY)
        physical.paused = True
        unseal = asyncio.create_task(barrier.unseal(ROOT_KEY))
        await physical.reached.wait()
        barrier.seal()
        physical.release.set()
        with pytest.raises(Sealed):
            await unseal
        assert barrier.sealed

    run(scenario())


# --- initialisation and root keys ---------------------------------------------------------------


def test_initialize_creates_a_keyring_and_leaves_the_barrier_sealed() -> None:
    async def scenario() -> None:
        barrier = Barrier(InmemBackend())
        assert not await barrier.is_initialized()
        await barrier.initialize(ROOT_KEY)
        assert await barrier.is_initialized()
        assert barrier.sealed

    run(scenario())


def test_initialize_twice_is_refused() -> None:
    async def scenario() -> None:
        barrier = Barrier(InmemBackend())
        await barrier.initialize(ROOT_KEY)
        with pytest.raises(AlreadyInitialized):
            await barrier.initialize(OTHER_ROOT_KEY)

    run(scenario())


def test_initialize_applies_the_outside_writes_in_the_same_transaction() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        await Barrier(physical).initialize(ROOT_KEY, also_write=[TxnOp("core/root-key", b"wrapped")])
        assert await physical.get("core/root-key") == b"wrapped"

    run(scenario())


def test_unsealing_an_uninitialised_barrier_is_refused() -> None:
    with pytest.raises(NotInitialized):
        run(Barrier(InmemBackend()).unseal(ROOT_KEY))


def test_a_wrong_root_key_fails_to_decrypt_and_stays_sealed() -> None:
    async def scenario() -> None:
        barrier = Barrier(InmemBackend())
        await barrier.initialize(ROOT_KEY)
        with pytest.raises(DecryptionFailed):
            await barrier.unseal(OTHER_ROOT_KEY)
        assert barrier.sealed

    run(scenario())


def test_a_damaged_keyring_fails_to_decrypt() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = Barrier(physical)
        await barrier.initialize(ROOT_KEY)
        blob = await physical.get(KEYRING_PATH)
        assert blob is not None
        await physical.put(KEYRING_PATH, blob[:-1] + bytes([blob[-1] ^ 1]))
        with pytest.raises(DecryptionFailed):
            await barrier.unseal(ROOT_KEY)

    run(scenario())


def test_rekeying_the_root_key_keeps_entries_and_retires_the_old_key() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        await barrier.put("a", b"value")
        await barrier.rekey_root(OTHER_ROOT_KEY, also_write=[TxnOp("core/root-key", b"rewrapped")])
        assert await physical.get("core/root-key") == b"rewrapped"
        assert await barrier.get("a") == b"value"
        fresh = Barrier(physical)
        with pytest.raises(DecryptionFailed):
            await fresh.unseal(ROOT_KEY)
        await fresh.unseal(OTHER_ROOT_KEY)
        assert await fresh.get("a") == b"value"

    run(scenario())


# --- rotation -----------------------------------------------------------------------------------


def test_rotation_keeps_old_entries_readable_and_seals_new_ones_under_the_new_term() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        clock = ManualClock()
        barrier = await unsealed_barrier(physical, clock)
        await barrier.put("old", b"before")
        clock.advance(60)
        assert await barrier.rotate() == 2
        await barrier.put("new", b"after")
        old_blob, new_blob = await physical.get("old"), await physical.get("new")
        assert old_blob is not None
        assert new_blob is not None
        assert (term_of(old_blob), term_of(new_blob)) == (1, 2)
        assert await barrier.get("old") == b"before"
        assert await barrier.get("new") == b"after"
        status = barrier.key_status()
        assert (status.term, status.install_time, status.encryptions) == (2, clock.now, 1)

    run(scenario())


def test_rotation_survives_seal_and_unseal() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        await barrier.put("old", b"before")
        await barrier.rotate()
        await barrier.put("new", b"after")
        reopened = await unsealed_barrier(physical)
        assert reopened.key_status().term == 2
        assert await reopened.get("old") == b"before"
        assert await reopened.get("new") == b"after"

    run(scenario())


def test_the_encryption_counter_counts_seals_under_the_active_term() -> None:
    async def scenario() -> None:
        barrier = await unsealed_barrier()
        await barrier.put("a", b"1")
        await barrier.transaction([TxnOp("b", b"2"), TxnOp("c", b"3"), TxnOp("a", None)])
        assert barrier.key_status().encryptions == 3
        await barrier.rotate()
        assert barrier.key_status().encryptions == 0

    run(scenario())


def test_a_barrier_picks_up_a_term_rotated_by_another_barrier_on_first_read() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        first = await unsealed_barrier(physical)
        second = await unsealed_barrier(physical)
        assert await second.rotate() == 2
        await second.put("from-second", b"hello")
        assert first.key_status().term == 1
        assert await first.get("from-second") == b"hello"
        assert first.key_status().term == 2
        await first.put("from-first", b"back")
        blob = await physical.get("from-first")
        assert blob is not None
        assert term_of(blob) == 2

    run(scenario())


def test_reload_keyring_picks_up_another_barriers_rotation() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        first = await unsealed_barrier(physical)
        second = await unsealed_barrier(physical)
        await second.rotate()
        await first.reload_keyring()
        assert first.key_status().term == 2

    run(scenario())


def test_rotation_builds_on_a_newer_keyring_in_storage() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        first = await unsealed_barrier(physical)
        second = await unsealed_barrier(physical)
        await second.rotate()
        await second.put("second", b"two")
        assert await first.rotate() == 3
        assert await first.get("second") == b"two"
        assert await second.get("second") == b"two"

    run(scenario())


def test_a_rolled_back_keyring_is_refused_on_reload() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        old_keyring = await physical.get(KEYRING_PATH)
        assert old_keyring is not None
        await barrier.rotate()
        await physical.put(KEYRING_PATH, old_keyring)
        with pytest.raises(DecryptionFailed):
            await barrier.reload_keyring()
        assert barrier.key_status().term == 2

    run(scenario())


# --- reserved paths and repr --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["core/keyring", "core/keyring/x", "core/root-key", "core/seal-config"])
def test_reserved_paths_cannot_be_addressed_through_the_barrier(path: str) -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        keyring_before = await physical.get(KEYRING_PATH)
        with pytest.raises(InvalidRequest):
            await barrier.get(path)
        with pytest.raises(InvalidRequest):
            await barrier.put(path, b"x")
        with pytest.raises(InvalidRequest):
            await barrier.delete(path)
        with pytest.raises(InvalidRequest):
            await barrier.transaction([TxnOp("core/fine", b"x"), TxnOp(path, None)])
        assert await physical.get(KEYRING_PATH) == keyring_before
        assert await physical.get("core/fine") is None

    run(scenario())


def test_listing_hides_the_reserved_entries_and_folders_holding_only_them() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed_barrier(physical)
        await physical.put("core/seal-config", b"{}")
        await physical.put("core/root-key", b"wrapped")
        assert await barrier.list("") == []
        assert await barrier.list("core/") == []
        await barrier.put("core/mounts", b"table")
        assert await barrier.list("") == ["core/"]
        assert await barrier.list("core/") == ["mounts"]

    run(scenario())


def test_the_barrier_repr_shows_no_key_material() -> None:
    async def scenario() -> None:
        barrier = await unsealed_barrier()
        text = repr(barrier) + repr(barrier.key_status())
        assert ROOT_KEY.hex() not in text
        assert "term 1" in repr(barrier)

    run(scenario())


def test_a_random_root_key_works_end_to_end() -> None:
    async def scenario() -> None:
        root_key = os.urandom(32)
        barrier = Barrier(InmemBackend())
        await barrier.initialize(root_key)
        await barrier.unseal(root_key)
        await barrier.put("x", b"y")
        assert await barrier.get("x") == b"y"

    run(scenario())
