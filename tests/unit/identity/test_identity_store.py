"""The identity store over real encrypted storage: records, uniqueness under races, memberships, resolution.

Two stores over two SQLite connections to one file stand for two worker processes:
each has its own caches, and only storage preconditions order their writes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from strongroom.core.identity.store import AliasChanges, EntityChanges, GroupChanges, IdentityStore
from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.errors import InvalidRequest
from strongroom.sdk.system import ManualClock
from strongroom.storage.sqlite import SQLiteBackend

T = TypeVar("T")
ROOT_KEY = bytes(range(32))
K8S = "auth_kubernetes_0001"
JWT = "auth_jwt_0002"


@asynccontextmanager
async def stores(db: Path, count: int = 2) -> AsyncIterator[list[IdentityStore]]:
    """``count`` identity stores, each over its own SQLite connection to ``db`` (as worker processes are)."""
    physicals = [SQLiteBackend(str(db)) for _ in range(count)]
    for physical in physicals:
        await physical.open()
    try:
        clock = ManualClock()
        found = []
        for index, physical in enumerate(physicals):
            barrier = Barrier(physical, clock=clock)
            if index == 0:
                await barrier.initialize(ROOT_KEY)
            await barrier.unseal(ROOT_KEY)
            store = IdentityStore(StorageView(barrier, "sys/identity/"), clock=clock, random_bytes=os.urandom)
            await store.load()
            found.append(store)
        for store in found:
            store.on_change = _reload_all(found)
        yield found
    finally:
        for physical in physicals:
            await physical.close()


def _reload_all(found: list[IdentityStore]) -> Callable[[], Awaitable[None]]:
    async def reload() -> None:  # what a generation bump does: every process reloads its groups
        for store in found:
            await store.load()

    return reload


def run(db: Path, test: Callable[[list[IdentityStore]], Awaitable[T]]) -> T:
    async def main() -> T:
        async with stores(db) as found:
            return await test(found)

    return asyncio.run(main())


def test_concurrent_first_logins_of_one_principal_on_two_workers_make_one_entity(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        logins = [found[i % 2].login(K8S, "uid-7", {"service_account_namespace": "payments"}, None)
                  for i in range(16)]
        entities = await asyncio.gather(*logins)
        assert len({e.id for e in entities}) == 1
        for store in found:
            (entity,) = await store.entities()
            assert [a.name for a in entity.aliases] == ["uid-7"]
            assert (await store.alias_by_name(K8S, "UID-7")) is not None  # names compare case-insensitively

    run(tmp_path / "s.db", test)


def test_a_later_login_updates_the_alias_metadata_and_keeps_the_entity(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        first = await found[0].login(K8S, "uid-1", {"service_account_namespace": "a"}, None)
        again = await found[1].login(K8S, "uid-1", {"service_account_namespace": "b"}, None)
        assert again.id == first.id
        resolved = await found[0].resolve(first.id)
        assert resolved is not None
        assert resolved.template.value(f"identity.entity.aliases.{K8S}.metadata.service_account_namespace") == "b"

    run(tmp_path / "s.db", test)


def test_entity_names_are_unique_and_writes_by_name_update(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        created, was_created = await found[0].write_entity(None, EntityChanges(name="alice", policies=["a"]))
        assert was_created
        updated, was_created = await found[1].write_entity(None, EntityChanges(name="ALICE", metadata={"t": "x"}))
        assert (updated.id, was_created, updated.policies, updated.metadata) == (created.id, False, ["a"], {"t": "x"})
        other, _ = await found[0].write_entity(None, EntityChanges(name="bob"))
        with pytest.raises(InvalidRequest, match="already in use"):
            await found[1].write_entity(other.id, EntityChanges(name="alice"))
        renamed, _ = await found[1].write_entity(other.id, EntityChanges(name="robert"))
        assert (await found[0].entity_by_name("robert")) is not None
        assert (await found[0].entity_by_name("bob")) is None
        await found[0].delete_entity(renamed.id)
        assert await found[1].entity(renamed.id) is None
        with pytest.raises(InvalidRequest, match="not found"):
            await found[0].write_entity(renamed.id, EntityChanges(policies=["x"]))

    run(tmp_path / "s.db", test)


def test_concurrent_creates_of_one_name_make_one_entity(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        results = await asyncio.gather(*(found[i % 2].write_entity(None, EntityChanges(name="same"))
                                         for i in range(10)))
        assert len({entity.id for entity, _ in results}) == 1
        assert sum(1 for _, created in results if created) == 1

    run(tmp_path / "s.db", test)


def test_aliases_one_per_mount_and_name_and_one_per_mount_on_an_entity(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        alice, _ = await found[0].write_entity(None, EntityChanges(name="alice"))
        bob, _ = await found[0].write_entity(None, EntityChanges(name="bob"))
        alias, created = await found[0].write_alias(None, AliasChanges(name="al", mount_accessor=K8S,
                                                                       canonical_id=alice.id))
        assert created
        assert alias.canonical_id == alice.id
        with pytest.raises(InvalidRequest, match="already in use"):
            await found[1].write_alias(None, AliasChanges(name="AL", mount_accessor=K8S, canonical_id=bob.id))
        with pytest.raises(InvalidRequest, match="already uses mount accessor"):
            await found[1].write_alias(None, AliasChanges(name="other", mount_accessor=K8S, canonical_id=alice.id))
        # Moving the alias to bob takes it off alice.
        await found[1].write_alias(alias.id, AliasChanges(canonical_id=bob.id, custom_metadata={"k": "v"}))
        assert (await found[0].entity(alice.id)).aliases == []  # type: ignore[union-attr]
        moved = await found[0].alias(alias.id)
        assert moved is not None
        assert moved[0].id == bob.id
        assert moved[1].custom_metadata == {"k": "v"}
        # A login of that principal now lands on bob.
        assert (await found[0].login(K8S, "al", {}, None)).id == bob.id
        await found[1].delete_alias(alias.id)
        assert await found[0].alias(alias.id) is None
        assert (await found[0].login(K8S, "al", {}, None)).id not in (alice.id, bob.id)

    run(tmp_path / "s.db", test)


def test_group_policies_reach_members_transitively_and_apply_at_once(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        entity = await found[0].login(K8S, "uid-9", {}, None)
        await found[0].write_entity(entity.id, EntityChanges(policies=["own"]))
        inner, _ = await found[0].write_group(None, GroupChanges(name="inner", policies=["p-inner"],
                                                                 member_entity_ids=[entity.id]))
        outer, _ = await found[1].write_group(None, GroupChanges(name="outer", policies=["p-outer"],
                                                                 member_group_ids=[inner.id]))
        resolved = await found[1].resolve(entity.id)
        assert resolved is not None
        assert set(resolved.policies) == {"own", "p-inner", "p-outer"}
        assert (resolved.direct_group_ids, resolved.inherited_group_ids) == ((inner.id,), (outer.id,))
        assert resolved.template.value(f"identity.groups.ids.{outer.id}.name") == "outer"
        assert resolved.template.value("identity.groups.names.inner.id") == inner.id
        with pytest.raises(InvalidRequest, match="cyclic"):
            await found[0].write_group(inner.id, GroupChanges(member_group_ids=[outer.id]))
        await found[0].write_group(outer.id, GroupChanges(policies=["p-changed"]))
        changed = await found[1].resolve(entity.id)
        assert changed is not None
        assert set(changed.policies) == {"own", "p-inner", "p-changed"}
        await found[1].delete_group(inner.id)
        gone = await found[0].resolve(entity.id)
        assert gone is not None
        assert gone.policies == ("own",)
        assert found[0].group(outer.id).member_group_ids == []  # type: ignore[union-attr]

    run(tmp_path / "s.db", test)


def test_external_groups_follow_the_groups_of_each_login(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        ops, _ = await found[0].write_group(None, GroupChanges(name="ops", type="external", policies=["ops"]))
        await found[0].write_group_alias(None, AliasChanges(name="ops-team", mount_accessor=JWT,
                                                            canonical_id=ops.id))
        with pytest.raises(InvalidRequest, match="can't be set manually"):
            await found[0].write_group(ops.id, GroupChanges(member_entity_ids=["x"]))
        internal, _ = await found[0].write_group(None, GroupChanges(name="plain"))
        with pytest.raises(InvalidRequest, match="internal group"):
            await found[1].write_group_alias(None, AliasChanges(name="x", mount_accessor=JWT,
                                                                canonical_id=internal.id))
        member = await found[1].login(JWT, "carol", {}, ["dev", "OPS-TEAM"])
        resolved = await found[0].resolve(member.id)
        assert resolved is not None
        assert resolved.policies == ("ops",)
        # The same name on another mount is a different group alias: no membership.
        stranger = await found[1].login(K8S, "carol", {}, ["ops-team"])
        assert (await found[0].resolve(stranger.id)).policies == ()  # type: ignore[union-attr]
        await found[1].login(JWT, "carol", {}, ["dev"])
        assert (await found[0].resolve(member.id)).policies == ()  # type: ignore[union-attr]

    run(tmp_path / "s.db", test)


def test_a_disabled_or_deleted_entity_resolves_so(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        entity = await found[0].login(K8S, "uid-3", {}, None)
        group, _ = await found[0].write_group(None, GroupChanges(name="g", member_entity_ids=[entity.id]))
        await found[1].write_entity(entity.id, EntityChanges(disabled=True))
        resolved = await found[0].resolve(entity.id)
        assert resolved is not None
        assert resolved.disabled
        await found[1].delete_entity(entity.id)
        assert await found[0].resolve(entity.id) is None
        assert found[0].group(group.id).member_entity_ids == []  # type: ignore[union-attr]
        assert await found[0].alias_by_name(K8S, "uid-3") is None
        assert await found[0].resolve("../../sys/token/x") is None

    run(tmp_path / "s.db", test)


def test_merging_moves_aliases_and_memberships_and_deletes_the_sources(tmp_path: Path) -> None:
    async def test(found: list[IdentityStore]) -> None:
        target = await found[0].login(K8S, "uid-t", {}, None)
        source = await found[1].login(JWT, "carol", {}, None)
        clashing = await found[0].login(K8S, "uid-c", {}, None)
        group, _ = await found[0].write_group(None, GroupChanges(name="g", member_entity_ids=[source.id]))
        await found[1].merge_entities([source.id], target.id, [])
        merged = await found[0].entity(target.id)
        assert merged is not None
        assert sorted(a.name for a in merged.aliases) == ["carol", "uid-t"]
        assert merged.merged_entity_ids == [source.id]
        assert await found[0].entity(source.id) is None
        assert (await found[1].login(JWT, "carol", {}, None)).id == target.id
        assert found[0].group(group.id).member_entity_ids == [target.id]  # type: ignore[union-attr]
        with pytest.raises(InvalidRequest, match="conflicting mount accessors"):
            await found[0].merge_entities([clashing.id], target.id, [])
        keep = clashing.aliases[0].id
        await found[0].merge_entities([clashing.id], target.id, [keep])
        kept = await found[1].entity(target.id)
        assert kept is not None
        assert sorted(a.name for a in kept.aliases) == ["carol", "uid-c"]
        assert await found[1].alias_by_name(K8S, "uid-t") is None
        with pytest.raises(InvalidRequest, match="should not be present"):
            await found[0].merge_entities([target.id], target.id, [])
        with pytest.raises(InvalidRequest, match="merge from is invalid"):
            await found[0].merge_entities([source.id], target.id, [])

    run(tmp_path / "s.db", test)
