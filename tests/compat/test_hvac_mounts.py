"""hvac's mount API (``sys/mounts``, ``sys/auth``, tuning) against a real dev server process."""

from __future__ import annotations

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import unique

SYSTEM_DEFAULT_TTL = 768 * 3600

# What Vault reports for every mount; clients (hvac's retrieve_mount_option, the vault CLI) read these.
MOUNT_FIELDS = {
    "type", "description", "accessor", "uuid", "config", "options", "local", "seal_wrap",
    "external_entropy_access", "plugin_version", "running_plugin_version", "running_sha256",
    "deprecation_status",
}


@pytest.mark.parametrize(
    ("engine", "options", "version"),
    [("kv", {"version": "1"}, "1"), ("kv", {"version": "2"}, "2"), ("kv-v2", None, "2")],
)
def test_enabled_kv_mount_is_listed_with_its_version(
    root: hvac.Client, engine: str, options: dict[str, str] | None, version: str
) -> None:
    path = unique("mnt")
    root.sys.enable_secrets_engine(engine, path=path, options=options, description="team secrets")
    listing = root.sys.list_mounted_secrets_engines()
    entry = listing["data"][f"{path}/"]
    assert listing[f"{path}/"] == entry  # Vault repeats the table at top level; old clients read it there
    assert set(entry) >= MOUNT_FIELDS
    assert entry["type"] == "kv"
    assert entry["description"] == "team secrets"
    assert entry["accessor"].startswith("kv_")
    assert entry["config"] == {"default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": False}
    assert root.sys.retrieve_mount_option(path, "version") == version


def test_dev_server_lists_its_builtin_mounts(root: hvac.Client) -> None:
    mounts = root.sys.list_mounted_secrets_engines()["data"]
    assert mounts["sys/"]["type"] == "system"
    assert mounts["secret/"]["type"] == "kv"
    assert mounts["secret/"]["options"] == {"version": "2"}
    auth = root.sys.list_auth_methods()
    assert auth["data"]["token/"]["type"] == "token"
    assert auth["token/"] == auth["data"]["token/"]


def test_tuning_is_reflected_by_the_mount_configuration(root: hvac.Client) -> None:
    path = unique("tune")
    root.sys.enable_secrets_engine("kv", path=path, options={"version": "1"}, description="before")
    before = root.sys.read_mount_configuration(path)["data"]
    assert before["default_lease_ttl"] == SYSTEM_DEFAULT_TTL
    assert before["max_lease_ttl"] == SYSTEM_DEFAULT_TTL
    assert before["force_no_cache"] is False
    assert before["description"] == "before"
    assert "listing_visibility" not in before

    root.sys.tune_mount_configuration(
        path, default_lease_ttl="1h", max_lease_ttl="2h", description="after", listing_visibility="unauth",
        audit_non_hmac_request_keys=["user"], passthrough_request_headers=["X-Custom"],
    )
    after = root.sys.read_mount_configuration(path)["data"]
    assert after["default_lease_ttl"] == 3600
    assert after["max_lease_ttl"] == 7200
    assert after["description"] == "after"
    assert after["listing_visibility"] == "unauth"
    assert after["audit_non_hmac_request_keys"] == ["user"]
    assert after["passthrough_request_headers"] == ["X-Custom"]
    listed = root.sys.list_mounted_secrets_engines()["data"][f"{path}/"]
    assert listed["config"]["default_lease_ttl"] == 3600
    assert listed["config"]["listing_visibility"] == "unauth"
    assert listed["description"] == "after"


def test_auth_method_tuning_reads_like_vault(root: hvac.Client) -> None:
    tuning = root.sys.read_auth_method_tuning("token")["data"]
    assert tuning["default_lease_ttl"] == SYSTEM_DEFAULT_TTL
    assert tuning["token_type"] == "default-service"


def test_disabled_mount_loses_its_data_and_re_enabling_gives_an_empty_mount(root: hvac.Client) -> None:
    path = unique("gone")
    root.sys.enable_secrets_engine("kv", path=path, options={"version": "2"})
    root.secrets.kv.v2.create_or_update_secret("app/db", {"pw": "1"}, mount_point=path)
    root.sys.disable_secrets_engine(path)
    assert f"{path}/" not in root.sys.list_mounted_secrets_engines()["data"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_version("app/db", mount_point=path, raise_on_deleted_version=True)

    root.sys.enable_secrets_engine("kv", path=path, options={"version": "2"})
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_version("app/db", mount_point=path, raise_on_deleted_version=True)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.list_secrets("", mount_point=path)


def test_mount_errors_keep_vaults_wording(root: hvac.Client) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest, match="path is already in use at secret/"):
        root.sys.enable_secrets_engine("kv", path="secret")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="plugin not found in the catalog: no-such-engine"):
        root.sys.enable_secrets_engine("no-such-engine", path=unique("nse"))
    with pytest.raises(hvac.exceptions.InvalidRequest, match="plugin not found in the catalog: no-such-method"):
        root.sys.enable_auth_method("no-such-method", path=unique("nsm"))
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.disable_secrets_engine("sys")


def test_remount_is_not_supported_and_says_so(root: hvac.Client) -> None:
    path = unique("stay")
    root.sys.enable_secrets_engine("kv", path=path, options={"version": "1"})
    with pytest.raises(hvac.exceptions.InvalidPath, match="unsupported path: 'remount'"):
        root.sys.move_backend(path, unique("moved"))
    assert f"{path}/" in root.sys.list_mounted_secrets_engines()["data"]
