"""Revocation: whole subtrees (deep and wide), orphaning, expiry of parents, crash safety, tidy."""

from __future__ import annotations

import inspect
import sys

import pytest
from tokens_harness import Harness, harness, run

from strongroom.core.tokens.entry import TokenEntry


async def chain(h: Harness, parent: TokenEntry, depth: int) -> list[tuple[str, TokenEntry]]:
    """``depth`` tokens, each the child of the one before."""
    links: list[tuple[str, TokenEntry]] = []
    for _ in range(depth):
        token, entry = await h.child(parent)
        links.append((token, entry))
        parent = entry
    return links


def token_keys(h: Harness) -> list[str]:
    return [k for k in h.stored_keys() if k != "salt"]


def test_revoking_a_token_revokes_every_descendant_and_leaves_siblings() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        parent_token, parent = await h.child(root)
        sibling_token, _ = await h.child(root)
        kids = [await h.child(parent) for _ in range(3)]
        grandkids = [await h.child(kids[0][1]) for _ in range(2)]
        await h.store.revoke_tree(parent)
        for token in [parent_token] + [t for t, _ in kids + grandkids]:
            assert not await h.alive(token)
        assert await h.alive(sibling_token)
        assert len([k for k in h.stored_keys() if k.startswith("id/")]) == 2  # root and sibling

    run(scenario())


def test_revoking_a_tree_deeper_than_the_recursion_limit_works() -> None:
    async def scenario() -> tuple[Harness, list[tuple[str, TokenEntry]]]:
        h = harness()
        _, root = await h.root()
        return h, await chain(h, root, 400)

    h, links = run(scenario())
    saved = sys.getrecursionlimit()
    # A recursive walk would need ~400 nested frames; allow far fewer than that.
    sys.setrecursionlimit(len(inspect.stack()) + 150)
    try:
        run(h.store.revoke_tree(links[0][1]))
        assert not run(h.alive(links[-1][0]))
    finally:
        sys.setrecursionlimit(saved)
    assert len(token_keys(h)) == 2  # the root's entry and accessor


def test_revoking_a_wide_tree_removes_every_child_and_its_index() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, parent = await h.child(root)
        children = [await h.child(parent) for _ in range(300)]
        revoked: list[TokenEntry] = []

        async def record(entry: TokenEntry) -> None:
            revoked.append(entry)

        h.store.on_revoke.append(record)
        await h.store.revoke_tree(parent)
        for token, _ in children[:: 37]:
            assert not await h.alive(token)
        assert len(revoked) == 301
        assert revoked[-1].id_hash == parent.id_hash  # leaves first, the revoked token last
        assert len(token_keys(h)) == 2

    run(scenario())


def test_revoke_orphan_keeps_children_alive_as_orphans_with_their_own_children() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        parent_token, parent = await h.child(root)
        child_token, child = await h.child(parent)
        grandchild_token, _ = await h.child(child)
        await h.store.revoke_orphan(parent)
        assert not await h.alive(parent_token)
        orphan = await h.store.lookup(child_token)
        assert orphan is not None
        assert orphan.orphan
        assert await h.alive(grandchild_token)
        assert await h.store.lookup_accessor(parent.accessor) is None
        # The orphan no longer dies with anything above it.
        await h.store.revoke_tree(root)
        assert await h.alive(child_token)
        await h.store.revoke_tree(orphan)
        assert not await h.alive(grandchild_token)

    run(scenario())


def test_revoke_orphan_under_a_dead_ancestor_revokes_the_whole_tree_instead() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, top = await h.child(root, ttl=60)
        _, middle = await h.child(top, ttl=3000)
        child_token, _ = await h.child(middle, ttl=3000)
        h.clock.advance(61)
        await h.store.revoke_orphan(middle)
        assert not await h.alive(child_token)

    run(scenario())


def test_an_expired_parent_takes_its_children_with_it() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, parent = await h.child(root, ttl=60)
        child_token, _ = await h.child(parent, ttl=3000)
        h.clock.advance(61)
        assert not await h.alive(child_token)
        assert len(token_keys(h)) == 2

    run(scenario())


class Crash(Exception):
    pass


def test_an_interrupted_revocation_leaves_only_dead_tokens_and_the_next_lookup_finishes_it() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        top_token, top = await h.child(root)
        tree = [await h.child(top) for _ in range(3)]
        tree += [await h.child(tree[0][1]) for _ in range(3)]
        calls = 0

        async def crash_on_third(entry: TokenEntry) -> None:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise Crash

        h.store.on_revoke.append(crash_on_third)
        with pytest.raises(Crash):
            await h.store.revoke_tree(top)
        h.store.on_revoke.clear()
        survivors = [k for k in h.stored_keys() if k.startswith("id/")]
        assert len(survivors) > 2  # the crash really left work undone
        for token in [top_token] + [t for t, _ in tree]:
            assert not await h.alive(token)
        assert len(token_keys(h)) == 2

    run(scenario())


def test_tidy_finishes_interrupted_revocations_and_drops_dangling_index_entries() -> None:
    async def scenario() -> None:
        h = harness()
        root_token, root = await h.root()
        _, top = await h.child(root)
        for _ in range(4):
            await h.child(top)
        _, expired = await h.child(root, ttl=10)
        live_token, live = await h.child(root)

        async def crash(entry: TokenEntry) -> None:
            raise Crash

        h.store.on_revoke.append(crash)
        with pytest.raises(Crash):
            await h.store.revoke_tree(top)
        h.store.on_revoke.clear()
        # A dangling accessor and parent-index entry, as a partial write would leave them.
        await h.storage.put("accessor/" + "ab" * 32, b'{"accessor": "x", "token": "' + b"cd" * 32 + b'"}')
        await h.storage.put(f"parent/{live.id_hash}/" + "ef" * 32, b"1")
        h.clock.advance(11)
        report = await h.store.tidy()
        assert report.tokens_revoked == 2  # the interrupted tree and the expired token
        assert report.accessors_deleted == 1
        assert report.parent_index_entries_deleted == 1
        assert await h.alive(root_token)
        assert await h.alive(live_token)
        assert await h.store.lookup_accessor(expired.accessor) is None
        ids = [k for k in h.stored_keys() if k.startswith("id/")]
        assert sorted(ids) == sorted([f"id/{root.id_hash}", f"id/{live.id_hash}"])
        parents = [k for k in h.stored_keys() if k.startswith("parent/")]
        assert parents == [f"parent/{root.id_hash}/{live.id_hash}"]

    run(scenario())


def test_revoke_tree_calls_each_callback_once_per_token_before_deleting_it() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, top = await h.child(root)
        await h.child(top)
        seen_while_stored: list[bool] = []

        async def check(entry: TokenEntry) -> None:
            seen_while_stored.append(f"id/{entry.id_hash}" in h.storage._data)

        h.store.on_revoke.append(check)
        await h.store.revoke_tree(top)
        assert seen_while_stored == [True, True]

    run(scenario())


def test_revoking_an_already_revoked_token_is_a_no_op() -> None:
    async def scenario() -> None:
        h = harness()
        _, root = await h.root()
        _, top = await h.child(root)
        await h.store.revoke_tree(top)
        before = dict(h.storage._data)
        await h.store.revoke_tree(top)
        await h.store.revoke_orphan(top)
        assert h.storage._data == before

    run(scenario())
