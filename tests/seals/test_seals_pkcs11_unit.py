"""The pkcs11 seal against a real SoftHSM2 token, in process: round trips, tamper, bad configuration."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.config.model import SealConfig as SealBlock
from strongroom.errors import ConfigError, DecryptionFailed
from strongroom.seals.pkcs11 import HEADER, Pkcs11Options, Pkcs11Seal, SealUnavailable, build
from strongroom.server.seal_setup import build_seal, build_seals
from tests.seals.softhsm import LIB, PIN, Token

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


_OPEN: list[Pkcs11Seal] = []


@pytest.fixture(autouse=True)
def _close_sessions() -> Iterator[None]:
    """Close every session a test opened: PKCS#11 login is per process, and a test
    that checks a wrong PIN needs the token logged out."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def seal_for(token: Token, **overrides: Any) -> Pkcs11Seal:
    fields: dict[str, Any] = {"lib": LIB, "key_label": "strongroom-seal", "pin": PIN, "token_label": token.label}
    fields.update(overrides)
    seal = Pkcs11Seal(Pkcs11Options(**fields), os.urandom)
    _OPEN.append(seal)
    return seal


def test_encrypt_then_decrypt_returns_the_plaintext_in_a_versioned_blob(session_token: Token) -> None:
    seal = seal_for(session_token)
    blob = run(seal.encrypt(b"k" * 32))
    assert blob.startswith(HEADER)
    assert b"k" * 32 not in blob
    assert run(seal.decrypt(blob)) == b"k" * 32


def test_two_encryptions_of_one_key_differ(session_token: Token) -> None:
    seal = seal_for(session_token)
    assert run(seal.encrypt(b"same")) != run(seal.encrypt(b"same"))


def test_the_seal_finds_its_token_by_slot_too(session_token: Token) -> None:
    seal = seal_for(session_token, token_label=None, slot=session_token.slot)
    assert run(seal.decrypt(run(seal.encrypt(b"by slot")))) == b"by slot"


@pytest.mark.parametrize("position", [0, 3, 4, 5, 10, 20, -1])
def test_a_flipped_bit_anywhere_in_the_blob_is_one_opaque_error(session_token: Token, position: int) -> None:
    seal = seal_for(session_token)
    blob = bytearray(run(seal.encrypt(b"k" * 32)))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionFailed) as caught:
        run(seal.decrypt(bytes(blob)))
    assert str(caught.value) == "failed to decrypt an entry"


@pytest.mark.parametrize("length", [0, 5, 17, 40])
def test_a_truncated_blob_is_one_opaque_error(session_token: Token, length: int) -> None:
    seal = seal_for(session_token)
    blob = run(seal.encrypt(b"k" * 32))
    with pytest.raises(DecryptionFailed):
        run(seal.decrypt(blob[:length]))


def test_a_blob_from_another_key_does_not_decrypt(session_token: Token) -> None:
    blob = run(seal_for(session_token, key_label="other-key").encrypt(b"k" * 32))
    with pytest.raises(DecryptionFailed):
        run(seal_for(session_token).decrypt(blob))


def test_a_wrong_pin_is_refused_without_echoing_the_pin(session_token: Token) -> None:
    with pytest.raises(SealUnavailable) as caught:
        run(seal_for(session_token, pin="9999-wrong-pin").encrypt(b"x"))
    assert "PIN is incorrect" in str(caught.value)
    assert "9999-wrong-pin" not in str(caught.value)


def test_a_token_label_that_does_not_exist_is_named_in_the_error(session_token: Token) -> None:
    with pytest.raises(SealUnavailable, match="no token labelled 'absent-token'"):
        run(seal_for(session_token, token_label="absent-token").encrypt(b"x"))


def test_a_slot_that_does_not_exist_is_named_in_the_error(session_token: Token) -> None:
    with pytest.raises(SealUnavailable, match="no token in slot 424242"):
        run(seal_for(session_token, token_label=None, slot=424242).encrypt(b"x"))


def test_a_key_label_that_does_not_exist_is_named_in_the_error(session_token: Token) -> None:
    with pytest.raises(SealUnavailable, match="no AES key labelled 'absent-key'"):
        run(seal_for(session_token, key_label="absent-key").decrypt(HEADER + bytes(40)))


def test_a_failed_attempt_is_reported_in_the_seal_status_until_one_succeeds(session_token: Token) -> None:
    seal = seal_for(session_token, pin="9999-wrong-pin")
    with pytest.raises(SealUnavailable):
        run(seal.encrypt(b"x"))
    assert "PIN is incorrect" in str(run(seal.status())["last_error"])
    good = seal_for(session_token)
    run(good.encrypt(b"x"))
    assert run(good.status())["last_error"] == ""


def test_the_pin_never_appears_in_repr(session_token: Token) -> None:
    assert PIN not in repr(seal_for(session_token))
    assert PIN not in repr(Pkcs11Options.from_block({"lib": LIB, "pin": PIN, "key_label": "k", "slot": "1"}))


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"pin": PIN, "key_label": "k", "slot": "1"}, "lib is required"),
        ({"lib": LIB, "key_label": "k", "slot": "1"}, "pin is required"),
        ({"lib": LIB, "pin": PIN, "slot": "1"}, "key_label is required"),
        ({"lib": LIB, "pin": PIN, "key_label": "k"}, "exactly one of slot and token_label"),
        ({"lib": LIB, "pin": PIN, "key_label": "k", "slot": "1", "token_label": "t"}, "exactly one"),
        ({"lib": LIB, "pin": PIN, "key_label": "k", "slot": "one"}, "slot must be an integer"),
        ({"lib": LIB, "pin": PIN, "key_label": "k", "slot": "1", "mechanism": "CKM_AES_CBC"}, "CKM_AES_GCM"),
        ({"lib": LIB, "pin": PIN, "key_label": "k", "slot": "1", "colour": "red"}, "unknown option"),
    ],
)
def test_an_invalid_seal_block_is_a_configuration_error(block: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        build_seal((SealBlock(type="pkcs11", options=block),))
    assert PIN not in str(caught.value)


def test_an_unknown_seal_type_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="unknown seal type 'cloudy'"):
        build_seal((SealBlock(type="cloudy", options={}),))


def test_two_enabled_seal_blocks_are_refused() -> None:
    blocks = (SealBlock(type="pkcs11", options={}), SealBlock(type="shamir", options={}))
    with pytest.raises(ConfigError, match="at most two seal blocks"):
        build_seal(blocks)


GOOD = {"lib": LIB, "pin": PIN, "key_label": "k", "slot": "1"}


def test_a_disabled_block_is_the_old_seal_of_a_migration() -> None:
    seals = build_seals((SealBlock(type="pkcs11", options={**GOOD, "disabled": "true"}),))
    assert seals.active is None  # shamir
    assert seals.disabled is not None
    assert seals.disabled.seal_type == "pkcs11"
    assert PIN not in repr(seals)
    enabled = build_seals((SealBlock(type="pkcs11", options={**GOOD, "disabled": "false"}),))
    assert enabled.active is not None
    assert enabled.disabled is None


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ((SealBlock(type="pkcs11", options={**GOOD, "disabled": "yes please"}),), "disabled must be true or false"),
        ((SealBlock(type="pkcs11", options={**GOOD, "disabled": "true"}),
          SealBlock(type="pkcs11", options=GOOD)), "between two 'pkcs11' seals is not supported"),
        ((SealBlock(type="pkcs11", options={**GOOD, "disabled": "true"}),
          SealBlock(type="transit", options={"disabled": "true"})), "at most two seal blocks"),
        ((SealBlock(type="pkcs11", options={**GOOD, "disabled": "true", "colour": "red"}),), "unknown option"),
    ],
)
def test_bad_migration_blocks_are_configuration_errors(blocks: tuple[SealBlock, ...], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        build_seals(blocks)


def test_no_seal_block_or_a_shamir_block_means_shamir() -> None:
    assert build_seal(()) is None
    assert build_seal((SealBlock(type="shamir", options={}),)) is None


def test_an_hsm_that_goes_away_fails_clearly_and_is_used_again_once_it_is_back(session_token: Token) -> None:
    seal = seal_for(session_token)
    blob = run(seal.encrypt(b"k" * 32))
    session_token.hide()
    try:
        with pytest.raises(SealUnavailable, match="the HSM failed"):
            run(seal.decrypt(blob))
        with pytest.raises(SealUnavailable, match=r"cannot list tokens|no token labelled"):
            run(seal.decrypt(blob))
    finally:
        session_token.restore()
    assert run(seal.decrypt(blob)) == b"k" * 32


def test_the_pin_can_come_from_the_environment_instead_of_the_file(session_token: Token) -> None:
    block = {"lib": LIB, "token_label": session_token.label, "key_label": "strongroom-seal"}
    seal = build(block, os.urandom, {"VAULT_HSM_PIN": PIN})
    _OPEN.append(seal)
    assert run(seal.decrypt(run(seal.encrypt(b"pin from env")))) == b"pin from env"
    with pytest.raises(ValueError, match="pin is required"):
        build(block, os.urandom, {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=96), keep_header=st.booleans())
def test_arbitrary_bytes_given_as_a_blob_are_one_opaque_error(
    session_token: Token, garbage: bytes, keep_header: bool
) -> None:
    seal = seal_for(session_token)
    with pytest.raises(DecryptionFailed):
        run(seal.decrypt((HEADER if keep_header else b"") + garbage))
