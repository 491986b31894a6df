"""``strongroom kv`` against a real dev server: v2 path rewriting, v1 mounts, -mount, outputs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import yaml
from tests.cli.cli_harness import Cli


@pytest.fixture
def name() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def kv1(server_cli: Cli, name: str) -> Iterator[str]:
    """A fresh KV version 1 mount, disabled afterwards."""
    mount = f"{name}-v1"
    assert server_cli("secrets", "enable", f"-path={mount}", "kv").exit_code == 0
    yield mount
    server_cli("secrets", "disable", mount)


def test_put_then_get_on_a_v2_mount_goes_through_data(server_cli: Cli, name: str) -> None:
    put = server_cli("kv", "put", f"secret/{name}", "user=app", "password=s3cret")
    assert put.exit_code == 0, put.stderr
    assert put.stdout.startswith(f"== Secret Path ==\nsecret/data/{name}\n")
    assert "version            1" in put.stdout

    got = server_cli("kv", "get", f"secret/{name}")
    assert got.exit_code == 0, got.stderr
    assert "=== Data ===" in got.stdout
    assert "password    s3cret" in got.stdout


def test_get_field_prints_only_the_value(server_cli: Cli, name: str) -> None:
    server_cli("kv", "put", f"secret/{name}", "password=s3cret")

    result = server_cli("kv", "get", "-field=password", f"secret/{name}")

    assert result.exit_code == 0
    assert result.stdout == "s3cret"


def test_json_and_yaml_output_carry_the_api_response(server_cli: Cli, name: str) -> None:
    server_cli("kv", "put", f"secret/{name}", "a=1")

    as_json = json.loads(server_cli("kv", "get", "-format=json", f"secret/{name}").stdout)
    as_yaml = yaml.safe_load(server_cli("kv", "get", "--format=yaml", f"secret/{name}").stdout)

    assert as_json["data"]["data"] == {"a": "1"}
    assert as_json["data"]["metadata"]["version"] == 1
    assert as_yaml["data"] == as_json["data"]


def test_mount_flag_takes_a_path_relative_to_the_mount(server_cli: Cli, name: str) -> None:
    assert server_cli("kv", "put", "-mount=secret", f"{name}/inner", "k=v").exit_code == 0

    result = server_cli("kv", "get", "-mount", "secret", "-field=k", f"{name}/inner")

    assert result.stdout == "v"


def test_patch_merges_into_the_latest_version(server_cli: Cli, name: str) -> None:
    server_cli("kv", "put", f"secret/{name}", "a=1", "b=2")

    patched = server_cli("kv", "patch", f"secret/{name}", "b=3", "c=4")
    assert patched.exit_code == 0, patched.stderr

    data = json.loads(server_cli("kv", "get", "-format=json", f"secret/{name}").stdout)["data"]
    assert data["data"] == {"a": "1", "b": "3", "c": "4"}
    assert data["metadata"]["version"] == 2


def test_patch_by_read_and_write_with_check_and_set(server_cli: Cli, name: str) -> None:
    server_cli("kv", "put", f"secret/{name}", "a=1")

    assert server_cli("kv", "patch", "-method=rw", f"secret/{name}", "b=2").exit_code == 0

    data = json.loads(server_cli("kv", "get", "-format=json", f"secret/{name}").stdout)["data"]
    assert data["data"] == {"a": "1", "b": "2"}


def test_cas_mismatch_is_reported_with_vaults_wording(server_cli: Cli, name: str) -> None:
    server_cli("kv", "put", f"secret/{name}", "a=1")

    result = server_cli("kv", "put", "-cas=0", f"secret/{name}", "a=2")

    assert result.exit_code == 2
    assert "check-and-set parameter did not match the current version" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_get_of_a_missing_secret_says_no_value_and_exits_2(server_cli: Cli, name: str) -> None:
    result = server_cli("kv", "get", f"secret/{name}/missing")

    assert result.exit_code == 2
    assert result.stderr.strip() == f"No value found at secret/data/{name}/missing"


def test_list_goes_through_metadata(server_cli: Cli, name: str) -> None:
    server_cli("kv", "put", f"secret/{name}/a", "x=1")
    server_cli("kv", "put", f"secret/{name}/dir/b", "x=1")

    table = server_cli("kv", "list", f"secret/{name}")
    as_json = server_cli("kv", "list", "-format=json", f"secret/{name}/")

    assert table.stdout.splitlines() == ["Keys", "----", "a", "dir/"]
    assert json.loads(as_json.stdout) == ["a", "dir/"]


def test_delete_undelete_and_destroy_versions(server_cli: Cli, name: str) -> None:
    path = f"secret/{name}"
    server_cli("kv", "put", path, "v=1")
    server_cli("kv", "put", path, "v=2")

    deleted = server_cli("kv", "delete", path)
    assert deleted.stdout.strip() == f"Success! Data deleted (if it existed) at: secret/data/{name}"
    assert server_cli("kv", "get", path).exit_code == 2

    undeleted = server_cli("kv", "undelete", "-versions=2", path)
    assert undeleted.stdout.strip() == f"Success! Data written to: secret/undelete/{name}"
    assert server_cli("kv", "get", "-field=v", path).stdout == "2"

    assert server_cli("kv", "delete", "-versions=1", path).exit_code == 0
    assert server_cli("kv", "destroy", "-versions", "1,2", path).exit_code == 0
    metadata = json.loads(server_cli("kv", "metadata", "get", "-format=json", path).stdout)["data"]
    assert metadata["versions"]["1"]["destroyed"] is True
    assert metadata["versions"]["2"]["destroyed"] is True


def test_get_of_an_older_version(server_cli: Cli, name: str) -> None:
    server_cli("kv", "put", f"secret/{name}", "v=1")
    server_cli("kv", "put", f"secret/{name}", "v=2")

    assert server_cli("kv", "get", "-version=1", "-field=v", f"secret/{name}").stdout == "1"


def test_metadata_put_get_and_delete(server_cli: Cli, name: str) -> None:
    path = f"secret/{name}"
    server_cli("kv", "put", path, "a=1")

    put = server_cli("kv", "metadata", "put", "-max-versions=3", "-custom-metadata=owner=team-a", path)
    assert put.stdout.strip() == f"Success! Data written to: secret/metadata/{name}"

    table = server_cli("kv", "metadata", "get", path).stdout
    assert "max_versions            3" in table
    assert "custom_metadata         map[owner:team-a]" in table
    assert "==== Version 1 ====" in table

    assert server_cli("kv", "metadata", "delete", path).exit_code == 0
    assert server_cli("kv", "metadata", "get", path).exit_code == 2


def test_put_reads_values_from_stdin(server_cli: Cli, name: str) -> None:
    assert server_cli("kv", "put", f"secret/{name}", "password=-", input="from-stdin\n").exit_code == 0
    assert server_cli("kv", "put", f"secret/{name}-json", "-", input='{"n": "1"}').exit_code == 0

    assert server_cli("kv", "get", "-field=password", f"secret/{name}").stdout == "from-stdin"
    assert server_cli("kv", "get", "-field=n", f"secret/{name}-json").stdout == "1"


def test_v1_mounts_use_the_path_as_written(server_cli: Cli, kv1: str) -> None:
    put = server_cli("kv", "put", f"{kv1}/app", "k=v")
    assert put.stdout.strip() == f"Success! Data written to: {kv1}/app"

    assert server_cli("kv", "get", "-field=k", f"{kv1}/app").stdout == "v"
    assert server_cli("read", "-field=k", f"{kv1}/app").stdout == "v"
    assert server_cli("kv", "list", kv1).stdout.splitlines() == ["Keys", "----", "app"]
    assert server_cli("kv", "delete", f"{kv1}/app").exit_code == 0
    assert server_cli("kv", "get", f"{kv1}/app").exit_code == 2


def test_version_operations_on_a_v1_mount_are_local_errors(server_cli: Cli, kv1: str) -> None:
    result = server_cli("kv", "undelete", "-versions=1", f"{kv1}/app")

    assert result.exit_code == 1
    assert "only available on KV version 2 mounts" in result.stderr


def test_kv_on_a_path_outside_any_kv_mount_is_an_error(server_cli: Cli) -> None:
    result = server_cli("kv", "get", "sys/mounts")

    assert result.exit_code in (1, 2)
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_token_limited_by_policy_can_use_kv_on_its_paths(server_cli: Cli, name: str) -> None:
    policy = f'path "secret/data/{name}/*" {{\n  capabilities = ["create", "update", "read"]\n}}\n'
    assert server_cli("policy", "write", name, "-", input=policy).exit_code == 0
    token = server_cli("token", "create", f"-policy={name}", "-field=token").stdout
    limited = {"STRONGROOM_TOKEN": token}
    try:
        put = server_cli("kv", "put", f"secret/{name}/app", "k=v", env=limited)
        assert put.exit_code == 0, put.stderr
        assert server_cli("kv", "get", "-field=k", f"secret/{name}/app", env=limited).stdout == "v"

        denied = server_cli("kv", "get", "secret/elsewhere", env=limited)
        assert denied.exit_code == 2
        assert len(denied.stderr.strip().splitlines()) == 1
    finally:
        server_cli("policy", "delete", name)
