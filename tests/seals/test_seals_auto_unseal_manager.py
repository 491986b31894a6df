"""The seal manager under the pkcs11 seal, in process over in-memory storage and a real SoftHSM2 token."""

from __future__ import annotations

import os
import time

import pytest

from strongroom.core.seal import (
    RECOVERY_KEY_KEY,
    ROOT_KEY_KEY,
    SEALED_UNSEAL_KEY_KEY,
    KeyEvent,
    LocalSealManager,
)
from strongroom.crypto.barrier import Barrier
from strongroom.errors import AlreadyInitialized, InvalidRequest
from strongroom.seals.pkcs11 import SealUnavailable
from strongroom.storage.inmem import InmemBackend
from tests.seals.manager_support import close_hsm_sessions, hsm, initialised, node, run
from tests.seals.softhsm import Token
from tests.support.seal_node import mint_root, token_store

__all__ = ["close_hsm_sessions"]


def test_init_under_the_hsm_returns_recovery_keys_and_leaves_the_node_unsealed(session_token: Token) -> None:
    physical = InmemBackend()
    events: list[str] = []
    manager = node(physical, hsm(session_token), events)
    answer = run(manager.initialize(5, 3, 3, 2))  # secret_* do not apply, as in Vault
    assert answer["keys"] == []
    assert answer["keys_base64"] == []
    assert len(answer["recovery_keys"]) == 3
    assert len(answer["recovery_keys_base64"]) == 3
    assert answer["root_token"]
    assert events == ["unsealed"]
    status = run(manager.status())
    assert (status["type"], status["recovery_seal"], status["sealed"]) == ("pkcs11", True, False)
    assert (status["t"], status["n"]) == (2, 3)


def test_a_restarted_node_unseals_itself_without_any_share(session_token: Token) -> None:
    physical, answer = initialised(session_token)
    restarted = node(physical, hsm(session_token))
    assert run(restarted.auto_unseal()) == ""
    assert restarted.barrier.sealed is False
    assert run(token_store(restarted.barrier).lookup(answer["root_token"])) is not None


def test_nothing_the_node_stores_holds_the_unseal_or_root_key_in_the_clear(session_token: Token) -> None:
    physical = InmemBackend()
    keys: list[bytes] = []

    async def on_key(event: KeyEvent) -> None:
        if event.root_key is not None:
            keys.append(event.root_key)

    manager = LocalSealManager(Barrier(physical), mint_root_token=mint_root, on_key=on_key, random_bytes=os.urandom,
                               clock=time.time, storage_type="inmem", auto_seal=hsm(session_token))
    run(manager.initialize(1, 1, 1, 1))
    assert len(keys) == 1
    assert len(keys[0]) == 32
    stored = [run(physical.get(key)) or b"" for key in run(physical.list(""))]
    stored += [run(physical.get("core/" + key)) or b"" for key in run(physical.list("core/"))]
    assert run(physical.get(SEALED_UNSEAL_KEY_KEY)) in stored
    assert all(keys[0] not in blob for blob in stored)


def test_after_sys_seal_a_quorum_of_recovery_keys_unseals_through_the_hsm(session_token: Token) -> None:
    physical, answer = initialised(session_token)
    manager = node(physical, hsm(session_token))
    run(manager.auto_unseal())
    run(manager.seal())
    assert manager.barrier.sealed
    first = run(manager.unseal(answer["recovery_keys"][0], reset=False))
    assert (first["sealed"], first["progress"]) == (True, 1)
    second = run(manager.unseal(answer["recovery_keys_base64"][2], reset=False))
    assert (second["sealed"], second["progress"]) == (False, 0)


def test_wrong_recovery_keys_leave_the_node_sealed(session_token: Token) -> None:
    physical, _ = initialised(session_token)
    _, other = initialised(session_token)
    manager = node(physical, hsm(session_token))
    run(manager.unseal(other["recovery_keys"][0], reset=False))
    with pytest.raises(InvalidRequest, match="recovery keys given do not reconstruct"):
        run(manager.unseal(other["recovery_keys"][1], reset=False))
    assert manager.barrier.sealed


@pytest.mark.parametrize("key", [SEALED_UNSEAL_KEY_KEY, ROOT_KEY_KEY])
def test_a_flipped_bit_in_a_stored_wrapped_key_keeps_the_node_sealed_with_an_opaque_reason(
    session_token: Token, key: str
) -> None:
    physical, _ = initialised(session_token)
    blob = bytearray(run(physical.get(key)) or b"")
    blob[len(blob) // 2] ^= 0x10
    run(physical.put(key, bytes(blob)))
    manager = node(physical, hsm(session_token))
    assert run(manager.auto_unseal()) == "failed to decrypt an entry"
    assert manager.barrier.sealed


def test_a_store_sealed_with_shamir_waits_for_a_migration_under_a_server_configured_with_the_hsm(
    session_token: Token,
) -> None:
    physical = InmemBackend()
    run(node(physical, None).initialize(1, 1))
    manager = node(physical, hsm(session_token))
    assert run(manager.auto_unseal()) == ""  # nothing is wrong: a migration is pending
    assert manager.barrier.sealed
    assert run(manager.status())["migration"] is True


def test_a_store_sealed_with_the_hsm_is_not_opened_by_a_shamir_server_without_the_old_seal(
    session_token: Token,
) -> None:
    physical, _ = initialised(session_token)
    with pytest.raises(InvalidRequest, match='keep the old seal in the configuration with disabled = "true"'):
        run(node(physical, None).unseal("00" * 32, reset=False))


def test_recovery_shares_without_an_auto_seal_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="recovery_shares applies only to auto-unseal"):
        run(node(InmemBackend(), None).initialize(1, 1, 3, 2))


@pytest.mark.parametrize(("shares", "threshold"), [(0, 0), (2, 3), (3, 1), (256, 2)])
def test_an_invalid_recovery_quorum_is_refused(session_token: Token, shares: int, threshold: int) -> None:
    with pytest.raises(InvalidRequest, match="invalid recovery configuration"):
        run(node(InmemBackend(), hsm(session_token)).initialize(1, 1, shares, threshold))


def test_a_second_init_is_refused(session_token: Token) -> None:
    physical, _ = initialised(session_token)
    with pytest.raises(AlreadyInitialized):
        run(node(physical, hsm(session_token)).initialize(1, 1, 3, 2))


def test_a_wrong_pin_is_reported_at_startup_and_init_writes_nothing(session_token: Token) -> None:
    physical = InmemBackend()
    manager = node(physical, hsm(session_token, pin="0000-wrong"))
    assert "PIN is incorrect" in run(manager.auto_unseal())
    with pytest.raises(SealUnavailable):
        run(manager.initialize(1, 1, 3, 2))
    assert run(physical.list("")) == []
    assert run(manager.status())["initialized"] is False


@pytest.mark.parametrize("key", [SEALED_UNSEAL_KEY_KEY, RECOVERY_KEY_KEY])
def test_the_barrier_refuses_the_wrapped_keys_paths(session_token: Token, key: str) -> None:
    physical, _ = initialised(session_token)
    manager = node(physical, hsm(session_token))
    run(manager.auto_unseal())
    before = run(physical.get(key))
    with pytest.raises(InvalidRequest):
        run(manager.barrier.put(key, b"overwrite"))
    assert run(physical.get(key)) == before


def test_the_init_result_hides_its_keys_and_token_from_repr(session_token: Token) -> None:
    physical = InmemBackend()
    result = run(node(physical, hsm(session_token)).initialize_auto(2, 2))
    assert result.recovery_keys is not None
    text = repr(result)
    assert result.root_token not in text
    assert all(key.hex() not in text and repr(key) not in text for key in result.recovery_keys)
