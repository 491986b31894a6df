"""KV version 1, driven through the backend without HTTP."""

from __future__ import annotations

import pytest

from strongroom.errors import InvalidRequest, NotFound, UnsupportedOperation
from strongroom.sdk.logical import Operation

READ, UPDATE, DELETE, LIST, SCAN = (
    Operation.READ,
    Operation.UPDATE,
    Operation.DELETE,
    Operation.LIST,
    Operation.SCAN,
)


def test_mount_without_version_option_is_version_1(make_kv) -> None:
    kv = make_kv(None)
    assert kv.backend.version == 1
    assert kv.call(UPDATE, "app", {"password": "hunter2"}) is None


def test_write_answers_204_and_read_returns_the_object_as_written(kv1) -> None:
    body = {"password": "hunter2", "nested": {"port": 5432, "tls": True}, "list": [1, "two"]}
    assert kv1.call(UPDATE, "team/db", body) is None
    response = kv1.call(READ, "team/db")
    assert response.data == body


def test_read_without_ttl_key_hints_the_mount_default_lease_like_vault(kv1) -> None:
    kv1.call(UPDATE, "team/db", {"password": "x"})
    response = kv1.call(READ, "team/db")
    assert response.secret is not None
    assert response.secret.renewable is False
    assert response.secret.ttl == kv1.backend.ctx.system.default_lease_ttl > 0


def test_write_replaces_the_whole_object(kv1) -> None:
    kv1.call(UPDATE, "app", {"a": "1", "b": "2"})
    kv1.call(UPDATE, "app", {"c": "3"})
    assert kv1.ok(READ, "app") == {"c": "3"}


def test_ttl_key_becomes_a_non_renewable_lease_hint(kv1) -> None:
    kv1.call(UPDATE, "app", {"password": "x", "ttl": "1h"})
    response = kv1.call(READ, "app")
    assert response.secret is not None
    assert (response.secret.ttl, response.secret.renewable) == (3600, False)
    assert response.data == {"password": "x", "ttl": "1h"}


def test_numeric_ttl_is_seconds(kv1) -> None:
    kv1.call(UPDATE, "app", {"ttl": 90})
    assert kv1.call(READ, "app").secret.ttl == 90


def test_legacy_lease_key_is_a_ttl_too(kv1) -> None:
    kv1.call(UPDATE, "app", {"lease": "30m"})
    assert kv1.call(READ, "app").secret.ttl == 1800


def test_unparsable_ttl_is_stored_and_ignored_like_vault(kv1) -> None:
    kv1.call(UPDATE, "app", {"ttl": "soon"})
    response = kv1.call(READ, "app")
    assert response.secret is not None
    assert response.secret.ttl == kv1.backend.ctx.system.default_lease_ttl
    assert response.data == {"ttl": "soon"}


def test_read_of_missing_secret_is_404(kv1) -> None:
    with pytest.raises(NotFound):
        kv1.call(READ, "nothing/here")


def test_write_without_fields_is_400(kv1) -> None:
    with pytest.raises(InvalidRequest, match="missing data fields"):
        kv1.call(UPDATE, "app", {})


@pytest.mark.parametrize("path", ["", "app/", "a//b"])
def test_write_to_a_malformed_path_is_400(kv1, path) -> None:
    with pytest.raises(InvalidRequest):
        kv1.call(UPDATE, path, {"a": "b"})


def test_a_field_named_path_is_stored_as_data(kv1) -> None:
    kv1.call(UPDATE, "app", {"path": "/etc/secret"})
    assert kv1.ok(READ, "app") == {"path": "/etc/secret"}


def test_delete_answers_204_and_removes_the_secret(kv1) -> None:
    kv1.call(UPDATE, "app", {"a": "b"})
    assert kv1.call(DELETE, "app") is None
    with pytest.raises(NotFound):
        kv1.call(READ, "app")


def test_delete_of_missing_secret_is_204(kv1) -> None:
    assert kv1.call(DELETE, "never/written") is None


def test_list_shows_secrets_and_folders_of_one_level(kv1) -> None:
    for path in ("a", "team/db", "team/web/tls", "z"):
        kv1.call(UPDATE, path, {"k": "v"})
    assert kv1.ok(LIST, "")["keys"] == ["a", "team/", "z"]
    assert kv1.ok(LIST, "team/")["keys"] == ["db", "web/"]
    assert kv1.ok(LIST, "team")["keys"] == ["db", "web/"]


def test_list_pages_with_after_and_limit(kv1) -> None:
    for name in "abcde":
        kv1.call(UPDATE, name, {"k": "v"})
    assert kv1.ok(LIST, "", {"limit": "2"})["keys"] == ["a", "b"]
    assert kv1.ok(LIST, "", {"after": "b", "limit": "2"})["keys"] == ["c", "d"]


def test_list_of_empty_folder_is_404(kv1) -> None:
    with pytest.raises(NotFound):
        kv1.call(LIST, "nothing/")


def test_list_limit_that_is_not_a_number_is_400(kv1) -> None:
    kv1.call(UPDATE, "a", {"k": "v"})
    with pytest.raises(InvalidRequest, match="limit"):
        kv1.call(LIST, "", {"limit": "many"})


def test_scan_lists_every_secret_below_a_folder(kv1) -> None:
    for path in ("a", "team/db", "team/web/tls", "other/x"):
        kv1.call(UPDATE, path, {"k": "v"})
    assert kv1.ok(SCAN, "team")["keys"] == ["db", "web/tls"]
    assert kv1.ok(SCAN, "")["keys"] == ["a", "other/x", "team/db", "team/web/tls"]


def test_scan_of_empty_folder_is_404(kv1) -> None:
    with pytest.raises(NotFound):
        kv1.call(SCAN, "nothing")


def test_patch_is_not_a_v1_operation(kv1) -> None:
    with pytest.raises(UnsupportedOperation):
        kv1.call(Operation.PATCH, "app", {"a": "b"})


def test_existence_tells_create_from_update(kv1) -> None:
    assert kv1.exists("app") is False
    kv1.call(UPDATE, "app", {"a": "b"})
    assert kv1.exists("app") is True
    assert kv1.exists("app/") is False


def test_v1_data_lives_under_its_own_prefix(kv1) -> None:
    kv1.call(UPDATE, "team/db", {"a": "b"})
    assert list(kv1.contents()) == ["kv/team/db"]


def test_read_of_a_malformed_path_is_404_and_delete_is_204(kv1) -> None:
    with pytest.raises(NotFound):
        kv1.call(READ, "app/")
    assert kv1.call(DELETE, "a//b") is None
