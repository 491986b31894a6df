"""``strongroom namespace`` and ``-namespace`` / ``VAULT_NAMESPACE`` against a real dev server."""

from __future__ import annotations

import json
import uuid

import pytest
from tests.cli.cli_harness import Cli


@pytest.fixture
def name() -> str:
    return f"ns-{uuid.uuid4().hex[:10]}"


def test_create_lookup_list_patch_and_delete(server_cli: Cli, name: str) -> None:
    created = json.loads(server_cli("namespace", "create", "-custom-metadata=team=a", name, "-format=json").stdout)
    assert created["path"] == f"{name}/"
    assert created["custom_metadata"] == {"team": "a"}
    table = server_cli("namespace", "lookup", name).stdout
    assert f"id                 {created['id']}" in table
    assert name + "/" in server_cli("namespace", "list").stdout.splitlines()
    detailed = server_cli("namespace", "list", "-detailed").stdout
    assert any(line.split()[:2] == [f"{name}/", created["id"]] for line in detailed.splitlines())
    patched = json.loads(server_cli("namespace", "patch", "-custom-metadata=cost=1", name, "-format=json").stdout)
    assert patched["custom_metadata"] == {"team": "a", "cost": "1"}

    child = server_cli("namespace", "create", f"-namespace={name}", "child", "-format=json")
    assert json.loads(child.stdout)["path"] == f"{name}/child/"
    refused = server_cli("namespace", "delete", name)
    assert refused.exit_code == 2
    assert "containing child namespaces" in refused.stderr
    assert server_cli("namespace", "delete", "child", env={"VAULT_NAMESPACE": name}).exit_code == 0
    deleted = server_cli("namespace", "delete", name)
    assert deleted.stdout.strip() == f"Success! Namespace deleted at: {name}/"
    assert server_cli("namespace", "lookup", name).exit_code == 2


def test_commands_act_inside_the_namespace_given_by_flag_or_environment(server_cli: Cli, name: str) -> None:
    server_cli("namespace", "create", name)
    try:
        assert server_cli("secrets", "enable", f"-namespace={name}", "-path=kv", "-version=2", "kv").exit_code == 0
        assert server_cli("kv", "put", "kv/app", "v=1", env={"VAULT_NAMESPACE": name}).exit_code == 0
        got = server_cli("kv", "get", "-format=json", f"{name}/kv/app")
        assert json.loads(got.stdout)["data"]["data"] == {"v": "1"}
        assert "kv/" not in json.loads(server_cli("secrets", "list", "-format=json").stdout)
    finally:
        server_cli("namespace", "delete", name)
