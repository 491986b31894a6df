"""hvac against a real server process: namespaces through ``hvac.Client(namespace=...)`` and ``client.sys``."""

from __future__ import annotations

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, unique


def namespaced(root: hvac.Client, namespace: str, token: str | None = None) -> hvac.Client:
    return hvac.Client(url=root.url, token=token or root.token, namespace=namespace, timeout=15)


def test_create_list_and_delete_namespaces(root: hvac.Client) -> None:
    name = unique("ns")
    created = root.sys.create_namespace(name)["data"]
    assert created["path"] == f"{name}/"
    assert len(created["id"]) == 5
    assert f"{name}/" in root.sys.list_namespaces()["data"]["keys"]
    child = namespaced(root, name).sys.create_namespace("child")["data"]
    assert child["path"] == f"{name}/child/"
    assert namespaced(root, name).sys.list_namespaces()["data"]["keys"] == ["child/"]
    with pytest.raises(hvac.exceptions.InvalidRequest, match="containing child namespaces"):
        root.sys.delete_namespace(name)
    namespaced(root, name).sys.delete_namespace("child")
    root.sys.delete_namespace(name)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.adapter.get(f"/v1/sys/namespaces/{name}")


def test_two_sibling_namespaces_keep_mounts_policies_and_tokens_apart(root: hvac.Client) -> None:
    first, second = unique("ns-a"), unique("ns-b")
    clients = {}
    for name in (first, second):
        root.sys.create_namespace(name)
        admin = namespaced(root, name)
        admin.sys.enable_secrets_engine("kv", path="kv", options={"version": "2"})
        admin.sys.create_or_update_policy("rw", 'path "kv/*" { capabilities = ["create", "read", "update"] }')
        token = admin.auth.token.create(policies=["rw"], ttl="10m")["auth"]["client_token"]
        clients[name] = namespaced(root, name, token)
        clients[name].secrets.kv.v2.create_or_update_secret("app", secret={"owner": name}, mount_point="kv")
    try:
        for name, mine in clients.items():
            read = mine.secrets.kv.v2.read_secret_version("app", mount_point="kv", raise_on_deleted_version=True)
            assert read["data"]["data"] == {"owner": name}
        # a's token in b's namespace, and in the root: refused as if it were no token at all.
        stray = namespaced(root, second, clients[first].token)
        with pytest.raises(hvac.exceptions.Forbidden):
            stray.secrets.kv.v2.read_secret_version("app", mount_point="kv", raise_on_deleted_version=True)
        with pytest.raises(hvac.exceptions.Forbidden):
            client(root.url, clients[first].token).sys.list_mounted_secrets_engines()
        # Policies are per namespace.
        assert "rw" not in root.sys.list_policies()["data"]["policies"]
        assert "rw" in namespaced(root, first).sys.list_policies()["data"]["policies"]
        # The token's accessor is unknown in the other namespace, as a made-up one is.
        accessor = clients[first].auth.token.lookup_self()["data"]["accessor"]
        with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid accessor"):
            namespaced(root, second).auth.token.lookup_accessor(accessor)
    finally:
        for name in (first, second):
            root.sys.delete_namespace(name)
    with pytest.raises(hvac.exceptions.Forbidden):
        clients[first].auth.token.lookup_self()


def test_a_parent_namespace_token_reaches_its_child_and_not_the_reverse(root: hvac.Client) -> None:
    parent = unique("ns-p")
    root.sys.create_namespace(parent)
    admin = namespaced(root, parent)
    admin.sys.create_namespace("child")
    child_admin = namespaced(root, f"{parent}/child")
    child_admin.sys.enable_secrets_engine("kv", path="kv", options={"version": "2"})
    child_admin.secrets.kv.v2.create_or_update_secret("cfg", secret={"v": "child"}, mount_point="kv")
    admin.sys.create_or_update_policy("child-reader", 'path "child/kv/data/*" { capabilities = ["read"] }')
    reader = admin.auth.token.create(policies=["child-reader"], ttl="10m")["auth"]["client_token"]
    child_token = child_admin.auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
    try:
        # The parent's token, sent to the child namespace by header, or with the child in the path.
        got = namespaced(root, f"{parent}/child", reader).secrets.kv.v2.read_secret_version(
            "cfg", mount_point="kv", raise_on_deleted_version=True)
        assert got["data"]["data"] == {"v": "child"}
        via_path = namespaced(root, parent, reader).secrets.kv.v2.read_secret_version(
            "cfg", mount_point="child/kv", raise_on_deleted_version=True)
        assert via_path["data"]["data"] == {"v": "child"}
        # The child's token is nothing in the parent.
        with pytest.raises(hvac.exceptions.Forbidden):
            namespaced(root, parent, child_token).sys.list_policies()
    finally:
        child_admin.sys.disable_secrets_engine("kv")
        admin.sys.delete_namespace("child")
        root.sys.delete_namespace(parent)
