"""hvac's KV API (``client.secrets.kv.v2`` and ``.v1``) and recursive listing, against a real dev server process."""

from __future__ import annotations

import re

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import unique

VERSION_FIELDS = {"created_time", "custom_metadata", "deletion_time", "destroyed", "version"}
CAS_MISMATCH = "check-and-set parameter did not match the current version"
GO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


@pytest.fixture
def v2(root: hvac.Client) -> str:
    mount = unique("kv2")
    root.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    return mount


@pytest.fixture
def v1(root: hvac.Client) -> str:
    mount = unique("kv1")
    root.sys.enable_secrets_engine("kv", path=mount, options={"version": "1"})
    return mount


def read(root: hvac.Client, mount: str, path: str, version: int | None = None) -> dict[str, object]:
    answer: dict[str, object] = root.secrets.kv.v2.read_secret_version(
        path, version=version, mount_point=mount, raise_on_deleted_version=True
    )["data"]
    return answer


def test_configuration_round_trips(root: hvac.Client, v2: str) -> None:
    kv = root.secrets.kv.v2
    assert kv.read_configuration(mount_point=v2)["data"] == {
        "cas_required": False, "delete_version_after": "0s", "max_versions": 0,
    }
    kv.configure(max_versions=4, cas_required=True, delete_version_after="1h30m", mount_point=v2)
    assert kv.read_configuration(mount_point=v2)["data"] == {
        "cas_required": True, "delete_version_after": "1h30m0s", "max_versions": 4,
    }


def test_writes_create_versions_and_reads_find_each_one(root: hvac.Client, v2: str) -> None:
    kv = root.secrets.kv.v2
    first = kv.create_or_update_secret("app/db", {"user": "a", "pw": "1"}, mount_point=v2)
    assert set(first["data"]) == VERSION_FIELDS
    assert first["data"]["version"] == 1
    assert first["data"]["deletion_time"] == ""
    assert first["data"]["destroyed"] is False
    assert GO_TIME.match(first["data"]["created_time"])
    kv.create_or_update_secret("app/db", {"user": "b"}, cas=1, mount_point=v2)

    latest = read(root, v2, "app/db")
    assert latest["data"] == {"user": "b"}
    assert latest["metadata"]["version"] == 2  # type: ignore[index]
    assert read(root, v2, "app/db", version=1)["data"] == {"user": "a", "pw": "1"}
    with pytest.raises(hvac.exceptions.InvalidPath):
        read(root, v2, "app/db", version=9)
    with pytest.raises(hvac.exceptions.InvalidPath):
        read(root, v2, "app/nothing-here")


def test_check_and_set_failures_keep_vaults_wording(root: hvac.Client, v2: str) -> None:
    kv = root.secrets.kv.v2
    kv.create_or_update_secret("cas", {"n": 1}, cas=0, mount_point=v2)
    with pytest.raises(hvac.exceptions.InvalidRequest, match=CAS_MISMATCH):
        kv.create_or_update_secret("cas", {"n": 2}, cas=0, mount_point=v2)
    with pytest.raises(hvac.exceptions.InvalidRequest, match=CAS_MISMATCH):
        kv.create_or_update_secret("cas", {"n": 2}, cas=5, mount_point=v2)
    kv.update_metadata("cas", cas_required=True, mount_point=v2)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="check-and-set parameter required for this call"):
        kv.create_or_update_secret("cas", {"n": 2}, mount_point=v2)
    assert kv.create_or_update_secret("cas", {"n": 2}, cas=1, mount_point=v2)["data"]["version"] == 2


# hvac 2.4's own patch() reads the secret without choosing raise_on_deleted_version, which warns.
@pytest.mark.filterwarnings("ignore:The raise_on_deleted_version parameter:DeprecationWarning")
def test_hvac_patch_merges_into_the_latest_version(root: hvac.Client, v2: str) -> None:
    kv = root.secrets.kv.v2
    kv.create_or_update_secret("patched", {"a": "1", "b": "2"}, mount_point=v2)
    answer = kv.patch("patched", {"b": "3", "c": "4"}, mount_point=v2)
    assert answer["data"]["version"] == 2
    assert read(root, v2, "patched")["data"] == {"a": "1", "b": "3", "c": "4"}


def test_http_patch_applies_a_json_merge_patch(root: hvac.Client, v2: str) -> None:
    root.secrets.kv.v2.create_or_update_secret("merge", {"a": "1", "b": "2"}, mount_point=v2)
    answer = root.adapter.request(
        "PATCH", f"/v1/{v2}/data/merge", json={"data": {"a": None, "c": "3"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert answer["data"]["version"] == 2
    assert read(root, v2, "merge")["data"] == {"b": "2", "c": "3"}


def test_soft_delete_undelete_and_destroy(root: hvac.Client, v2: str) -> None:
    kv = root.secrets.kv.v2
    for n in range(3):
        kv.create_or_update_secret("life", {"n": n}, mount_point=v2)

    kv.delete_latest_version_of_secret("life", mount_point=v2)
    with pytest.raises(hvac.exceptions.InvalidPath):
        read(root, v2, "life")
    deleted = kv.read_secret_version("life", mount_point=v2, raise_on_deleted_version=False)["data"]
    assert deleted["data"] is None
    assert deleted["metadata"]["version"] == 3
    assert GO_TIME.match(deleted["metadata"]["deletion_time"])

    kv.undelete_secret_versions("life", versions=[3], mount_point=v2)
    assert read(root, v2, "life")["data"] == {"n": 2}

    kv.delete_secret_versions("life", versions=[1], mount_point=v2)
    with pytest.raises(hvac.exceptions.InvalidPath):
        read(root, v2, "life", version=1)

    kv.destroy_secret_versions("life", versions=[2], mount_point=v2)
    with pytest.raises(hvac.exceptions.InvalidPath):
        read(root, v2, "life", version=2)
    # A destroyed (never soft-deleted) version has no deletion_time, so hvac raises even when told not to,
    # exactly as it does against Vault; the 404 body still carries the version's metadata.
    with pytest.raises(hvac.exceptions.InvalidPath) as destroyed:
        kv.read_secret_version("life", version=2, mount_point=v2, raise_on_deleted_version=False)
    assert destroyed.value.json["data"]["data"] is None
    assert destroyed.value.json["data"]["metadata"]["destroyed"] is True
    kv.undelete_secret_versions("life", versions=[2], mount_point=v2)  # destroyed is for good
    with pytest.raises(hvac.exceptions.InvalidPath):
        read(root, v2, "life", version=2)

    versions = kv.read_secret_metadata("life", mount_point=v2)["data"]["versions"]
    assert versions["1"]["deletion_time"] != ""
    assert versions["2"]["destroyed"] is True
    assert versions["3"] == {"created_time": versions["3"]["created_time"], "deletion_time": "", "destroyed": False}


def test_metadata_reads_and_updates(root: hvac.Client, v2: str) -> None:
    kv = root.secrets.kv.v2
    for n in range(4):
        kv.create_or_update_secret("meta", {"n": n}, mount_point=v2)
    metadata = kv.read_secret_metadata("meta", mount_point=v2)["data"]
    assert set(metadata) == {
        "cas_required", "created_time", "current_version", "custom_metadata", "delete_version_after",
        "max_versions", "oldest_version", "updated_time", "versions",
    }
    assert metadata["current_version"] == 4
    assert metadata["custom_metadata"] is None
    assert sorted(metadata["versions"]) == ["1", "2", "3", "4"]

    kv.update_metadata(
        "meta", max_versions=2, cas_required=True, delete_version_after="2h", custom_metadata={"owner": "ops"},
        mount_point=v2,
    )
    kv.create_or_update_secret("meta", {"n": 4}, cas=4, mount_point=v2)
    updated = kv.read_secret_metadata("meta", mount_point=v2)["data"]
    assert updated["max_versions"] == 2
    assert updated["cas_required"] is True
    assert updated["delete_version_after"] == "2h0m0s"
    assert updated["custom_metadata"] == {"owner": "ops"}
    assert sorted(updated["versions"]) == ["4", "5"]  # older versions pruned down to max_versions
    assert updated["oldest_version"] == 4
    assert read(root, v2, "meta")["metadata"]["custom_metadata"] == {"owner": "ops"}  # type: ignore[index]

    kv.delete_metadata_and_all_versions("meta", mount_point=v2)
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata("meta", mount_point=v2)
    with pytest.raises(hvac.exceptions.InvalidPath):
        read(root, v2, "meta", version=5)


def test_subkeys_show_the_structure_without_the_values(root: hvac.Client, v2: str) -> None:
    assert not hasattr(root.secrets.kv.v2, "read_secret_subkeys")  # hvac 2.4 has no method; clients go raw
    root.secrets.kv.v2.create_or_update_secret(
        "nested", {"db": {"user": "u", "tls": {"cert": "c"}}, "pw": "p"}, mount_point=v2
    )
    answer = root.adapter.get(f"/v1/{v2}/subkeys/nested")
    assert answer["data"]["subkeys"] == {"db": {"user": None, "tls": {"cert": None}}, "pw": None}
    assert answer["data"]["metadata"]["version"] == 1
    shallow = root.adapter.get(f"/v1/{v2}/subkeys/nested", params={"depth": 1})
    assert shallow["data"]["subkeys"] == {"db": None, "pw": None}


def test_list_shows_one_level_and_missing_folders_are_404(root: hvac.Client, v2: str) -> None:
    kv = root.secrets.kv.v2
    for path in ("team/db", "team/web/tls", "team/web/ca", "other"):
        kv.create_or_update_secret(path, {"x": "1"}, mount_point=v2)
    assert kv.list_secrets("", mount_point=v2)["data"]["keys"] == ["other", "team/"]
    assert kv.list_secrets("team", mount_point=v2)["data"]["keys"] == ["db", "web/"]
    assert kv.list_secrets("team/web/", mount_point=v2)["data"]["keys"] == ["ca", "tls"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.list_secrets("nobody", mount_point=v2)


def test_scan_lists_every_secret_below_a_folder_through_the_verb_and_the_query(root: hvac.Client, v2: str) -> None:
    kv = root.secrets.kv.v2
    for path in ("team/db", "team/web/tls", "team/web/ca", "other"):
        kv.create_or_update_secret(path, {"x": "1"}, mount_point=v2)
    by_verb = root.adapter.request("SCAN", f"/v1/{v2}/metadata/team")
    by_query = root.adapter.get(f"/v1/{v2}/metadata/team", params={"scan": "true"})
    assert by_verb["data"]["keys"] == ["db", "web/ca", "web/tls"]
    assert by_query["data"]["keys"] == by_verb["data"]["keys"]
    everything = root.adapter.request("SCAN", f"/v1/{v2}/metadata/")["data"]["keys"]
    assert everything == ["other", "team/db", "team/web/ca", "team/web/tls"]
    page = root.adapter.request("SCAN", f"/v1/{v2}/metadata/", params={"after": "team/db", "limit": 1})
    assert page["data"]["keys"] == ["team/web/ca"]


def test_kv_v1_write_read_list_delete(root: hvac.Client, v1: str) -> None:
    kv = root.secrets.kv.v1
    assert kv.create_or_update_secret("apps/web", {"token": "t", "ttl": "1h"}, mount_point=v1).status_code == 204
    kv.create_or_update_secret("apps/deep/db", {"pw": "p"}, mount_point=v1)
    answer = kv.read_secret("apps/web", mount_point=v1)
    assert answer["data"] == {"token": "t", "ttl": "1h"}
    assert answer["lease_duration"] == 3600
    assert kv.list_secrets("apps", mount_point=v1)["data"]["keys"] == ["deep/", "web"]
    assert root.adapter.request("SCAN", f"/v1/{v1}/apps")["data"]["keys"] == ["deep/db", "web"]
    kv.delete_secret("apps/web", mount_point=v1)
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret("apps/web", mount_point=v1)
    assert kv.list_secrets("apps", mount_point=v1)["data"]["keys"] == ["deep/"]


def test_strict_http_clients_list_with_get_and_the_list_query(root: hvac.Client, v2: str) -> None:
    root.secrets.kv.v2.create_or_update_secret("team/db", {"x": "1"}, mount_point=v2)
    strict = hvac.Client(url=root.url, token=root.token, strict_http=True)  # sends GET ?list=true, not LIST
    assert strict.secrets.kv.v2.list_secrets("team", mount_point=v2)["data"]["keys"] == ["db"]
    assert "default" in strict.sys.list_acl_policies()["data"]["keys"]
