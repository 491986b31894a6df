"""Key ceremonies under the pkcs11 seal (SoftHSM2), in process: recovery keys are the credential.

generate-root takes recovery keys; ``sys/rekey`` rekeys the stored unseal key
(no keys handed out); ``sys/rekey-recovery-key`` replaces the recovery shares,
with or without verification. Each change is checked across a restart.
"""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.core.generate_root import decode_token
from strongroom.core.seal import RECOVERY_KEY_KEY, ROOT_KEY_KEY, SEALED_UNSEAL_KEY_KEY, LocalSealManager
from strongroom.errors import InvalidRequest
from strongroom.storage.inmem import InmemBackend
from tests.seals.manager_support import close_hsm_sessions, hsm, initialised, node, run
from tests.seals.softhsm import Token
from tests.support.seal_node import token_store

__all__ = ["close_hsm_sessions"]


def unsealed(physical: InmemBackend, token: Token) -> LocalSealManager:
    manager = node(physical, hsm(token))
    assert run(manager.auto_unseal()) == ""
    return manager


def recovery_unseals(physical: InmemBackend, token: Token, keys: list[str]) -> bool:
    """Whether ``keys`` (a quorum) unseal a restarted node after sys/seal (the recovery-key check)."""
    manager = unsealed(physical, token)
    run(manager.seal())
    try:
        for key in keys:
            status = run(manager.unseal(key, reset=False))
    except InvalidRequest:
        return False
    return status["sealed"] is False


def test_generate_root_takes_a_quorum_of_recovery_keys(session_token: Token) -> None:
    physical, answer = initialised(session_token)
    manager = unsealed(physical, session_token)
    started = run(manager.generate_root_start(None, None))
    assert (started["required"], started["progress"]) == (2, 0)
    nonce, otp = started["nonce"], started["otp"]
    assert run(manager.generate_root_update(answer["recovery_keys"][0], nonce))["progress"] == 1
    done = run(manager.generate_root_update(answer["recovery_keys_base64"][2], nonce))
    assert done["complete"] is True
    token = decode_token(done["encoded_token"], otp)
    entry = run(token_store(manager.barrier).lookup(token))
    assert entry is not None
    assert tuple(entry.policies) == ("root",)


def test_generate_root_refuses_wrong_recovery_keys(session_token: Token) -> None:
    physical, _ = initialised(session_token)
    _, other = initialised(session_token)
    manager = unsealed(physical, session_token)
    nonce = run(manager.generate_root_start(None, None))["nonce"]
    run(manager.generate_root_update(other["recovery_keys"][0], nonce))
    with pytest.raises(InvalidRequest, match="recovery keys given do not reconstruct"):
        run(manager.generate_root_update(other["recovery_keys"][1], nonce))


def test_rekey_recovery_key_hands_out_new_shares_and_the_old_ones_stop_working(session_token: Token) -> None:
    physical, answer = initialised(session_token)
    old = answer["recovery_keys"]
    manager = unsealed(physical, session_token)
    started = run(manager.rekey_start(5, 3, recovery=True))
    assert (started["t"], started["n"], started["required"]) == (3, 5, 2)
    nonce = started["nonce"]
    run(manager.rekey_update(old[0], nonce, recovery=True))
    done = run(manager.rekey_update(old[1], nonce, recovery=True))
    assert done["complete"] is True
    new = done["keys"]
    assert len(new) == 5
    status = run(manager.status())
    assert (status["t"], status["n"]) == (3, 5)
    assert run(manager.rekey_status(recovery=True))["started"] is False
    assert not recovery_unseals(physical, session_token, old[:2])
    assert recovery_unseals(physical, session_token, new[1:4])


def test_rekey_recovery_key_with_verification_keeps_the_old_keys_until_verified(session_token: Token) -> None:
    physical, answer = initialised(session_token)
    old = answer["recovery_keys"]
    manager = unsealed(physical, session_token)
    nonce = run(manager.rekey_start(3, 2, require_verification=True, recovery=True))["nonce"]
    run(manager.rekey_update(old[0], nonce, recovery=True))
    handed: dict[str, Any] = run(manager.rekey_update(old[2], nonce, recovery=True))
    assert handed["verification_required"] is True
    new, verify_nonce = handed["keys"], handed["verification_nonce"]
    before = run(physical.get(RECOVERY_KEY_KEY))
    assert run(manager.rekey_verify_status(recovery=True))["nonce"] == verify_nonce
    run(manager.rekey_verify_update(old[0], verify_nonce, recovery=True))
    with pytest.raises(InvalidRequest, match="do not reconstruct the new recovery key"):
        run(manager.rekey_verify_update(old[1], verify_nonce, recovery=True))
    assert run(physical.get(RECOVERY_KEY_KEY)) == before
    run(manager.rekey_verify_update(new[0], verify_nonce, recovery=True))
    assert run(manager.rekey_verify_update(new[1], verify_nonce, recovery=True))["complete"] is True
    assert run(physical.get(RECOVERY_KEY_KEY)) != before
    assert recovery_unseals(physical, session_token, new[1:])
    assert not recovery_unseals(physical, session_token, old[:2])


def test_sys_rekey_under_the_hsm_rekeys_the_stored_unseal_key(session_token: Token) -> None:
    physical, answer = initialised(session_token)
    manager = unsealed(physical, session_token)
    started = run(manager.rekey_start(5, 3))  # forced to the one stored share, as Vault does
    assert (started["t"], started["n"], started["required"]) == (1, 1, 2)
    before = (run(physical.get(SEALED_UNSEAL_KEY_KEY)), run(physical.get(ROOT_KEY_KEY)))
    run(manager.rekey_update(answer["recovery_keys"][1], started["nonce"]))
    done = run(manager.rekey_update(answer["recovery_keys"][2], started["nonce"]))
    assert (done["complete"], done["keys"], done["keys_base64"]) == (True, [], [])
    after = (run(physical.get(SEALED_UNSEAL_KEY_KEY)), run(physical.get(ROOT_KEY_KEY)))
    assert after[0] != before[0]
    assert after[1] != before[1]
    restarted = unsealed(physical, session_token)  # the HSM unseals the new key; data reads back
    assert run(token_store(restarted.barrier).lookup(answer["root_token"])) is not None
    assert recovery_unseals(physical, session_token, answer["recovery_keys"][:2])  # recovery keys unchanged


def test_sys_rekey_under_the_hsm_refuses_verification(session_token: Token) -> None:
    physical, _ = initialised(session_token)
    manager = unsealed(physical, session_token)
    with pytest.raises(InvalidRequest, match="requiring verification not supported"):
        run(manager.rekey_start(1, 1, require_verification=True))


def test_rekey_recovery_key_under_shamir_is_refused() -> None:
    physical = InmemBackend()
    answer = run(node(physical, None).initialize(1, 1))
    manager = node(physical, None)
    run(manager.unseal(answer["keys"][0], reset=False))
    with pytest.raises(InvalidRequest, match="recovery keys exist only under an auto-unseal seal"):
        run(manager.rekey_start(3, 2, recovery=True))
