"""hvac's policy API (``sys/policy``, ``sys/policies/acl``, capabilities) and ACL enforcement, on a real server."""

from __future__ import annotations

import json

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, token_with_policy, unique


def test_hcl_policy_round_trips_through_the_legacy_endpoints(root: hvac.Client) -> None:
    name = unique("hcl")
    rules = 'path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}\n'
    root.sys.create_or_update_policy(name, rules)
    answer = root.sys.read_policy(name)
    assert answer["name"] == name
    assert answer["rules"] == rules
    assert answer["data"] == {"name": name, "rules": rules}
    listed = root.sys.list_policies()
    assert name in listed["policies"]
    assert name in listed["data"]["keys"]
    root.sys.delete_policy(name)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.read_policy(name)
    assert name not in root.sys.list_policies()["data"]["policies"]


def test_dict_policy_is_sent_as_json_and_enforced(root: hvac.Client) -> None:
    name = unique("json")
    policy = {"path": {"cubby/*": {"capabilities": ["read", "list"]}}}
    root.sys.create_or_update_policy(name, policy)
    assert json.loads(root.sys.read_policy(name)["rules"]) == policy
    caps = root.sys.get_capabilities(["cubby/x"], token=token_with_policy(root, name, json.dumps(policy)).token)
    assert caps["data"]["cubby/x"] == ["list", "read"]


def test_acl_policy_endpoints_round_trip(root: hvac.Client) -> None:
    name = unique("acl")
    rules = 'path "secret/data/x" { capabilities = ["deny"] }'
    root.sys.create_or_update_acl_policy(name, rules)
    assert root.sys.read_acl_policy(name)["data"] == {"name": name, "policy": rules}
    assert name in root.sys.list_acl_policies()["data"]["keys"]
    root.sys.delete_acl_policy(name)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.read_acl_policy(name)
    assert name not in root.sys.list_acl_policies()["data"]["keys"]


@pytest.mark.parametrize("name", ["root", "Root", " root "])
def test_root_policy_cannot_be_written_in_any_spelling(root: hvac.Client, name: str) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.create_or_update_acl_policy(name, 'path "*" { capabilities = ["sudo"] }')


@pytest.fixture
def kv_mount(root: hvac.Client) -> str:
    mount = unique("acl-kv")
    root.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    for path in ("app/a", "app/hidden", "rw/x"):
        root.secrets.kv.v2.create_or_update_secret(path, {"v": path}, mount_point=mount)
    return mount


def policy_for(mount: str) -> str:
    return f"""
path "{mount}/data/app/*"     {{ capabilities = ["read"] }}
path "{mount}/data/app/hidden" {{ capabilities = ["deny"] }}
path "{mount}/data/rw/*"      {{ capabilities = ["create", "update"] }}
path "{mount}/metadata/*"     {{ capabilities = ["list"] }}
"""


def test_token_can_do_exactly_what_its_policy_grants(root: hvac.Client, kv_mount: str) -> None:
    user = token_with_policy(root, unique("reader"), policy_for(kv_mount))
    kv = user.secrets.kv.v2

    assert kv.read_secret_version("app/a", mount_point=kv_mount, raise_on_deleted_version=True)["data"]["data"] == {
        "v": "app/a"
    }
    assert kv.list_secrets("", mount_point=kv_mount)["data"]["keys"] == ["app/", "rw/"]
    kv.create_or_update_secret("rw/x", {"v": "new"}, mount_point=kv_mount)
    kv.create_or_update_secret("rw/brand-new", {"v": "new"}, mount_point=kv_mount)

    denied = [
        lambda: kv.create_or_update_secret("app/a", {"v": "overwrite"}, mount_point=kv_mount),  # read-only
        lambda: kv.read_secret_version("app/hidden", mount_point=kv_mount, raise_on_deleted_version=True),  # deny
        lambda: kv.read_secret_version("rw/x", mount_point=kv_mount, raise_on_deleted_version=True),  # write-only
        lambda: kv.delete_metadata_and_all_versions("app/a", mount_point=kv_mount),  # list is not delete
        user.sys.list_mounted_secrets_engines,  # outside the policy
    ]
    for attempt in denied:
        with pytest.raises(hvac.exceptions.Forbidden, match="permission denied"):
            attempt()
    latest = root.secrets.kv.v2.read_secret_version("app/a", mount_point=kv_mount, raise_on_deleted_version=True)
    assert latest["data"]["data"] == {"v": "app/a"}


def test_policy_change_applies_to_existing_tokens_at_once(root: hvac.Client, kv_mount: str) -> None:
    name = unique("changing")
    user = token_with_policy(root, name, f'path "{kv_mount}/data/app/*" {{ capabilities = ["read"] }}')
    user.secrets.kv.v2.read_secret_version("app/a", mount_point=kv_mount, raise_on_deleted_version=True)
    root.sys.create_or_update_policy(name, f'path "{kv_mount}/data/app/*" {{ capabilities = ["deny"] }}')
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v2.read_secret_version("app/a", mount_point=kv_mount, raise_on_deleted_version=True)


def test_capabilities_for_a_token_for_self_and_for_an_accessor_agree(root: hvac.Client, kv_mount: str) -> None:
    name = unique("caps")
    # The default policy is what lets a token ask for its own capabilities, as in Vault.
    user = token_with_policy(root, name, policy_for(kv_mount), with_default=True)
    paths = [f"{kv_mount}/data/app/a", f"{kv_mount}/data/app/hidden", f"{kv_mount}/data/rw/x", "sys/mounts"]
    expected = {paths[0]: ["read"], paths[1]: ["deny"], paths[2]: ["create", "update"], paths[3]: ["deny"]}

    for_token = root.sys.get_capabilities(paths, token=user.token)
    for_self = user.sys.get_capabilities(paths)
    accessor = root.auth.token.lookup(user.token)["data"]["accessor"]
    for_accessor = root.sys.get_capabilities(paths, accessor=accessor)
    for answer in (for_token, for_self, for_accessor):
        assert {p: answer["data"][p] for p in paths} == expected
        assert {p: answer[p] for p in paths} == expected  # Vault also answers at top level

    single = user.sys.get_capabilities([paths[0]])
    assert single["data"]["capabilities"] == ["read"]
    assert root.sys.get_capabilities([paths[0]])["data"]["capabilities"] == ["root"]


def test_capabilities_self_needs_the_default_policy(root: hvac.Client) -> None:
    bare = token_with_policy(root, unique("bare"), 'path "secret/*" { capabilities = ["read"] }')
    with pytest.raises(hvac.exceptions.Forbidden):
        bare.sys.get_capabilities(["secret/data/x"])


def test_request_without_a_token_is_forbidden(root: hvac.Client) -> None:
    with pytest.raises(hvac.exceptions.Forbidden, match="permission denied"):
        client(root.url).sys.list_policies()
