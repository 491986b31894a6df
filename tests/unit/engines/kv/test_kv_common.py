"""The parts KV v1 and v2 share: Vault's time and duration text, path rules, merge patch, listing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.engines.kv import mount_version
from strongroom.engines.kv.common import (
    folder_prefix,
    format_duration,
    format_time,
    now_ns,
    secret_path,
)
from strongroom.engines.kv.listing import list_page, scan_page
from strongroom.engines.kv.merge_patch import merge_patch
from strongroom.errors import InvalidRequest
from strongroom.sdk.system import ManualClock
from strongroom.storage.inmem import InmemBackend


def test_time_is_rfc3339_with_nanoseconds_like_vault() -> None:
    assert format_time(1521685446 * 10**9 + 945319214) == "2018-03-22T02:24:06.945319214Z"


def test_time_drops_trailing_zeros_of_the_fraction_like_go() -> None:
    assert format_time(1_800_000_000 * 10**9 + 500_000_000) == "2027-01-15T08:00:00.5Z"
    assert format_time(1_800_000_000 * 10**9 + 395_814_000) == "2027-01-15T08:00:00.395814Z"


def test_time_without_fraction_has_no_dot() -> None:
    assert format_time(1_800_000_000 * 10**9) == "2027-01-15T08:00:00Z"


def test_no_time_is_an_empty_string() -> None:
    assert format_time(None) == ""


def test_clock_reading_is_kept_to_the_microsecond() -> None:
    clock = ManualClock(start=1_800_000_000.0)
    clock.advance(0.1)
    assert now_ns(clock) == 1_800_000_000_100_000_000


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (120, "2m0s"), (3600, "1h0m0s"), (12319, "3h25m19s"), (90000, "25h0m0s")],
)
def test_durations_read_like_go(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("path", ["", "/a", "a/", "a//b"])
def test_malformed_secret_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidRequest):
        secret_path(path)


def test_nested_secret_path_is_accepted() -> None:
    assert secret_path("team/app/db") == "team/app/db"


def test_folder_is_addressed_with_or_without_trailing_slash() -> None:
    assert folder_prefix("") == ""
    assert folder_prefix("team") == "team/"
    assert folder_prefix("team/") == "team/"


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # the examples of RFC 7386, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch) == result


def test_merge_patch_leaves_its_inputs_alone() -> None:
    target = {"a": {"b": 1}}
    merge_patch(target, {"a": {"b": None}})
    assert target == {"a": {"b": 1}}


def test_kv_mount_defaults_to_version_1_like_vault() -> None:
    assert mount_version({}) == 1
    assert mount_version({"version": ""}) == 1
    assert mount_version({"version": "2"}) == 2


def test_unknown_kv_version_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        mount_version({"version": "3"})


def _tree(*keys: str) -> InmemBackend:
    storage = InmemBackend()
    for key in keys:
        asyncio.run(storage.put(key, b"{}"))
    return storage


def test_list_page_starts_after_the_cursor_and_stops_at_the_limit() -> None:
    storage = _tree("p/a", "p/b", "p/c/x", "p/d")
    assert asyncio.run(list_page(storage, "p/")) == ["a", "b", "c/", "d"]
    assert asyncio.run(list_page(storage, "p/", after="a", limit=2)) == ["b", "c/"]
    assert asyncio.run(list_page(storage, "p/", after="bb")) == ["c/", "d"]


def test_scan_lists_every_leaf_in_lexicographic_order() -> None:
    storage = _tree("p/a", "p/a-b", "p/a/x", "p/a/y/z", "p/a0", "q/outside")
    assert asyncio.run(scan_page(storage, "p/")) == ["a", "a-b", "a/x", "a/y/z", "a0"]


def test_scan_resumes_after_a_cursor_inside_a_folder() -> None:
    storage = _tree("p/a", "p/a/x", "p/a/y/z", "p/b/c", "p/d")
    assert asyncio.run(scan_page(storage, "p/", after="a/x", limit=2)) == ["a/y/z", "b/c"]
    assert asyncio.run(scan_page(storage, "p/", after="b/c")) == ["d"]


class _CountingStorage(InmemBackend):
    def __init__(self) -> None:
        super().__init__()
        self.listed: list[str] = []

    async def list(self, prefix: str) -> list[str]:
        self.listed.append(prefix)
        return await super().list(prefix)


def test_scan_skips_folders_that_lie_wholly_before_the_cursor() -> None:
    storage = _CountingStorage()
    for key in ("p/a/1", "p/a/2", "p/b/1", "p/c"):
        asyncio.run(storage.put(key, b"{}"))
    assert asyncio.run(scan_page(storage, "p/", after="b/0")) == ["b/1", "c"]
    assert "p/a/" not in storage.listed


def test_scan_stops_listing_once_the_limit_is_reached() -> None:
    storage = _CountingStorage()
    for key in ("p/a/1", "p/b/1", "p/c/1"):
        asyncio.run(storage.put(key, b"{}"))
    assert asyncio.run(scan_page(storage, "p/", limit=1)) == ["a/1"]
    assert storage.listed == ["p/", "p/a/"]


_SEGMENT = st.sampled_from(["a", "b", "a-", "a0", "a.b", "é", "z"])
_PATHS = st.sets(st.lists(_SEGMENT, min_size=1, max_size=3).map("/".join), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(paths=_PATHS, page=st.integers(min_value=1, max_value=6))
def test_scan_pages_concatenate_to_every_path_in_sorted_order(paths: set[str], page: int) -> None:
    storage = _tree(*(f"p/{path}" for path in paths))
    assert asyncio.run(scan_page(storage, "p/")) == sorted(paths)
    pages: list[str] = []
    after = ""
    while chunk := asyncio.run(scan_page(storage, "p/", after=after, limit=page)):
        assert len(chunk) <= page
        pages.extend(chunk)
        after = chunk[-1]
    assert pages == sorted(paths)
