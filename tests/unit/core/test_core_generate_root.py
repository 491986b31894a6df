"""generate-root: the state machine, the OTP encoding, and the seal manager minting a root token from a quorum."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from tests.support.seal_node import SealNode, initialised_node

from strongroom.core.generate_root import OTP_LENGTH, RootGeneration, decode_token, encode_token
from strongroom.core.tokens.ids import SERVICE_PREFIX
from strongroom.errors import InvalidRequest, Sealed
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")
BASE62 = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_otp_is_as_long_as_a_root_token() -> None:
    assert OTP_LENGTH == len(SERVICE_PREFIX) + 32 == 36


def test_encoding_is_base64_without_padding_of_token_xor_otp() -> None:
    token, otp = "hvs." + "a" * 32, "B" * 36
    encoded = encode_token(token, otp)
    assert "=" not in encoded
    raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    assert raw == bytes(ord("a") ^ ord("B") if i >= 4 else ord("hvs."[i]) ^ ord("B") for i in range(36))
    assert decode_token(encoded, otp) == token


def test_decoding_with_an_otp_of_another_length_is_refused() -> None:
    encoded = encode_token("hvs." + "x" * 32, "Q" * 36)
    with pytest.raises(InvalidRequest, match="length"):
        decode_token(encoded, "Q" * 35)
    with pytest.raises(InvalidRequest, match="base64"):
        decode_token("!!not base64!!", "Q" * 36)


def test_status_before_any_attempt_shows_nothing_started() -> None:
    status = RootGeneration(os.urandom).status(3)
    assert status["started"] is False
    assert (status["nonce"], status["progress"], status["required"]) == ("", 0, 3)
    assert (status["otp"], status["otp_length"], status["complete"]) == ("", 36, False)


def test_start_generates_a_base62_otp_shown_only_in_the_start_answer() -> None:
    machine = RootGeneration(os.urandom)
    started = machine.start(None, None, 3)
    assert started["started"] is True
    assert len(started["otp"]) == 36
    assert set(started["otp"]) <= BASE62
    assert started["nonce"]
    assert machine.status(3)["otp"] == ""
    assert machine.status(3)["nonce"] == started["nonce"]


def test_a_caller_supplied_otp_must_have_the_token_length() -> None:
    machine = RootGeneration(os.urandom)
    with pytest.raises(InvalidRequest, match="OTP string is wrong length"):
        machine.start("short", None, 3)
    with pytest.raises(InvalidRequest, match="base62"):
        machine.start("-" * 36, None, 3)
    answer = machine.start("A" * 36, None, 3)
    assert answer["otp"] == ""  # the caller already knows it


def test_pgp_keys_are_refused_rather_than_ignored() -> None:
    with pytest.raises(InvalidRequest, match="pgp_key is not supported"):
        RootGeneration(os.urandom).start(None, "bXkga2V5", 3)


def test_a_second_attempt_cannot_start_while_one_runs() -> None:
    machine = RootGeneration(os.urandom)
    machine.start(None, None, 3)
    with pytest.raises(InvalidRequest, match="already in progress"):
        machine.start(None, None, 3)


def test_cancel_needs_the_nonce_of_the_running_attempt() -> None:
    machine = RootGeneration(os.urandom)
    nonce = machine.start(None, None, 3)["nonce"]
    with pytest.raises(InvalidRequest, match="missing nonce"):
        machine.cancel(None)
    with pytest.raises(InvalidRequest, match="incorrect nonce"):
        machine.cancel("00000000-0000-4000-8000-000000000000")
    assert machine.status(3)["started"] is True
    machine.cancel(nonce)
    assert machine.status(3)["started"] is False
    machine.cancel(None)  # nothing running: nothing to protect


def test_shares_with_a_wrong_nonce_or_twice_are_refused_without_progress() -> None:
    machine = RootGeneration(os.urandom)
    nonce = machine.start(None, None, 3)["nonce"]
    with pytest.raises(InvalidRequest, match="incorrect nonce"):
        machine.add_share(b"share-1", "wrong", 3)
    assert machine.add_share(b"share-1", nonce, 3) is None
    with pytest.raises(InvalidRequest, match="already been provided"):
        machine.add_share(b"share-1", nonce, 3)
    assert machine.status(3)["progress"] == 1


def test_update_without_an_attempt_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="no root generation in progress"):
        RootGeneration(os.urandom).add_share(b"k", "n", 1)


def test_a_quorum_mints_a_working_root_token_encoded_with_the_otp() -> None:
    async def scenario() -> None:
        node, keys = await initialised_node()
        started = await node.seal.generate_root_start(None, None)
        nonce, otp = started["nonce"], started["otp"]
        first = await node.seal.generate_root_update(keys[4], nonce)
        assert (first["progress"], first["required"], first["complete"]) == (1, 3, False)
        assert (await node.seal.generate_root_status())["progress"] == 1
        await node.seal.generate_root_update(keys[0], nonce)
        done = await node.seal.generate_root_update(keys[2], nonce)
        assert done["complete"] is True
        assert done["encoded_token"] == done["encoded_root_token"]
        token = decode_token(done["encoded_token"], otp)
        entry = await node.lookup(token)
        assert entry is not None
        assert list(entry.policies) == ["root"]
        assert entry.expire_time == 0
        assert (await node.seal.generate_root_status())["started"] is False

    run(scenario())


def test_a_quorum_of_wrong_shares_mints_nothing_and_starts_progress_over() -> None:
    async def scenario() -> None:
        node, _ = await initialised_node()
        _, foreign = await initialised_node()
        nonce = (await node.seal.generate_root_start(None, None))["nonce"]
        for key in foreign[:2]:
            await node.seal.generate_root_update(key, nonce)
        with pytest.raises(InvalidRequest, match="do not reconstruct"):
            await node.seal.generate_root_update(foreign[2], nonce)
        status = await node.seal.generate_root_status()
        assert (status["started"], status["progress"], status["nonce"]) == (True, 0, nonce)

    run(scenario())


def test_generate_root_needs_an_unsealed_node() -> None:
    async def scenario() -> None:
        node, _ = await initialised_node()
        await node.seal.seal()
        with pytest.raises(Sealed):
            await node.seal.generate_root_status()
        with pytest.raises(Sealed):
            await node.seal.generate_root_start(None, None)
        uninitialised = SealNode.over(InmemBackend())
        with pytest.raises(InvalidRequest, match="not yet initialized"):
            await uninitialised.seal.generate_root_status()

    run(scenario())


def test_sealing_forgets_an_attempt_in_progress() -> None:
    async def scenario() -> None:
        node, keys = await initialised_node()
        nonce = (await node.seal.generate_root_start(None, None))["nonce"]
        await node.seal.generate_root_update(keys[0], nonce)
        await node.seal.seal()
        for key in keys[:3]:
            await node.seal.unseal(key, reset=False)
        assert (await node.seal.generate_root_status())["started"] is False

    run(scenario())


def test_a_share_that_is_neither_hex_nor_base64_is_a_400() -> None:
    async def scenario() -> None:
        node, _ = await initialised_node()
        nonce = (await node.seal.generate_root_start(None, None))["nonce"]
        with pytest.raises(InvalidRequest, match="hex or base64"):
            await node.seal.generate_root_update("not a key!", nonce)
        with pytest.raises(InvalidRequest, match="'key' must be specified"):
            await node.seal.generate_root_update(None, nonce)

    run(scenario())
