"""Seal migration in process: Shamir <-> the pkcs11 seal (SoftHSM2), over in-memory storage.

Each test reopens the store the way a restart does (a new seal manager over the
same physical store) and checks that data written before the migration reads
back after it: the root token minted at init is looked up through the barrier.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from strongroom.core.seal import RECOVERY_KEY_KEY, ROOT_KEY_KEY, SEAL_CONFIG_KEY, SEALED_UNSEAL_KEY_KEY
from strongroom.errors import InvalidRequest, StorageError
from strongroom.sdk.storage import Precondition, TxnOp
from strongroom.storage.inmem import InmemBackend
from tests.seals.manager_support import close_hsm_sessions, hsm, initialised, node, run
from tests.seals.softhsm import Token
from tests.support.seal_node import token_store

__all__ = ["close_hsm_sessions"]
KEYS = (ROOT_KEY_KEY, SEAL_CONFIG_KEY, SEALED_UNSEAL_KEY_KEY, RECOVERY_KEY_KEY)


def shamir_store(shares: int = 3, threshold: int = 2) -> tuple[InmemBackend, list[str], str]:
    physical = InmemBackend()
    answer = run(node(physical, None).initialize(shares, threshold))
    return physical, answer["keys"], answer["root_token"]


def key_material(physical: InmemBackend) -> dict[str, bytes | None]:
    return {key: run(physical.get(key)) for key in KEYS}


def test_shamir_to_hsm_the_unseal_keys_become_the_recovery_keys(session_token: Token) -> None:
    physical, keys, root = shamir_store()
    manager = node(physical, hsm(session_token))
    assert run(manager.auto_unseal()) == ""
    status = run(manager.status())
    assert (status["migration"], status["sealed"], status["type"], status["recovery_seal"]) == (
        True, True, "shamir", False)
    assert (status["t"], status["n"]) == (2, 3)
    with pytest.raises(InvalidRequest, match="migrate option not provided and seal migration is pending"):
        run(manager.unseal(keys[0], reset=False))
    assert run(manager.unseal(keys[0], reset=False, migrate=True))["progress"] == 1
    done = run(manager.unseal(keys[2], reset=False, migrate=True))
    assert (done["sealed"], done["migration"], done["type"], done["recovery_seal"]) == (False, False, "pkcs11", True)
    assert (done["t"], done["n"]) == (2, 3)
    assert run(token_store(manager.barrier).lookup(root)) is not None
    # A restart unseals through the HSM; after sys/seal the old unseal keys are the recovery keys.
    restarted = node(physical, hsm(session_token))
    assert run(restarted.auto_unseal()) == ""
    assert restarted.barrier.sealed is False
    run(restarted.seal())
    run(restarted.unseal(keys[1], reset=False))
    assert run(restarted.unseal(keys[2], reset=False))["sealed"] is False
    assert run(token_store(restarted.barrier).lookup(root)) is not None
    # Shamir alone no longer opens it.
    with pytest.raises(InvalidRequest, match="sealed with 'pkcs11'"):
        run(node(physical, None).unseal(keys[0], reset=False))


def test_hsm_to_shamir_the_recovery_keys_become_the_unseal_keys(session_token: Token) -> None:
    physical, answer = initialised(session_token)
    recovery = answer["recovery_keys"]
    manager = node(physical, None, old=hsm(session_token))
    status = run(manager.status())
    assert (status["migration"], status["type"], status["recovery_seal"], status["t"], status["n"]) == (
        True, "pkcs11", True, 2, 3)
    run(manager.unseal(recovery[0], reset=False, migrate=True))
    done = run(manager.unseal(recovery[1], reset=False, migrate=True))
    assert (done["sealed"], done["migration"], done["type"], done["recovery_seal"]) == (False, False, "shamir", False)
    stored = key_material(physical)
    assert stored[SEALED_UNSEAL_KEY_KEY] is None
    assert stored[RECOVERY_KEY_KEY] is None
    restarted = node(physical, None)
    run(restarted.unseal(recovery[2], reset=False))
    assert run(restarted.unseal(recovery[0], reset=False))["sealed"] is False
    assert run(token_store(restarted.barrier).lookup(answer["root_token"])) is not None
    # The configuration may keep the disabled block afterwards: the store matches the enabled seal.
    again = node(physical, None, old=hsm(session_token))
    assert run(again.status())["migration"] is False


def test_wrong_keys_refuse_the_migration_and_change_nothing(session_token: Token) -> None:
    physical, keys, _ = shamir_store()
    _, other, _ = shamir_store()
    before = key_material(physical)
    manager = node(physical, hsm(session_token))
    run(manager.unseal(other[0], reset=False, migrate=True))
    with pytest.raises(InvalidRequest, match="unseal keys given do not reconstruct"):
        run(manager.unseal(other[1], reset=False, migrate=True))
    assert manager.barrier.sealed
    assert key_material(physical) == before
    run(manager.unseal(keys[0], reset=False, migrate=True))  # progress started over; the right keys still work
    assert run(manager.unseal(keys[1], reset=False, migrate=True))["sealed"] is False


def test_wrong_recovery_keys_refuse_the_migration_away_from_the_hsm(session_token: Token) -> None:
    physical, _ = initialised(session_token)
    _, other = initialised(session_token)
    before = key_material(physical)
    manager = node(physical, None, old=hsm(session_token))
    run(manager.unseal(other["recovery_keys"][0], reset=False, migrate=True))
    with pytest.raises(InvalidRequest, match="recovery keys given do not reconstruct"):
        run(manager.unseal(other["recovery_keys"][1], reset=False, migrate=True))
    assert key_material(physical) == before


def test_migrate_without_a_pending_migration_is_refused(session_token: Token) -> None:
    physical, keys, _ = shamir_store()
    with pytest.raises(InvalidRequest, match="no seal migration is pending"):
        run(node(physical, None).unseal(keys[0], reset=False, migrate=True))


class FailingCommit(InmemBackend):
    """A store that refuses its next transaction once armed (the commit never lands, as after a crash)."""

    armed = False

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        if self.armed:
            self.armed = False
            raise StorageError("storage went away")
        await super().transaction(ops, preconditions)


def test_a_commit_that_never_lands_leaves_the_old_seal_working(session_token: Token) -> None:
    physical = FailingCommit()
    answer = run(node(physical, None).initialize(3, 2))
    keys = answer["keys"]
    before = key_material(physical)
    physical.armed = True
    manager = node(physical, hsm(session_token))
    run(manager.unseal(keys[0], reset=False, migrate=True))
    with pytest.raises(StorageError):
        run(manager.unseal(keys[1], reset=False, migrate=True))
    assert manager.barrier.sealed
    assert key_material(physical) == before
    old = node(physical, None)  # the operator goes back to the old configuration: it still unseals
    run(old.unseal(keys[0], reset=False))
    assert run(old.unseal(keys[1], reset=False))["sealed"] is False
    assert run(token_store(old.barrier).lookup(answer["root_token"])) is not None
    retry = node(physical, hsm(session_token))  # or runs the migration again
    run(retry.unseal(keys[1], reset=False, migrate=True))
    assert run(retry.unseal(keys[2], reset=False, migrate=True))["sealed"] is False


def test_a_migration_does_not_overwrite_key_material_that_changed_meanwhile(session_token: Token) -> None:
    physical, keys, _ = shamir_store()
    manager = node(physical, hsm(session_token))
    run(manager.unseal(keys[0], reset=False, migrate=True))
    # Another node over the same store migrates first (its own quorum).
    first = node(physical, hsm(session_token))
    run(first.unseal(keys[1], reset=False, migrate=True))
    assert run(first.unseal(keys[2], reset=False, migrate=True))["sealed"] is False
    migrated = key_material(physical)
    with pytest.raises(InvalidRequest):
        run(manager.unseal(keys[1], reset=False, migrate=True))
    assert key_material(physical) == migrated
