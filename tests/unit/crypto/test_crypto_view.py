"""Prefix views: a mount addresses only its own corner of storage."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto.view import StorageView
from strongroom.errors import InvalidRequest
from strongroom.sdk.storage import TxnOp
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_keys_are_stored_under_the_prefix() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        view = StorageView(physical, "logical/abc/")
        await view.put("config", b"c")
        await view.put("data/one", b"1")
        assert await physical.get("logical/abc/config") == b"c"
        assert await view.get("data/one") == b"1"
        assert await view.list("") == ["config", "data/"]
        assert await view.list("data/") == ["one"]
        await view.delete("config")
        assert await physical.get("logical/abc/config") is None

    run(scenario())


def test_a_view_cannot_see_its_siblings() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        await physical.put("logical/other/secret", b"theirs")
        await physical.put("logical/abcd/secret", b"prefix-lookalike")
        view = StorageView(physical, "logical/abc/")
        assert await view.list("") == []
        assert await view.get("secret") is None

    run(scenario())


BAD_KEYS = [
    *("", "/etc", "/", "a//b", "a//"),
    *("..", "../other/secret", "a/../../b", "a/..", "../", ".", "./a", "a/./b"),
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_that_could_leave_or_alias_the_prefix_are_refused(key: str) -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        view = StorageView(physical, "logical/abc/")
        with pytest.raises(InvalidRequest):
            await view.put(key, b"x")
        with pytest.raises(InvalidRequest):
            await view.get(key)
        with pytest.raises(InvalidRequest):
            await view.delete(key)
        assert await physical.list("") == []

    run(scenario())


def test_a_folder_name_holds_no_value_and_cannot_be_written() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        await physical.put("logical/abc/folder/", b"planted by someone with physical access")
        view = StorageView(physical, "logical/abc/")
        assert await view.get("folder/") is None
        with pytest.raises(InvalidRequest):
            await view.put("folder/", b"x")
        with pytest.raises(InvalidRequest):
            await view.delete("folder/")

    run(scenario())


@pytest.mark.parametrize("prefix", ["a", "/", "/a/", "a//", "../", "a/../", "./"])
def test_impossible_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(InvalidRequest):
        StorageView(InmemBackend(), prefix)
    with pytest.raises(InvalidRequest):
        StorageView(InmemBackend(), "ok/").sub_view(prefix)


@pytest.mark.parametrize("prefix", ["a", "../", "/x/", "a//"])
def test_list_prefixes_that_could_leave_the_view_are_refused(prefix: str) -> None:
    with pytest.raises(InvalidRequest):
        run(StorageView(InmemBackend(), "logical/abc/").list(prefix))


def test_a_transaction_with_one_bad_key_applies_nothing() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        view = StorageView(physical, "logical/abc/")
        with pytest.raises(InvalidRequest):
            await view.transaction([TxnOp("fine", b"1"), TxnOp("../escape", b"2")])
        assert await physical.list("") == []
        await view.transaction([TxnOp("fine", b"1"), TxnOp("gone", None)])
        assert await physical.get("logical/abc/fine") == b"1"

    run(scenario())


def test_a_sub_view_nests_inside_its_parent() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        sub = StorageView(physical, "logical/abc/").sub_view("metadata/")
        assert sub.prefix == "logical/abc/metadata/"
        assert sub.backend is physical
        await sub.put("k", b"v")
        assert await physical.get("logical/abc/metadata/k") == b"v"

    run(scenario())


SEGMENT = st.text(st.characters(exclude_categories=("Cs",)), min_size=0, max_size=6)


@settings(max_examples=200, deadline=None)
@given(segments=st.lists(SEGMENT, min_size=1, max_size=5))
def test_every_accepted_key_lands_strictly_inside_the_prefix(segments: list[str]) -> None:
    key = "/".join(segments)

    async def scenario() -> None:
        physical = InmemBackend()
        view = StorageView(physical, "logical/abc/")
        try:
            await view.put(key, b"x")
        except InvalidRequest:
            assert any(part in ("", ".", "..") for part in key.split("/"))
            return
        stored = "logical/abc/" + key
        assert await physical.get(stored) == b"x"
        assert all(part not in ("", ".", "..") for part in stored.split("/"))

    run(scenario())
