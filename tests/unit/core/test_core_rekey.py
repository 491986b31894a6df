"""rekey: the state machine, the single-transaction commit, and old shares dying while the root key lives on."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import pytest
from tests.support.seal_node import SealNode, initialised_node

from strongroom.core.rekey import Rekey
from strongroom.crypto.view import StorageView
from strongroom.errors import InvalidRequest, Sealed, StorageError
from strongroom.sdk.storage import Precondition, TxnOp
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class RecordingBackend(InmemBackend):
    """Records every write; ``fail_transactions`` makes each transaction fail before it applies anything."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, list[str]]] = []
        self.fail_transactions = False

    async def put(self, key: str, value: bytes) -> None:
        self.writes.append(("put", [key]))
        await super().put(key, value)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        if self.fail_transactions:
            raise StorageError("storage write failed")
        self.writes.append(("transaction", [op.key for op in ops]))
        await super().transaction(ops, preconditions)


async def unseals_with(node: SealNode, keys: Sequence[str]) -> bool:
    """Whether ``keys`` unseal a freshly started node over the same storage."""
    restarted = SealNode.over(node.physical)
    try:
        for key in keys:
            await restarted.seal.unseal(key, reset=False)
    except InvalidRequest:
        return False
    return restarted.barrier.sealed is False


async def rekey(node: SealNode, old_keys: Sequence[str], shares: int, threshold: int) -> list[str]:
    nonce = (await node.seal.rekey_start(shares, threshold))["nonce"]
    answer: dict[str, Any] = {}
    for key in old_keys:
        answer = await node.seal.rekey_update(key, nonce)
    assert answer["complete"] is True
    keys: list[str] = answer["keys"]
    return keys


def test_status_before_any_attempt_shows_the_current_threshold_as_required() -> None:
    status = Rekey(os.urandom).status(3)
    assert (status["started"], status["t"], status["n"], status["progress"], status["required"]) == (
        False, 0, 0, 0, 3,
    )
    assert (status["nonce"], status["verification_required"], status["backup"]) == ("", False, False)


@pytest.mark.parametrize(
    ("shares", "threshold"), [(0, 0), (3, 4), (256, 2), (5, 1), (2, 0)]
)
def test_start_refuses_an_impossible_share_configuration(shares: int, threshold: int) -> None:
    with pytest.raises(InvalidRequest, match="invalid seal configuration"):
        Rekey(os.urandom).start(shares, threshold, 3)


def test_start_records_the_new_configuration_and_a_nonce() -> None:
    machine = Rekey(os.urandom)
    started = machine.start(7, 4, 3)
    assert (started["started"], started["n"], started["t"], started["required"]) == (True, 7, 4, 3)
    assert started["nonce"]
    with pytest.raises(InvalidRequest, match="rekey already in progress"):
        machine.start(3, 2, 3)


def test_cancel_needs_the_nonce_and_shares_need_it_too() -> None:
    machine = Rekey(os.urandom)
    nonce = machine.start(3, 2, 2)["nonce"]
    with pytest.raises(InvalidRequest, match="missing nonce"):
        machine.cancel("")
    with pytest.raises(InvalidRequest, match="incorrect nonce"):
        machine.add_share(b"k", "other", 2)
    machine.cancel(nonce)
    with pytest.raises(InvalidRequest, match="no rekey in progress"):
        machine.add_share(b"k", nonce, 2)


def test_rekey_gives_new_shares_that_unseal_and_old_ones_that_do_not() -> None:
    async def scenario() -> None:
        node, old_keys = await initialised_node(5, 3)
        await StorageView(node.barrier, "secret/").put("canary", b"still readable")
        new_keys = await rekey(node, old_keys[1:4], 4, 2)
        assert len(new_keys) == len(set(new_keys)) == 4
        assert not set(new_keys) & set(old_keys)
        assert await unseals_with(node, old_keys[:3]) is False
        assert await unseals_with(node, new_keys[2:4]) is True
        status = await node.seal.status()
        assert (status["n"], status["t"], status["sealed"]) == (4, 2, False)
        # The root key did not change: what was written before opens after a restart with the new shares.
        restarted = SealNode.over(node.physical)
        for key in new_keys[:2]:
            await restarted.seal.unseal(key, reset=False)
        assert await StorageView(restarted.barrier, "secret/").get("canary") == b"still readable"
        assert (await node.seal.rekey_status())["started"] is False

    run(scenario())


def test_rekey_to_a_single_share_returns_the_unseal_key_itself() -> None:
    async def scenario() -> None:
        node, old_keys = await initialised_node(3, 2)
        new_keys = await rekey(node, old_keys[:2], 1, 1)
        assert len(new_keys) == 1
        assert await unseals_with(node, new_keys) is True
        again = await rekey(node, new_keys, 3, 2)
        assert await unseals_with(node, again[1:]) is True

    run(scenario())


def test_the_new_wrap_and_seal_config_are_written_in_one_transaction_and_nothing_else() -> None:
    async def scenario() -> None:
        physical = RecordingBackend()
        node = SealNode.over(physical)
        old_keys = (await node.seal.initialize(3, 2))["keys"]
        for key in old_keys[:2]:
            await node.seal.unseal(key, reset=False)
        physical.writes.clear()
        await rekey(node, old_keys[:2], 3, 2)
        assert physical.writes == [("transaction", ["core/root-key", "core/seal-config"])]

    run(scenario())


def test_a_commit_that_fails_leaves_the_old_shares_working() -> None:
    async def scenario() -> None:
        physical = RecordingBackend()
        node = SealNode.over(physical)
        old_keys = (await node.seal.initialize(3, 2))["keys"]
        for key in old_keys[:2]:
            await node.seal.unseal(key, reset=False)
        nonce = (await node.seal.rekey_start(5, 3))["nonce"]
        await node.seal.rekey_update(old_keys[0], nonce)
        physical.fail_transactions = True
        with pytest.raises(StorageError):
            await node.seal.rekey_update(old_keys[1], nonce)
        physical.fail_transactions = False
        assert await unseals_with(node, old_keys[1:]) is True
        status = await node.seal.status()
        assert (status["n"], status["t"]) == (3, 2)

    run(scenario())


def test_a_quorum_of_wrong_shares_changes_nothing_and_starts_progress_over() -> None:
    async def scenario() -> None:
        node, keys = await initialised_node(3, 2)
        _, foreign = await initialised_node(3, 2)
        nonce = (await node.seal.rekey_start(3, 2))["nonce"]
        await node.seal.rekey_update(foreign[0], nonce)
        with pytest.raises(InvalidRequest, match="do not reconstruct"):
            await node.seal.rekey_update(foreign[1], nonce)
        status = await node.seal.rekey_status()
        assert (status["started"], status["progress"]) == (True, 0)
        assert await unseals_with(node, keys[:2]) is True

    run(scenario())


def test_a_duplicate_share_is_refused_and_does_not_count() -> None:
    async def scenario() -> None:
        node, keys = await initialised_node(3, 2)
        nonce = (await node.seal.rekey_start(3, 2))["nonce"]
        await node.seal.rekey_update(keys[0], nonce)
        with pytest.raises(InvalidRequest, match="already been provided"):
            await node.seal.rekey_update(keys[0], nonce)
        assert (await node.seal.rekey_status())["progress"] == 1

    run(scenario())


def test_rekey_needs_an_unsealed_node_and_sealing_forgets_progress() -> None:
    async def scenario() -> None:
        node, keys = await initialised_node(3, 2)
        nonce = (await node.seal.rekey_start(3, 2))["nonce"]
        await node.seal.rekey_update(keys[0], nonce)
        await node.seal.seal()
        with pytest.raises(Sealed):
            await node.seal.rekey_start(3, 2)
        with pytest.raises(Sealed):
            await node.seal.rekey_update(keys[1], nonce)
        for key in keys[:2]:
            await node.seal.unseal(key, reset=False)
        assert (await node.seal.rekey_status())["started"] is False

    run(scenario())


def test_with_verification_the_new_keys_take_effect_only_once_a_threshold_comes_back() -> None:
    async def scenario() -> None:
        node, old_keys = await initialised_node(3, 2)
        started = await node.seal.rekey_start(4, 3, require_verification=True)
        assert started["verification_required"] is True
        await node.seal.rekey_update(old_keys[0], started["nonce"])
        handed_out = await node.seal.rekey_update(old_keys[1], started["nonce"])
        assert (handed_out["complete"], handed_out["verification_required"]) == (True, True)
        new_keys, verify_nonce = handed_out["keys"], handed_out["verification_nonce"]
        assert verify_nonce != started["nonce"]
        # Not committed yet: the old shares still unseal, the new ones do not.
        assert await unseals_with(node, old_keys[:2]) is True
        assert (await node.seal.status())["t"] == 2
        assert (await node.seal.rekey_status())["verification_nonce"] == verify_nonce
        with pytest.raises(InvalidRequest, match="awaiting verification"):
            await node.seal.rekey_update(old_keys[2], started["nonce"])

        with pytest.raises(InvalidRequest, match="incorrect nonce"):
            await node.seal.rekey_verify_update(new_keys[0], started["nonce"])
        progress = await node.seal.rekey_verify_update(new_keys[0], verify_nonce)
        assert (progress["progress"], progress["t"], progress["n"]) == (1, 3, 4)
        await node.seal.rekey_verify_update(new_keys[3], verify_nonce)
        done = await node.seal.rekey_verify_update(new_keys[1], verify_nonce)
        assert done == {"nonce": verify_nonce, "complete": True}
        assert await unseals_with(node, old_keys[:2]) is False
        assert await unseals_with(node, new_keys[1:4]) is True
        assert (await node.seal.rekey_status())["started"] is False

    run(scenario())


def test_verification_with_wrong_keys_commits_nothing_and_can_restart_with_its_nonce() -> None:
    async def scenario() -> None:
        node, old_keys = await initialised_node(3, 2)
        nonce = (await node.seal.rekey_start(3, 2, require_verification=True))["nonce"]
        await node.seal.rekey_update(old_keys[0], nonce)
        handed_out = await node.seal.rekey_update(old_keys[1], nonce)
        new_keys, verify_nonce = handed_out["keys"], handed_out["verification_nonce"]
        await node.seal.rekey_verify_update(old_keys[0], verify_nonce)
        with pytest.raises(InvalidRequest, match="do not reconstruct the new unseal key"):
            await node.seal.rekey_verify_update(old_keys[1], verify_nonce)
        assert await unseals_with(node, old_keys[1:]) is True

        await node.seal.rekey_verify_update(new_keys[0], verify_nonce)
        with pytest.raises(InvalidRequest, match="missing nonce"):
            await node.seal.rekey_verify_cancel(None)
        restarted = await node.seal.rekey_verify_cancel(verify_nonce)
        assert restarted["progress"] == 0
        assert restarted["nonce"] != verify_nonce
        await node.seal.rekey_verify_update(new_keys[2], restarted["nonce"])
        assert (await node.seal.rekey_verify_update(new_keys[0], restarted["nonce"]))["complete"] is True
        assert await unseals_with(node, new_keys[:2]) is True

    run(scenario())


def test_verify_without_a_pending_rekey_is_refused() -> None:
    async def scenario() -> None:
        node, keys = await initialised_node(3, 2)
        with pytest.raises(InvalidRequest, match="no rekey verification in progress"):
            await node.seal.rekey_verify_status()
        await node.seal.rekey_start(3, 2)
        with pytest.raises(InvalidRequest, match="no rekey verification in progress"):
            await node.seal.rekey_verify_update(keys[0], "x")

    run(scenario())
