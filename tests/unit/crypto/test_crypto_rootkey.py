"""AEAD plumbing, root-key wrapping, and the unseal flow: shares -> unseal key -> root key -> barrier."""

from __future__ import annotations

import asyncio
import os

import pytest

from strongroom.crypto import shamir
from strongroom.crypto.aead import AeadKey
from strongroom.crypto.barrier import Barrier
from strongroom.crypto.rootkey import (
    ROOT_KEY_PATH,
    generate_root_key,
    generate_unseal_key,
    unwrap_root_key,
    wrap_root_key,
)
from strongroom.errors import DecryptionFailed, InternalError
from strongroom.sdk.storage import TxnOp
from strongroom.storage.inmem import InmemBackend

KEK = bytes(range(32))
ROOT = bytes(range(100, 132))

# --- AEAD ---------------------------------------------------------------------------------------


def test_aead_round_trips_with_matching_associated_data() -> None:
    key = AeadKey(KEK)
    blob = key.seal(b"text", aad=b"ctx", random_bytes=os.urandom)
    assert len(blob) == 12 + 4 + 16
    assert key.open(blob, aad=b"ctx") == b"text"


def test_aead_refuses_other_associated_data_other_keys_and_short_blobs() -> None:
    blob = AeadKey(KEK).seal(b"text", aad=b"ctx", random_bytes=os.urandom)
    with pytest.raises(DecryptionFailed):
        AeadKey(KEK).open(blob, aad=b"other")
    with pytest.raises(DecryptionFailed):
        AeadKey(ROOT).open(blob, aad=b"ctx")
    for length in range(28):
        with pytest.raises(DecryptionFailed):
            AeadKey(KEK).open(blob[:length], aad=b"ctx")


def test_aead_failures_carry_no_cause_and_no_detail() -> None:
    blob = AeadKey(KEK).seal(b"text", aad=b"ctx", random_bytes=os.urandom)
    with pytest.raises(DecryptionFailed) as caught:
        AeadKey(KEK).open(blob, aad=b"other")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert caught.value.message == "failed to decrypt an entry"


def test_aead_takes_its_nonce_from_the_random_source_and_refuses_a_short_one() -> None:
    blob = AeadKey(KEK).seal(b"x", aad=b"", random_bytes=lambda n: b"\x07" * n)
    assert blob[:12] == b"\x07" * 12
    with pytest.raises(InternalError):
        AeadKey(KEK).seal(b"x", aad=b"", random_bytes=lambda n: bytes(n - 1))


def test_aead_keys_must_be_32_bytes_and_never_show_in_repr() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        AeadKey(bytes(16))
    assert KEK.hex() not in repr(AeadKey(KEK))


# --- root key wrapping --------------------------------------------------------------------------


def test_generated_keys_are_32_random_bytes() -> None:
    assert len(generate_root_key(os.urandom)) == 32
    assert generate_root_key(os.urandom) != generate_root_key(os.urandom)
    assert len(generate_unseal_key(os.urandom)) == 32


def test_a_wrapped_root_key_unwraps_with_its_kek() -> None:
    blob = wrap_root_key(KEK, ROOT, os.urandom)
    assert blob[0] == 1
    assert ROOT not in blob
    assert unwrap_root_key(KEK, blob) == ROOT


@pytest.mark.parametrize("kek", [bytes(32), KEK[:31], KEK + b"\x00", b""])
def test_a_wrong_kek_of_any_length_fails_to_decrypt(kek: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        unwrap_root_key(kek, wrap_root_key(KEK, ROOT, os.urandom))


def test_any_damage_to_a_wrapped_root_key_fails_to_decrypt() -> None:
    blob = wrap_root_key(KEK, ROOT, os.urandom)
    for position in range(len(blob)):
        damaged = bytearray(blob)
        damaged[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            unwrap_root_key(KEK, bytes(damaged))
    for length in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            unwrap_root_key(KEK, blob[:length])


def test_a_blob_sealed_for_another_purpose_is_not_accepted_as_a_root_key() -> None:
    foreign = b"\x01" + AeadKey(KEK).seal(ROOT, aad=b"something else\x01", random_bytes=os.urandom)
    with pytest.raises(DecryptionFailed):
        unwrap_root_key(KEK, foreign)


def test_an_authentic_blob_holding_a_short_key_is_refused() -> None:
    purpose = b"strongroom/core/root-key\x01"
    short = b"\x01" + AeadKey(KEK).seal(b"short", aad=purpose, random_bytes=os.urandom)
    with pytest.raises(DecryptionFailed):
        unwrap_root_key(KEK, short)


# --- the whole unseal chain ---------------------------------------------------------------------


def test_three_of_five_shares_unseal_the_barrier_and_two_do_not() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        unseal_key = generate_unseal_key(os.urandom)
        root_key = generate_root_key(os.urandom)
        shares = shamir.split(unseal_key, 5, 3)
        barrier = Barrier(physical)
        wrapped = wrap_root_key(unseal_key, root_key, os.urandom)
        await barrier.initialize(root_key, also_write=[TxnOp(ROOT_KEY_PATH, wrapped)])

        stored = await physical.get(ROOT_KEY_PATH)
        assert stored is not None
        with pytest.raises(DecryptionFailed):
            unwrap_root_key(shamir.combine(shares[:2]), stored)
        await barrier.unseal(unwrap_root_key(shamir.combine(shares[2:]), stored))
        await barrier.put("a", b"b")
        assert await barrier.get("a") == b"b"

    asyncio.run(scenario())
