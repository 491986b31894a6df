"""The policy store: parse before storing, reserved names, the built-in default, and the cache contract."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from strongroom.core.policy.acl import ACL
from strongroom.core.policy.default import DEFAULT_POLICY_TEXT
from strongroom.core.policy.model import ROOT_POLICY
from strongroom.core.policy.store import PolicyStore
from strongroom.errors import InternalError, InvalidRequest
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")

READ_SECRET = 'path "secret/*" { capabilities = ["read"] }'
LIST_SECRET = 'path "secret/*" { capabilities = ["list"] }'


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_a_written_policy_reads_back_parsed_and_as_submitted() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        store = PolicyStore(storage)
        await store.put(" Dev ", READ_SECRET)
        policy = await store.get("DEV")
        assert policy is not None
        assert policy.name == "dev"
        assert [rule.pattern for rule in policy.rules] == ["secret/*"]
        assert await store.read_text("dev") == READ_SECRET
        assert json.loads(await storage.get("acl/dev") or b"") == {"name": "dev", "policy": READ_SECRET}

    run(scenario())


def test_invalid_policy_text_stores_nothing() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        store = PolicyStore(storage)
        with pytest.raises(InvalidRequest, match="unknown capability"):
            await store.put("dev", 'path "a" { capabilities = ["all"] }')
        assert await storage.list("") == []
        assert await store.get("dev") is None

    run(scenario())


def test_an_invalid_update_keeps_the_previous_version() -> None:
    async def scenario() -> None:
        store = PolicyStore(InmemBackend())
        await store.put("dev", READ_SECRET)
        with pytest.raises(InvalidRequest):
            await store.put("dev", "path {")
        assert await store.read_text("dev") == READ_SECRET

    run(scenario())


@pytest.mark.parametrize("name", ["root", "Root", " root ", "ROOT\u200b", "\uff52\uff4f\uff4f\uff54"])
def test_root_cannot_be_created_updated_or_deleted_in_any_spelling(name: str) -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        store = PolicyStore(storage)
        with pytest.raises(InvalidRequest, match="root policy"):
            await store.put(name, READ_SECRET)
        with pytest.raises(InvalidRequest, match="root policy"):
            await store.delete(name)
        assert await storage.list("") == []
        assert await store.get(name) is ROOT_POLICY

    run(scenario())


def test_root_reads_as_the_built_in_root_policy_with_empty_text() -> None:
    async def scenario() -> None:
        store = PolicyStore(InmemBackend())
        assert await store.read_text("root") == ""
        root = await store.get("root")
        assert root is not None
        assert ACL.from_policies([root]).is_root

    run(scenario())


def test_default_cannot_be_deleted_but_can_be_edited() -> None:
    async def scenario() -> None:
        store = PolicyStore(InmemBackend())
        await store.ensure_default()
        with pytest.raises(InvalidRequest, match="cannot delete the default policy"):
            await store.delete(" Default")
        await store.put("default", READ_SECRET)
        await store.ensure_default()  # an operator's edit survives
        assert await store.read_text("default") == READ_SECRET

    run(scenario())


def test_default_exists_before_and_after_ensure_default() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        store = PolicyStore(storage)
        assert await store.read_text("default") == DEFAULT_POLICY_TEXT
        assert await storage.get("acl/default") is None
        await store.ensure_default()
        assert await storage.get("acl/default") is not None
        assert await store.read_text("default") == DEFAULT_POLICY_TEXT

    run(scenario())


@pytest.mark.parametrize(
    ("operation", "path", "expected"),
    [
        ("read", "auth/token/lookup-self", True),
        ("update", "auth/token/renew-self", True),
        ("update", "auth/token/revoke-self", True),
        ("update", "sys/capabilities-self", True),
        ("update", "sys/leases/renew", True),
        ("update", "sys/wrapping/unwrap", True),
        ("create", "cubbyhole/note", True),
        ("list", "cubbyhole/", True),
        ("update", "sys/tools/hash/sha2-256", True),
        ("update", "auth/token/create", False),
        ("read", "secret/data/x", False),
        ("update", "sys/policy/dev", False),
        ("read", "sys/capabilities-self", False),
    ],
)
def test_default_policy_lets_a_token_look_after_itself_and_nothing_more(
    operation: str, path: str, expected: bool
) -> None:
    async def scenario() -> bool:
        store = PolicyStore(InmemBackend())
        default = await store.get("default")
        assert default is not None
        return ACL.from_policies([default]).authorize(operation, path, {}).allowed

    assert run(scenario()) is expected


def test_list_includes_default_and_root_sorted() -> None:
    async def scenario() -> None:
        store = PolicyStore(InmemBackend())
        assert await store.list() == ["default", "root"]
        await store.put("zeta", READ_SECRET)
        await store.put("alpha", READ_SECRET)
        await store.ensure_default()
        assert await store.list() == ["alpha", "default", "root", "zeta"]
        await store.delete("zeta")
        assert await store.list() == ["alpha", "default", "root"]

    run(scenario())


def test_deleting_a_missing_policy_is_not_an_error() -> None:
    run(PolicyStore(InmemBackend()).delete("never-written"))


def test_invalid_names_are_refused_everywhere() -> None:
    async def scenario() -> None:
        store = PolicyStore(InmemBackend())
        for call in (store.get("a/b"), store.put("a/b", READ_SECRET), store.delete("a/b")):
            with pytest.raises(InvalidRequest, match="invalid policy name"):
                await call

    run(scenario())


def test_changes_from_another_process_are_seen_after_invalidate() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        mine, theirs = PolicyStore(storage), PolicyStore(storage)
        await mine.put("dev", READ_SECRET)
        assert (await mine.read_text("dev")) == READ_SECRET
        assert await mine.get("ops") is None
        await theirs.put("dev", LIST_SECRET)
        await theirs.put("ops", READ_SECRET)
        # The cache serves the old answers until told otherwise...
        assert (await mine.read_text("dev")) == READ_SECRET
        assert await mine.get("ops") is None
        before = mine.generation
        mine.invalidate()
        assert mine.generation > before
        # ...and the new ones right after.
        assert (await mine.read_text("dev")) == LIST_SECRET
        assert await mine.get("ops") is not None

    run(scenario())


def test_every_local_change_moves_the_generation() -> None:
    async def scenario() -> None:
        store = PolicyStore(InmemBackend())
        seen = [store.generation]
        await store.put("dev", READ_SECRET)
        seen.append(store.generation)
        await store.delete("dev")
        seen.append(store.generation)
        store.invalidate()
        seen.append(store.generation)
        assert seen == sorted(set(seen))
        assert await store.get("dev") is None

    run(scenario())


class GatedStorage(InmemBackend):
    """Holds the next ``get`` until released, to interleave a read with a write."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def get(self, key: str) -> bytes | None:
        value = await super().get(key)
        if self.hold:
            self.hold = False
            self.entered.set()
            await self.release.wait()
        return value


def test_a_read_that_raced_a_write_does_not_leave_a_stale_cache_entry() -> None:
    async def scenario() -> None:
        storage = GatedStorage()
        store = PolicyStore(storage)
        await store.put("dev", READ_SECRET)
        store.invalidate()
        storage.hold = True
        slow_read = asyncio.create_task(store.read_text("dev"))
        await storage.entered.wait()  # the read has fetched the old text and is paused
        await store.put("dev", LIST_SECRET)
        storage.release.set()
        assert await slow_read == READ_SECRET  # it answers what it read...
        assert await store.read_text("dev") == LIST_SECRET  # ...but did not cache it

    run(scenario())


def test_an_unreadable_stored_entry_fails_closed_without_echoing_it() -> None:
    async def scenario() -> None:
        storage = InmemBackend()
        store = PolicyStore(storage)
        entries = (b"not json canary-1", b'{"policy": 1}', json.dumps({"policy": "path { canary-1"}).encode())
        for raw in entries:
            await storage.put("acl/broken", raw)
            store.invalidate()
            with pytest.raises(InternalError) as caught:
                await store.get("broken")
            assert "canary" not in caught.value.message

    run(scenario())
