"""KV version 2: data/, subkeys/, delete/, undelete/, destroy/ — driven without HTTP."""

from __future__ import annotations

import pytest

from strongroom.errors import CheckAndSetMismatch, InvalidRequest, NotFound
from strongroom.sdk.logical import Operation

READ, UPDATE, PATCH, DELETE = Operation.READ, Operation.UPDATE, Operation.PATCH, Operation.DELETE
START = "2027-01-15T08:00:00Z"  # the harness clock's start


def test_write_returns_the_new_version_metadata(kv2) -> None:
    assert kv2.put("app", {"password": "hunter2"}) == {
        "created_time": START,
        "custom_metadata": None,
        "deletion_time": "",
        "destroyed": False,
        "version": 1,
    }


def test_each_write_makes_a_new_version(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.clock.advance(1.25)
    written = kv2.put("app", {"v": "2"})
    assert written["version"] == 2
    assert written["created_time"] == "2027-01-15T08:00:01.25Z"


def test_read_returns_latest_data_and_its_metadata(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2", "nested": {"a": [1, 2]}})
    assert kv2.get("app").data == {
        "data": {"v": "2", "nested": {"a": [1, 2]}},
        "metadata": {
            "created_time": START,
            "custom_metadata": None,
            "deletion_time": "",
            "destroyed": False,
            "version": 2,
        },
    }


def test_read_of_an_older_version(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2"})
    response = kv2.get("app", version=1)
    assert response.data["data"] == {"v": "1"}
    assert response.data["metadata"]["version"] == 1


def test_version_zero_means_latest(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2"})
    assert kv2.get("app", version=0).data["data"] == {"v": "2"}


def test_read_of_missing_secret_returns_404(kv2) -> None:
    with pytest.raises(NotFound) as caught:
        kv2.get("nothing")
    assert caught.value.errors == []


def test_read_of_version_that_never_existed_returns_404(kv2) -> None:
    kv2.put("app", {"v": "1"})
    with pytest.raises(NotFound):
        kv2.get("app", version=7)


def test_read_with_a_non_numeric_version_is_400(kv2) -> None:
    kv2.put("app", {"v": "1"})
    with pytest.raises(InvalidRequest, match="version"):
        kv2.get("app", version="latest")  # type: ignore[arg-type]


def test_read_of_soft_deleted_version_returns_404_with_its_metadata(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.clock.advance(5)
    assert kv2.call(DELETE, "data/app") is None
    response = kv2.get("app")
    assert response.status == 404
    assert response.data == {
        "data": None,
        "metadata": {
            "created_time": START,
            "custom_metadata": None,
            "deletion_time": "2027-01-15T08:00:05Z",
            "destroyed": False,
            "version": 1,
        },
    }


def test_read_of_destroyed_version_returns_404(kv2) -> None:
    kv2.put("app", {"v": "1"})
    assert kv2.call(UPDATE, "destroy/app", {"versions": [1]}) is None
    response = kv2.get("app")
    assert response.status == 404
    assert response.data["data"] is None
    assert response.data["metadata"]["destroyed"] is True


def test_write_of_data_that_is_not_an_object_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="'data'"):
        kv2.call(UPDATE, "data/app", {"data": ["not", "an", "object"]})


def test_write_without_data_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="no data provided"):
        kv2.call(UPDATE, "data/app", {"options": {}})


def test_write_of_an_empty_object_is_a_version(kv2) -> None:
    assert kv2.put("app", {})["version"] == 1
    assert kv2.get("app").data["data"] == {}


def test_write_to_a_malformed_path_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest):
        kv2.put("app/", {"a": "b"})
    with pytest.raises(InvalidRequest, match="missing path"):
        kv2.put("", {"a": "b"})


def test_cas_zero_allows_only_the_first_write(kv2) -> None:
    assert kv2.put("app", {"v": "1"}, cas=0)["version"] == 1
    with pytest.raises(CheckAndSetMismatch):
        kv2.put("app", {"v": "2"}, cas=0)


def test_cas_matching_the_current_version_is_accepted(kv2) -> None:
    kv2.put("app", {"v": "1"})
    assert kv2.put("app", {"v": "2"}, cas=1)["version"] == 2
    assert kv2.put("app", {"v": "3"}, cas="2")["version"] == 3


def test_cas_mismatch_is_refused_and_writes_nothing(kv2) -> None:
    kv2.put("app", {"v": "1"})
    before = kv2.contents()
    with pytest.raises(CheckAndSetMismatch) as caught:
        kv2.put("app", {"v": "2"}, cas=5)
    assert caught.value.status == 400
    assert caught.value.message == "check-and-set parameter did not match the current version"
    assert kv2.contents() == before


def test_unparsable_cas_is_400(kv2) -> None:
    with pytest.raises(InvalidRequest, match="error parsing check-and-set parameter"):
        kv2.put("app", {"v": "1"}, cas="one")


def test_cas_required_by_the_mount_refuses_writes_without_cas(kv2) -> None:
    kv2.call(UPDATE, "config", {"cas_required": True})
    with pytest.raises(InvalidRequest, match="check-and-set parameter required for this call"):
        kv2.put("app", {"v": "1"})
    assert kv2.put("app", {"v": "1"}, cas=0)["version"] == 1


def test_cas_required_by_the_secret_refuses_writes_without_cas(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.call(UPDATE, "metadata/app", {"cas_required": True})
    with pytest.raises(InvalidRequest, match="check-and-set parameter required"):
        kv2.put("app", {"v": "2"})
    assert kv2.put("other", {"v": "1"})["version"] == 1  # other secrets are not affected


def test_patch_merges_into_the_latest_version(kv2) -> None:
    kv2.put("app", {"user": "admin", "password": "old", "opts": {"a": 1, "b": 2}})
    written = kv2.ok(PATCH, "data/app", {"data": {"password": "new", "opts": {"b": None, "c": 3}}})
    assert written["version"] == 2
    assert kv2.get("app").data["data"] == {"user": "admin", "password": "new", "opts": {"a": 1, "c": 3}}


def test_patch_respects_cas(kv2) -> None:
    kv2.put("app", {"v": "1"})
    before = kv2.contents()
    with pytest.raises(CheckAndSetMismatch):
        kv2.call(PATCH, "data/app", {"data": {"v": "2"}, "options": {"cas": 0}})
    assert kv2.contents() == before
    assert kv2.ok(PATCH, "data/app", {"data": {"v": "2"}, "options": {"cas": 1}})["version"] == 2


def test_patch_without_cas_is_refused_when_cas_is_required(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.call(UPDATE, "config", {"cas_required": True})
    with pytest.raises(InvalidRequest, match="check-and-set parameter required"):
        kv2.call(PATCH, "data/app", {"data": {"v": "2"}})


def test_patch_of_missing_secret_returns_404(kv2) -> None:
    with pytest.raises(NotFound):
        kv2.call(PATCH, "data/app", {"data": {"v": "2"}})


def test_patch_of_deleted_secret_returns_404(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.call(DELETE, "data/app")
    response = kv2.call(PATCH, "data/app", {"data": {"v": "2"}})
    assert response.status == 404
    assert response.data["version"] == 1
    assert response.data["deletion_time"] == START
    assert kv2.ok(Operation.READ, "metadata/app")["current_version"] == 1


def test_patch_of_destroyed_secret_returns_404(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.call(UPDATE, "destroy/app", {"versions": "1"})
    response = kv2.call(PATCH, "data/app", {"data": {"v": "2"}})
    assert response.status == 404
    assert response.data["destroyed"] is True


def test_patch_of_secret_with_metadata_but_no_version_returns_404(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"max_versions": 3})
    with pytest.raises(NotFound):
        kv2.call(PATCH, "data/app", {"data": {"v": "2"}})


def test_patch_without_data_is_400(kv2) -> None:
    kv2.put("app", {"v": "1"})
    with pytest.raises(InvalidRequest, match="no data provided"):
        kv2.call(PATCH, "data/app", {"options": {"cas": 1}})


def test_delete_on_data_soft_deletes_only_the_latest_version(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2"})
    assert kv2.call(DELETE, "data/app") is None
    assert kv2.get("app").status == 404
    assert kv2.get("app", version=1).data["data"] == {"v": "1"}


def test_delete_on_data_of_missing_secret_is_204(kv2) -> None:
    assert kv2.call(DELETE, "data/nothing") is None


def test_delete_keeps_the_first_deletion_time(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.call(DELETE, "data/app")
    kv2.clock.advance(60)
    kv2.call(DELETE, "data/app")
    kv2.call(UPDATE, "delete/app", {"versions": [1]})
    assert kv2.get("app").data["metadata"]["deletion_time"] == START


def test_delete_versions_soft_deletes_each_listed_version(kv2) -> None:
    for value in "123":
        kv2.put("app", {"v": value})
    assert kv2.call(UPDATE, "delete/app", {"versions": [1, 3, 99]}) is None
    assert kv2.get("app", version=1).status == 404
    assert kv2.get("app", version=2).data["data"] == {"v": "2"}
    assert kv2.get("app", version=3).status == 404


def test_versions_may_be_a_comma_separated_string(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2"})
    kv2.call(UPDATE, "delete/app", {"versions": "1, 2"})
    assert kv2.get("app", version=1).status == 404
    assert kv2.get("app", version=2).status == 404


@pytest.mark.parametrize("endpoint", ["delete", "undelete", "destroy"])
def test_version_endpoints_without_versions_are_400(kv2, endpoint) -> None:
    kv2.put("app", {"v": "1"})
    with pytest.raises(InvalidRequest, match="no version number provided"):
        kv2.call(UPDATE, f"{endpoint}/app", {"versions": []})


@pytest.mark.parametrize("endpoint", ["delete", "undelete", "destroy"])
def test_version_endpoints_refuse_non_numeric_versions(kv2, endpoint) -> None:
    kv2.put("app", {"v": "1"})
    with pytest.raises(InvalidRequest, match="versions"):
        kv2.call(UPDATE, f"{endpoint}/app", {"versions": ["first"]})


@pytest.mark.parametrize("endpoint", ["delete", "undelete", "destroy"])
def test_version_endpoints_on_missing_secret_are_204(kv2, endpoint) -> None:
    assert kv2.call(UPDATE, f"{endpoint}/nothing", {"versions": [1]}) is None
    assert kv2.contents() == {}


def test_undelete_restores_a_soft_deleted_version(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.call(DELETE, "data/app")
    assert kv2.call(UPDATE, "undelete/app", {"versions": [1]}) is None
    response = kv2.get("app")
    assert response.status is None
    assert response.data["data"] == {"v": "1"}
    assert response.data["metadata"]["deletion_time"] == ""


def test_undelete_cannot_bring_back_a_destroyed_version(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.call(UPDATE, "destroy/app", {"versions": [1]})
    kv2.call(UPDATE, "undelete/app", {"versions": [1]})
    assert kv2.get("app").status == 404


def test_destroy_removes_the_version_data_from_storage(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2"})
    kv2.call(UPDATE, "destroy/app", {"versions": [1]})
    version_keys = sorted(key for key in kv2.contents() if key.startswith("ver/"))
    assert len(version_keys) == 1
    assert version_keys[0].endswith("/2")
    assert kv2.get("app", version=2).data["data"] == {"v": "2"}


def test_max_versions_prunes_oldest(kv2) -> None:
    kv2.call(UPDATE, "config", {"max_versions": 3})
    for value in "12345":
        kv2.put("app", {"v": value})
    meta = kv2.ok(READ, "metadata/app")
    assert sorted(meta["versions"], key=int) == ["3", "4", "5"]
    assert (meta["oldest_version"], meta["current_version"]) == (3, 5)
    with pytest.raises(NotFound):
        kv2.get("app", version=2)
    assert sum(key.startswith("ver/") for key in kv2.contents()) == 3


def test_oldest_version_stays_zero_until_something_is_pruned(kv2) -> None:
    kv2.put("app", {"v": "1"})
    kv2.put("app", {"v": "2"})
    assert kv2.ok(READ, "metadata/app")["oldest_version"] == 0


def test_ten_versions_are_kept_by_default(kv2) -> None:
    for value in range(12):
        kv2.put("app", {"v": value})
    meta = kv2.ok(READ, "metadata/app")
    assert len(meta["versions"]) == 10
    assert meta["oldest_version"] == 3


def test_secret_max_versions_overrides_the_mounts_as_vault_documents(kv2) -> None:
    kv2.call(UPDATE, "config", {"max_versions": 4})
    kv2.call(UPDATE, "metadata/small", {"max_versions": 2})
    kv2.call(UPDATE, "metadata/large", {"max_versions": 8})
    for value in range(6):
        kv2.put("small", {"v": value})
        kv2.put("large", {"v": value})
        kv2.put("default", {"v": value})
    assert len(kv2.ok(READ, "metadata/small")["versions"]) == 2
    assert len(kv2.ok(READ, "metadata/large")["versions"]) == 6
    assert len(kv2.ok(READ, "metadata/default")["versions"]) == 4


def test_lowering_max_versions_prunes_several_on_the_next_write(kv2) -> None:
    for value in range(5):
        kv2.put("app", {"v": value})
    kv2.call(UPDATE, "metadata/app", {"max_versions": 2})
    kv2.put("app", {"v": "last"})
    assert sorted(kv2.ok(READ, "metadata/app")["versions"], key=int) == ["5", "6"]


def test_delete_version_after_hides_version_once_clock_passes(kv2) -> None:
    kv2.call(UPDATE, "config", {"delete_version_after": "1h"})
    written = kv2.put("app", {"v": "1"})
    assert written["deletion_time"] == "2027-01-15T09:00:00Z"
    kv2.clock.advance(3599)
    assert kv2.get("app").data["data"] == {"v": "1"}
    kv2.clock.advance(1)
    response = kv2.get("app")
    assert response.status == 404
    assert response.data["metadata"]["deletion_time"] == "2027-01-15T09:00:00Z"


def test_delete_version_after_uses_the_lower_of_mount_and_secret(kv2) -> None:
    kv2.call(UPDATE, "config", {"delete_version_after": "1h"})
    kv2.call(UPDATE, "metadata/short", {"delete_version_after": "10m"})
    kv2.call(UPDATE, "metadata/long", {"delete_version_after": "48h"})
    assert kv2.put("short", {"v": "1"})["deletion_time"] == "2027-01-15T08:10:00Z"
    assert kv2.put("long", {"v": "1"})["deletion_time"] == "2027-01-15T09:00:00Z"


def test_undelete_after_expiry_grants_a_fresh_period(kv2) -> None:
    kv2.call(UPDATE, "metadata/app", {"delete_version_after": "30s"})
    kv2.put("app", {"v": "1"})
    kv2.clock.advance(45)
    assert kv2.get("app").status == 404
    kv2.call(UPDATE, "undelete/app", {"versions": [1]})
    assert kv2.get("app").data["metadata"]["deletion_time"] == "2027-01-15T08:01:15Z"


def test_subkeys_replaces_values_with_null(kv2) -> None:
    kv2.put("app", {"foo": "abc", "bar": {"baz": "def", "deep": {"x": 1}}, "empty": {}, "list": [1]})
    body = kv2.ok(READ, "subkeys/app")
    assert body["subkeys"] == {
        "foo": None,
        "bar": {"baz": None, "deep": {"x": None}},
        "empty": None,
        "list": None,
    }
    assert body["metadata"]["version"] == 1


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        ("1", {"a": None, "b": None}),
        ("2", {"a": None, "b": {"c": None}}),
        ("3", {"a": None, "b": {"c": {"d": None}}}),
        ("0", {"a": None, "b": {"c": {"d": None}}}),
    ],
)
def test_subkeys_depth_limits_the_structure(kv2, depth, expected) -> None:
    kv2.put("app", {"a": "x", "b": {"c": {"d": "y"}}})
    assert kv2.ok(READ, "subkeys/app", {"depth": depth})["subkeys"] == expected


def test_subkeys_of_an_older_version(kv2) -> None:
    kv2.put("app", {"old": "1"})
    kv2.put("app", {"new": "2"})
    assert kv2.ok(READ, "subkeys/app", {"version": "1"})["subkeys"] == {"old": None}


def test_subkeys_of_deleted_version_returns_404_with_metadata(kv2) -> None:
    kv2.put("app", {"a": "b"})
    kv2.call(DELETE, "data/app")
    response = kv2.call(READ, "subkeys/app")
    assert response.status == 404
    assert response.data["subkeys"] is None
    assert response.data["metadata"]["version"] == 1


def test_subkeys_of_missing_secret_returns_404(kv2) -> None:
    with pytest.raises(NotFound):
        kv2.call(READ, "subkeys/nothing")


def test_subkeys_with_negative_depth_is_400(kv2) -> None:
    kv2.put("app", {"a": "b"})
    with pytest.raises(InvalidRequest, match="depth"):
        kv2.call(READ, "subkeys/app", {"depth": -1})


def test_existence_of_data_path_follows_the_metadata(kv2) -> None:
    assert kv2.exists("data/app") is False
    kv2.put("app", {"v": "1"})
    assert kv2.exists("data/app") is True
    kv2.call(DELETE, "data/app")
    assert kv2.exists("data/app") is True  # soft-deleted: a write is an update
    assert kv2.exists("data/") is False


@pytest.mark.parametrize("path", ["data/", "data/app/", "subkeys/a//b"])
def test_read_of_a_malformed_path_is_404(kv2, path) -> None:
    with pytest.raises(NotFound):
        kv2.call(READ, path)


@pytest.mark.parametrize("path", ["data/app/", "delete/app/", "undelete/", "destroy/a//b", "metadata/app/"])
def test_delete_of_a_malformed_path_changes_nothing(kv2, path) -> None:
    operation = DELETE if path.startswith(("data/", "metadata/")) else UPDATE
    assert kv2.call(operation, path, {"versions": [1]}) is None
    assert kv2.contents() == {}


def test_patch_of_a_malformed_path_is_404(kv2) -> None:
    with pytest.raises(NotFound):
        kv2.call(PATCH, "data/app/", {"data": {"v": "1"}})
