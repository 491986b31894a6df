"""KV v1/v2 path rewriting and mount detection from mount descriptions."""

from __future__ import annotations

import pytest

from strongroom.cli.errors import LocalError
from strongroom.cli.kvpaths import KvMount, api_path, clean, longest_mount, mount_from_info, relative

V2 = KvMount("secret/", 2)
V1 = KvMount("kv/", 1)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("data", "secret/data/app/db"),
        ("metadata", "secret/metadata/app/db"),
        ("delete", "secret/delete/app/db"),
        ("undelete", "secret/undelete/app/db"),
        ("destroy", "secret/destroy/app/db"),
    ],
)
def test_v2_paths_insert_the_operation_after_the_mount(operation: str, expected: str) -> None:
    assert api_path(V2, "app/db", operation) == expected  # type: ignore[arg-type]


def test_v2_list_of_the_mount_root_keeps_a_trailing_slash() -> None:
    assert api_path(V2, "", "metadata") == "secret/metadata/"


def test_v1_paths_are_used_as_written() -> None:
    assert api_path(V1, "/app//db/") == "kv/app/db"


def test_v1_mounts_have_no_version_operations() -> None:
    with pytest.raises(LocalError, match="only available on KV version 2"):
        api_path(V1, "app", "metadata")


def test_relative_strips_the_mount_and_rejects_other_mounts() -> None:
    assert relative(V2, "secret/app/db") == "app/db"
    assert relative(V2, "/secret/") == ""
    with pytest.raises(LocalError):
        relative(V2, "secretive/app")


@pytest.mark.parametrize(
    ("info", "mount"),
    [
        ({"type": "kv", "path": "secret/", "options": {"version": "2"}}, KvMount("secret/", 2)),
        ({"type": "kv", "path": "kv", "options": None}, KvMount("kv/", 1)),
        ({"type": "kv-v2", "path": "/team/a/"}, KvMount("team/a/", 2)),
        ({"type": "generic", "path": "old/"}, KvMount("old/", 1)),
        ({"type": "transit", "path": "transit/"}, None),
    ],
)
def test_mount_descriptions_give_kv_mounts(info: dict[str, object], mount: KvMount | None) -> None:
    assert mount_from_info(info) == mount


def test_longest_mount_prefix_wins() -> None:
    table = {"team/": {"type": "kv"}, "team/a/": {"type": "kv", "options": {"version": "2"}}, "sys/": {}}

    found = longest_mount(table, "team/a/secret")
    assert found is not None
    assert found[0] == "team/a/"
    assert longest_mount(table, "teams/x") is None


def test_clean_collapses_slashes() -> None:
    assert clean("//a///b/") == "a/b"
