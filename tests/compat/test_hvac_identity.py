"""hvac's identity API (``client.secrets.identity``) against a real dev server process.

Entities, entity aliases, groups, group aliases and lookups through hvac's own calls;
then a userpass login that attaches an entity, whose group's policy (changed after the
login) and templated policy decide what the token may read.
"""

from __future__ import annotations

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, unique


@pytest.fixture
def userpass(root: hvac.Client) -> tuple[str, str]:
    """A fresh userpass mount: (path, accessor)."""
    path = unique("userpass")
    root.sys.enable_auth_method("userpass", path=path)
    accessor = root.sys.list_auth_methods()["data"][path + "/"]["accessor"]
    return path, accessor


def test_entities_are_created_read_updated_listed_and_deleted(root: hvac.Client) -> None:
    identity = root.secrets.identity
    name = unique("entity")
    created = identity.create_or_update_entity(name=name, metadata={"team": "blue"}, policies=["p1"])["data"]
    assert created["name"] == name
    entity_id = created["id"]
    read = identity.read_entity(entity_id)["data"]
    assert (read["id"], read["name"], read["metadata"], read["policies"], read["disabled"]) == (
        entity_id, name, {"team": "blue"}, ["p1"], False)
    assert read["aliases"] == []
    assert identity.read_entity_by_name(name)["data"]["id"] == entity_id
    identity.update_entity(entity_id, name=name, policies=["p2"], disabled=True)
    assert identity.read_entity(entity_id)["data"]["policies"] == ["p2"]
    identity.create_or_update_entity_by_name(name, metadata={"team": "red"})
    assert identity.read_entity(entity_id)["data"]["metadata"] == {"team": "red"}
    listed = identity.list_entities()["data"]
    assert entity_id in listed["keys"]
    assert listed["key_info"][entity_id]["name"] == name
    assert entity_id in identity.list_entities(method="GET")["data"]["keys"]
    assert name in identity.list_entities_by_name()["data"]["keys"]
    identity.delete_entity(entity_id)
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_entity(entity_id)
    other = identity.create_or_update_entity(name=unique("entity"))["data"]
    identity.delete_entity_by_name(other["name"])
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_entity_by_name(other["name"])


def test_entities_are_merged(root: hvac.Client, userpass: tuple[str, str]) -> None:
    identity = root.secrets.identity
    _, accessor = userpass
    target = identity.create_or_update_entity(name=unique("entity"))["data"]
    source = identity.create_or_update_entity(name=unique("entity"))["data"]
    alias = identity.create_or_update_entity_alias("hal", source["id"], accessor)["data"]
    identity.merge_entities(from_entity_ids=[source["id"]], to_entity_id=target["id"])
    merged = identity.read_entity(target["id"])["data"]
    assert [a["id"] for a in merged["aliases"]] == [alias["id"]]
    assert merged["merged_entity_ids"] == [source["id"]]
    assert identity.read_entity_alias(alias["id"])["data"]["canonical_id"] == target["id"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_entity(source["id"])


def test_a_name_in_use_is_refused(root: hvac.Client) -> None:
    identity = root.secrets.identity
    first = identity.create_or_update_entity(name=unique("entity"))["data"]
    second = identity.create_or_update_entity(name=unique("entity"))["data"]
    with pytest.raises(hvac.exceptions.InvalidRequest, match="already in use"):
        identity.update_entity(second["id"], name=first["name"])


def test_entity_aliases_and_lookups(root: hvac.Client, userpass: tuple[str, str]) -> None:
    identity = root.secrets.identity
    path, accessor = userpass
    entity = identity.create_or_update_entity(name=unique("entity"))["data"]
    alias = identity.create_or_update_entity_alias("dana", entity["id"], accessor)["data"]
    assert alias["canonical_id"] == entity["id"]
    read = identity.read_entity_alias(alias["id"])["data"]
    assert (read["name"], read["mount_accessor"], read["mount_path"], read["mount_type"]) == (
        "dana", accessor, f"auth/{path}/", "userpass")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="already in use"):
        identity.create_or_update_entity_alias("dana", entity["id"], accessor)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid mount accessor"):
        identity.create_or_update_entity_alias("x", entity["id"], "auth_nothing_0")
    assert alias["id"] in identity.list_entity_aliases()["data"]["keys"]
    for criteria in ({"entity_id": entity["id"]}, {"name": entity["name"]}, {"alias_id": alias["id"]},
                     {"alias_name": "dana", "alias_mount_accessor": accessor}):
        assert identity.lookup_entity(**criteria)["data"]["id"] == entity["id"]
    assert identity.lookup_entity(name=unique("nobody")).status_code == 204
    identity.update_entity_alias(alias["id"], "dana2", entity["id"], accessor)
    assert identity.read_entity_alias(alias["id"])["data"]["name"] == "dana2"
    identity.delete_entity_alias(alias["id"])
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_entity_alias(alias["id"])


def test_groups_group_aliases_and_lookups(root: hvac.Client, userpass: tuple[str, str]) -> None:
    identity = root.secrets.identity
    _, accessor = userpass
    entity = identity.create_or_update_entity(name=unique("entity"))["data"]
    inner_name, outer_name = unique("inner"), unique("outer")
    inner = identity.create_or_update_group(inner_name, policies=["a"], member_entity_ids=[entity["id"]])["data"]
    outer = identity.create_or_update_group(outer_name, member_group_ids=[inner["id"]])["data"]
    read = identity.read_group(inner["id"])["data"]
    assert (read["name"], read["type"], read["policies"], read["member_entity_ids"], read["parent_group_ids"]) == (
        inner_name, "internal", ["a"], [entity["id"]], [outer["id"]])
    assert identity.read_group_by_name(outer_name)["data"]["member_group_ids"] == [inner["id"]]
    groups = identity.read_entity(entity["id"])["data"]
    assert (groups["direct_group_ids"], groups["inherited_group_ids"]) == ([inner["id"]], [outer["id"]])
    identity.update_group(inner["id"], inner_name, policies=["b"], member_entity_ids=[entity["id"]])
    assert identity.read_group(inner["id"])["data"]["policies"] == ["b"]
    assert inner["id"] in identity.list_groups()["data"]["keys"]
    assert outer_name in identity.list_groups_by_name()["data"]["keys"]
    external = identity.create_or_update_group(unique("ext"), group_type="external", policies=["ops"])["data"]
    group_alias = identity.create_or_update_group_alias("ops-team", mount_accessor=accessor,
                                                        canonical_id=external["id"])["data"]
    assert identity.read_group_alias(group_alias["id"])["data"]["canonical_id"] == external["id"]
    assert identity.read_group(external["id"])["data"]["alias"]["name"] == "ops-team"
    assert group_alias["id"] in identity.list_group_aliases()["data"]["keys"]
    assert identity.lookup_group(alias_name="ops-team", alias_mount_accessor=accessor)["data"]["id"] == external["id"]
    assert identity.lookup_group(name=inner_name)["data"]["id"] == inner["id"]
    identity.delete_group_alias(group_alias["id"])
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_group_alias(group_alias["id"])
    identity.delete_group(inner["id"])
    identity.delete_group_by_name(outer_name)
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_group(outer["id"])


def test_a_login_gets_an_entity_and_its_groups_policies_apply_at_request_time(
    root: hvac.Client, userpass: tuple[str, str]
) -> None:
    path, accessor = userpass
    secret = unique("app")
    root.secrets.kv.v2.create_or_update_secret(f"{secret}/eve/db", secret={"k": "eve"})
    root.secrets.kv.v2.create_or_update_secret(f"{secret}/frank/db", secret={"k": "frank"})
    own = unique("own-subtree")
    root.sys.create_or_update_policy(
        own, f'path "secret/data/{secret}/{{{{identity.entity.aliases.{accessor}.name}}}}/*" '
             '{ capabilities = ["read"] }')
    root.auth.userpass.create_or_update_user("eve", password="pw", mount_point=path)
    user = client(root.url)
    auth = user.auth.userpass.login("eve", "pw", mount_point=path)["auth"]
    entity_id = auth["entity_id"]
    assert entity_id
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v2.read_secret_version(f"{secret}/eve/db", raise_on_deleted_version=True)
    group = root.secrets.identity.create_or_update_group(unique("tenants"), policies=[own],
                                                         member_entity_ids=[entity_id])["data"]
    assert user.secrets.kv.v2.read_secret_version(f"{secret}/eve/db", raise_on_deleted_version=True)[
        "data"]["data"] == {"k": "eve"}
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v2.read_secret_version(f"{secret}/frank/db", raise_on_deleted_version=True)
    looked_up = user.auth.token.lookup_self()["data"]
    assert (looked_up["entity_id"], looked_up["identity_policies"]) == (entity_id, [own])
    again = client(root.url).auth.userpass.login("eve", "pw", mount_point=path)["auth"]
    assert again["entity_id"] == entity_id
    assert again["identity_policies"] == [own]
    assert own in again["policies"]
    root.secrets.identity.update_group(group["id"], group["name"], policies=[], member_entity_ids=[entity_id])
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v2.read_secret_version(f"{secret}/eve/db", raise_on_deleted_version=True)


def test_a_disabled_entity_can_neither_use_its_tokens_nor_log_in(root: hvac.Client, userpass: tuple[str, str]) -> None:
    path, _ = userpass
    root.auth.userpass.create_or_update_user("gina", password="pw", mount_point=path)
    user = client(root.url)
    entity_id = user.auth.userpass.login("gina", "pw", mount_point=path)["auth"]["entity_id"]
    assert user.auth.token.lookup_self()["data"]["entity_id"] == entity_id
    root.secrets.identity.update_entity(entity_id, disabled=True)
    with pytest.raises(hvac.exceptions.Forbidden):
        user.auth.token.lookup_self()
    with pytest.raises(hvac.exceptions.Forbidden):
        client(root.url).auth.userpass.login("gina", "pw", mount_point=path)
    root.secrets.identity.update_entity(entity_id, disabled=False)
    assert user.auth.token.lookup_self()["data"]["entity_id"] == entity_id
