"""KV version 2: metadata/, config, LIST and SCAN — driven without HTTP."""

from __future__ import annotations

import pytest

from strongroom.errors import InvalidRequest, NotFound, UnsupportedOperation
from strongroom.sdk.logical import Operation

READ, UPDATE, PATCH, DELETE = Operation.READ, Operation.UPDATE, Operation.PATCH, Operation.DELETE
LIST, SCAN = Operation.LIST, Operation.SCAN
START = "2027-01-15T08:00:00Z"


def test_metadata_read_has_vaults_shape(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.clock.advance(2)
    kv2.put("app", {"v": "2"})
    kv2.call(DELETE, "data/app")
    assert kv2.ok(READ, "metadata/app") == {
        "cas_required": False,
        "created_time": START,
        "current_version": 2,
        "custom_metadata": None,
        "delete_version_after": "0s",
        "max_versions": 0,
        "oldest_version": 0,
        "updated_time": "2027-01-15T08:00:02Z",
        "versions": {
            "1": {"created_time": START, "deletion_time": "", "destroyed": False},
            "2": {
                "created_time": "2027-01-15T08:00:02Z",
                "deletion_time": "2027-01-15T08:00:02Z",
                "destroyed": False,
            },
        },
    }


def test_metadata_read_of_missing_secret_returns_404(kv2) -> None:
    with pytest.raises(NotFound):
        kv2.call(READ, "metadata/nothing")


def test_metadata_write_answers_204_and_sets_the_given_settings(kv2) -> None:
    body = {
        "max_versions": 5,
        "cas_required": True,
        "delete_version_after": "3h25m19s",
        "custom_metadata": {"owner": "team-a", "tier": "gold"},
    }
    assert kv2.call(UPDATE, "metadata/app", body) is None
    meta = kv2.ok(READ, "metadata/app")
    assert meta["max_versions"] == 5
    assert meta["cas_required"] is True
    assert meta["delete_version_after"] == "3h25m19s"
    assert meta["custom_metadata"] == {"owner": "team-a", "tier": "gold"}
    assert (meta["current_version"], meta["versions"]) == (0, {})


def test_metadata_only_secret_has_no_data_to_read(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"max_versions": 2})
    with pytest.raises(NotFound):
        kv2.get("app")


def test_metadata_write_keeps_settings_it_does_not_mention(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"max_versions": 5, "custom_metadata": {"owner": "a"}})
    kv2.call(UPDATE, "metadata/app", {"cas_required": True})
    meta = kv2.ok(READ, "metadata/app")
    assert (meta["max_versions"], meta["cas_required"], meta["custom_metadata"]) == (5, True, {"owner": "a"})


def test_metadata_write_replaces_custom_metadata_whole(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"a": "1", "b": "2"}})
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"c": "3"}})
    assert kv2.ok(READ, "metadata/app")["custom_metadata"] == {"c": "3"}
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {}})
    assert kv2.ok(READ, "metadata/app")["custom_metadata"] is None


def test_metadata_write_without_settings_changes_nothing(kv2) -> None:
    assert kv2.call(UPDATE, "metadata/app", {"unrelated": "x"}) is None
    assert kv2.contents() == {}


def test_custom_metadata_shows_in_data_responses(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"owner": "a"}})
    assert kv2.put("app", {"v": "1"})["custom_metadata"] == {"owner": "a"}
    assert kv2.get("app").data["metadata"]["custom_metadata"] == {"owner": "a"}


def test_custom_metadata_numbers_become_strings(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"port": 5432}})
    assert kv2.ok(READ, "metadata/app")["custom_metadata"] == {"port": "5432"}


def test_metadata_write_with_negative_max_versions_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="max_versions"):
        kv2.call(UPDATE, "metadata/app", {"max_versions": -1})


def test_metadata_write_with_bad_duration_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="delete_version_after"):
        kv2.call(UPDATE, "metadata/app", {"delete_version_after": "eventually"})


def test_clearing_cas_required_on_a_cas_mount_warns(kv2) -> None:
    kv2.call(UPDATE, "config", {"cas_required": True})
    response = kv2.call(UPDATE, "metadata/app", {"cas_required": False})
    assert response is not None
    assert response.data is None
    assert response.warnings == [
        '"cas_required" set to false, but is mandated by backend config. This value will be ignored.'
    ]


def test_custom_metadata_may_hold_64_keys(kv2) -> None:
    custom = {f"k{i}": "v" for i in range(64)}
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": custom})
    assert len(kv2.ok(READ, "metadata/app")["custom_metadata"]) == 64


def test_custom_metadata_with_65_keys_is_400(kv2) -> None:
    custom = {f"k{i}": "v" for i in range(65)}
    with pytest.raises(InvalidRequest, match="at most 64 keys, provided 65"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": custom})
    assert kv2.contents() == {}


def test_custom_metadata_key_over_128_bytes_is_400(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"k" * 128: "v"}})
    with pytest.raises(InvalidRequest, match="length of a key is 129"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"k" * 129: "v"}})


def test_custom_metadata_key_length_counts_utf8_bytes(kv2) -> None:
    with pytest.raises(InvalidRequest, match="is 130"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"é" * 65: "v"}})


def test_custom_metadata_value_over_512_bytes_is_400(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"k": "v" * 512}})
    with pytest.raises(InvalidRequest, match="length of value for key 'k' is 513"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"k": "v" * 513}})


def test_custom_metadata_empty_value_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="length of value for key 'k' is 0"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"k": ""}})


def test_custom_metadata_unprintable_characters_are_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="value for key 'k' contains unprintable"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"k": "a\x00b"}})
    with pytest.raises(InvalidRequest, match="a key contains unprintable"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"k\n": "v"}})


def test_custom_metadata_reports_every_broken_rule(kv2) -> None:
    with pytest.raises(InvalidRequest) as caught:
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"a": "", "b": "x" * 600}})
    assert len(caught.value.errors) == 2


def test_custom_metadata_non_string_value_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="must be a string"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": {"k": {"nested": "x"}}})


def test_custom_metadata_that_is_not_an_object_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="custom_metadata"):
        kv2.call(UPDATE, "metadata/app", {"custom_metadata": "owner=a"})


def test_metadata_patch_merges_custom_metadata(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"max_versions": 4, "custom_metadata": {"a": "1", "b": "2"}})
    assert kv2.call(PATCH, "metadata/app", {"custom_metadata": {"b": None, "c": "3"}}) is None
    meta = kv2.ok(READ, "metadata/app")
    assert meta["custom_metadata"] == {"a": "1", "c": "3"}
    assert meta["max_versions"] == 4


def test_metadata_patch_changes_only_the_given_settings(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"max_versions": 4, "cas_required": True})
    kv2.call(PATCH, "metadata/app", {"delete_version_after": "1h"})
    meta = kv2.ok(READ, "metadata/app")
    assert (meta["max_versions"], meta["cas_required"], meta["delete_version_after"]) == (4, True, "1h0m0s")


def test_metadata_patch_null_resets_a_setting(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"max_versions": 4, "custom_metadata": {"a": "1"}})
    kv2.call(PATCH, "metadata/app", {"max_versions": None, "custom_metadata": None})
    meta = kv2.ok(READ, "metadata/app")
    assert (meta["max_versions"], meta["custom_metadata"]) == (0, None)


def test_metadata_patch_of_missing_secret_returns_404(kv2) -> None:
    with pytest.raises(NotFound):
        kv2.call(PATCH, "metadata/app", {"max_versions": 3})
    assert kv2.contents() == {}


def test_metadata_patch_may_not_grow_custom_metadata_past_64_keys(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"custom_metadata": {f"k{i}": "v" for i in range(60)}})
    with pytest.raises(InvalidRequest, match="at most 64 keys"):
        kv2.call(PATCH, "metadata/app", {"custom_metadata": {f"n{i}": "v" for i in range(5)}})
    assert len(kv2.ok(READ, "metadata/app")["custom_metadata"]) == 60


def test_metadata_delete_removes_every_version_and_the_metadata(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2"})
    kv2.put("keep", {"v": "1"})
    before_keep = {k: v for k, v in kv2.contents().items() if "keep" in k}
    assert kv2.call(DELETE, "metadata/app") is None
    with pytest.raises(NotFound):
        kv2.get("app")
    with pytest.raises(NotFound):
        kv2.call(READ, "metadata/app")
    remaining = kv2.contents()
    assert sum(key.startswith("ver/") for key in remaining) == 1
    assert all(key in remaining for key in before_keep)


def test_metadata_delete_of_missing_secret_is_204(kv2) -> None:
    assert kv2.call(DELETE, "metadata/nothing") is None


def test_a_secret_written_again_after_metadata_delete_starts_at_version_1(kv2) -> None:
    kv2.put("app", {"old": "secret"})
    kv2.call(DELETE, "metadata/app")
    assert kv2.put("app", {"new": "value"})["version"] == 1
    with pytest.raises(NotFound):
        kv2.get("app", version=2)
    assert kv2.get("app").data["data"] == {"new": "value"}


def test_existence_of_metadata_path(kv2) -> None:
    assert kv2.exists("metadata/app") is False
    kv2.call(UPDATE, "metadata/app", {"max_versions": 1})
    assert kv2.exists("metadata/app") is True


def _seed(kv2, *paths: str) -> None:
    for path in paths:
        kv2.put(path, {"k": "v"})


def test_list_metadata_root_shows_secrets_and_folders(kv2) -> None:
    _seed(kv2, "a", "team/db", "team/web/tls", "z")
    assert kv2.ok(LIST, "metadata/")["keys"] == ["a", "team/", "z"]
    assert kv2.ok(LIST, "metadata")["keys"] == ["a", "team/", "z"]


def test_list_metadata_folder_with_or_without_slash(kv2) -> None:
    _seed(kv2, "team/db", "team/web/tls")
    assert kv2.ok(LIST, "metadata/team/")["keys"] == ["db", "web/"]
    assert kv2.ok(LIST, "metadata/team")["keys"] == ["db", "web/"]


def test_list_includes_soft_deleted_and_metadata_only_secrets(kv2) -> None:
    _seed(kv2, "deleted")
    kv2.call(DELETE, "data/deleted")
    kv2.call(UPDATE, "metadata/planned", {"max_versions": 1})
    assert kv2.ok(LIST, "metadata/")["keys"] == ["deleted", "planned"]


def test_list_paginates_with_after_and_limit(kv2) -> None:
    _seed(kv2, "a", "b", "c/x", "d", "e")
    assert kv2.ok(LIST, "metadata/", {"limit": 2})["keys"] == ["a", "b"]
    assert kv2.ok(LIST, "metadata/", {"after": "b", "limit": 2})["keys"] == ["c/", "d"]
    assert kv2.ok(LIST, "metadata/", {"after": "d"})["keys"] == ["e"]
    assert kv2.ok(LIST, "metadata/", {"after": "bb", "limit": "0"})["keys"] == ["c/", "d", "e"]


def test_list_page_past_the_end_returns_404(kv2) -> None:
    _seed(kv2, "a")
    with pytest.raises(NotFound):
        kv2.call(LIST, "metadata/", {"after": "a"})


def test_list_of_missing_folder_returns_404(kv2) -> None:
    with pytest.raises(NotFound):
        kv2.call(LIST, "metadata/nothing/")


def test_scan_returns_every_secret_below_a_prefix(kv2) -> None:
    _seed(kv2, "a", "team/db", "team/web/tls", "team/web/ca", "teams/x")
    assert kv2.ok(SCAN, "metadata/team")["keys"] == ["db", "web/ca", "web/tls"]
    assert kv2.ok(SCAN, "metadata/")["keys"] == ["a", "team/db", "team/web/ca", "team/web/tls", "teams/x"]


def test_scan_paginates_with_after_and_limit(kv2) -> None:
    _seed(kv2, "a", "b/c/d", "b/e", "f")
    first = kv2.ok(SCAN, "metadata/", {"limit": 2})["keys"]
    second = kv2.ok(SCAN, "metadata/", {"after": first[-1], "limit": 2})["keys"]
    assert (first, second) == (["a", "b/c/d"], ["b/e", "f"])


def test_scan_of_missing_prefix_returns_404(kv2) -> None:
    with pytest.raises(NotFound):
        kv2.call(SCAN, "metadata/nothing")


def test_scan_is_only_offered_on_metadata(kv2) -> None:
    kv2.put("app", {"v": "1"})
    with pytest.raises(UnsupportedOperation):
        kv2.call(SCAN, "data/app")


def test_config_defaults(kv2) -> None:
    assert kv2.ok(READ, "config") == {"cas_required": False, "delete_version_after": "0s", "max_versions": 0}


def test_config_write_answers_204_and_keeps_unmentioned_settings(kv2) -> None:
    assert kv2.call(UPDATE, "config", {"max_versions": 5, "delete_version_after": "3h25m19s"}) is None
    kv2.call(UPDATE, "config", {"cas_required": "true"})
    assert kv2.ok(READ, "config") == {
        "cas_required": True,
        "delete_version_after": "3h25m19s",
        "max_versions": 5,
    }


def test_config_with_negative_max_versions_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="max_versions"):
        kv2.call(UPDATE, "config", {"max_versions": -3})


def test_v1_style_path_on_a_v2_mount_returns_404_with_guidance(kv2) -> None:
    with pytest.raises(NotFound, match="versioned K/V"):
        kv2.call(READ, "app")
    with pytest.raises(NotFound, match="versioned K/V"):
        kv2.call(UPDATE, "app", {"a": "b"})
