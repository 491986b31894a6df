"""hvac's token API (``client.auth.token``) against a real dev server process."""

from __future__ import annotations

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, token_with_policy, unique


def child_client(parent: hvac.Client, **kwargs: object) -> hvac.Client:
    created = parent.auth.token.create(**kwargs)
    return client(parent.url, created["auth"]["client_token"])


def is_dead(root: hvac.Client, token: str) -> bool:
    if client(root.url, token).is_authenticated():
        return False
    with pytest.raises(hvac.exceptions.Forbidden):
        root.auth.token.lookup(token)
    return True


def test_create_carries_every_requested_property_into_auth_and_lookup(root: hvac.Client) -> None:
    policy = unique("tok")
    root.sys.create_or_update_policy(policy, 'path "secret/*" { capabilities = ["read"] }')
    answer = root.auth.token.create(
        policies=[policy], ttl="1h", explicit_max_ttl="2h", num_uses=5, renewable=True,
        display_name="alice", meta={"team": "blue"},
    )
    auth = answer["auth"]
    assert auth["client_token"].startswith("hvs.")
    assert sorted(auth["policies"]) == sorted(["default", policy])
    assert sorted(auth["token_policies"]) == sorted(["default", policy])
    assert auth["metadata"] == {"team": "blue"}
    assert auth["lease_duration"] == 3600
    assert auth["renewable"] is True
    assert auth["orphan"] is False
    assert auth["token_type"] == "service"
    assert auth["num_uses"] == 5
    assert answer["data"] is None
    assert answer["lease_id"] == ""

    data = root.auth.token.lookup(auth["client_token"])["data"]
    assert data["id"] == auth["client_token"]
    assert data["accessor"] == auth["accessor"]
    assert data["display_name"] == "token-alice"
    assert data["meta"] == {"team": "blue"}
    assert data["num_uses"] == 5
    assert data["explicit_max_ttl"] == 7200
    assert data["creation_ttl"] == 3600
    assert 3500 < data["ttl"] <= 3600
    assert data["renewable"] is True
    assert data["orphan"] is False
    assert data["path"] == "auth/token/create"
    assert data["type"] == "service"
    assert data["expire_time"].endswith("Z")
    assert data["issue_time"].endswith("Z")


def test_periodic_token_renews_to_its_period_whatever_the_increment(root: hvac.Client) -> None:
    auth = root.auth.token.create(period="30m")["auth"]
    assert auth["lease_duration"] == 1800
    assert root.auth.token.lookup(auth["client_token"])["data"]["period"] == 1800
    renewed = root.auth.token.renew(auth["client_token"], increment="10s")["auth"]
    assert renewed["lease_duration"] == 1800


def test_explicit_max_ttl_caps_renewal(root: hvac.Client) -> None:
    auth = root.auth.token.create(ttl="1h", explicit_max_ttl="90m")["auth"]
    renewed = root.auth.token.renew(auth["client_token"], increment="10h")
    assert 5300 < renewed["auth"]["lease_duration"] <= 5400
    assert renewed["warnings"]


def test_create_orphan_and_no_parent_both_make_orphans(root: hvac.Client) -> None:
    orphan = root.auth.token.create_orphan(policies=["default"], ttl="10m")["auth"]
    no_parent = root.auth.token.create(no_parent=True, ttl="10m")["auth"]
    assert orphan["orphan"] is True
    assert no_parent["orphan"] is True
    assert root.auth.token.lookup(orphan["client_token"])["data"]["path"] == "auth/token/create-orphan"


def test_lookup_self_and_lookup_accessor_describe_the_same_token(root: hvac.Client) -> None:
    auth = root.auth.token.create(ttl="10m", display_name="bob")["auth"]
    own = client(root.url, auth["client_token"]).auth.token.lookup_self()["data"]
    by_accessor = root.auth.token.lookup_accessor(auth["accessor"])["data"]
    assert own["id"] == auth["client_token"]
    assert by_accessor["id"] == ""  # Vault never reveals the token behind an accessor
    assert {k: v for k, v in own.items() if k not in ("id", "ttl")} == {
        k: v for k, v in by_accessor.items() if k not in ("id", "ttl")
    }


def test_renew_renew_self_and_renew_accessor_grant_the_increment(root: hvac.Client) -> None:
    auth = root.auth.token.create(ttl="10m")["auth"]
    assert root.auth.token.renew(auth["client_token"], increment="30m")["auth"]["lease_duration"] == 1800
    holder = client(root.url, auth["client_token"])
    assert holder.auth.token.renew_self(increment="20m")["auth"]["lease_duration"] == 1200
    by_accessor = root.auth.token.renew_accessor(auth["accessor"], increment=600)["auth"]
    assert by_accessor["lease_duration"] == 600
    assert by_accessor["client_token"] == ""  # as in Vault: renewing by accessor does not reveal the token
    assert by_accessor["accessor"] == auth["accessor"]


def test_renew_accessor_never_hands_the_caller_a_token_with_the_target_policies(root: hvac.Client) -> None:
    precious = unique("precious")
    root.sys.create_or_update_policy(precious, 'path "secret/*" { capabilities = ["read", "update"] }')
    victim = root.auth.token.create(policies=[precious], ttl="10m")["auth"]
    renewer = token_with_policy(
        root, unique("renewer"), 'path "auth/token/renew-accessor" { capabilities = ["update"] }'
    )
    answer = renewer.auth.token.renew_accessor(victim["accessor"])
    assert answer["auth"]["client_token"] == ""
    assert answer["auth"]["accessor"] == victim["accessor"]


def test_revoke_revoke_self_and_revoke_accessor_kill_the_token(root: hvac.Client) -> None:
    by_id, by_self, by_accessor = (root.auth.token.create(ttl="10m")["auth"] for _ in range(3))
    root.auth.token.revoke(by_id["client_token"])
    client(root.url, by_self["client_token"]).auth.token.revoke_self()
    root.auth.token.revoke_accessor(by_accessor["accessor"])
    for auth in (by_id, by_self, by_accessor):
        assert is_dead(root, auth["client_token"])


def test_revoking_a_parent_revokes_its_whole_subtree(root: hvac.Client) -> None:
    parent = child_client(root, ttl="10m")
    child = child_client(parent, ttl="10m")
    grandchild = child_client(child, ttl="10m")
    sibling = child_client(root, ttl="10m")
    root.auth.token.revoke(parent.token)
    for token in (parent.token, child.token, grandchild.token):
        assert is_dead(root, token)
    assert sibling.is_authenticated()


def test_revoke_orphan_keeps_the_children_alive_as_orphans(root: hvac.Client) -> None:
    parent = child_client(root, ttl="10m")
    child = child_client(parent, ttl="10m")
    root.auth.token.revoke_and_orphan_children(parent.token)
    assert is_dead(root, parent.token)
    assert child.is_authenticated()
    assert root.auth.token.lookup(child.token)["data"]["orphan"] is True


def test_token_dies_after_its_last_use(root: hvac.Client) -> None:
    limited = child_client(root, ttl="10m", num_uses=2)
    assert limited.auth.token.lookup_self()["data"]["num_uses"] == 1  # this request spent one use
    limited.auth.token.lookup_self()
    with pytest.raises(hvac.exceptions.Forbidden, match="permission denied"):
        limited.auth.token.lookup_self()


def test_token_roles_shape_the_tokens_created_through_them(root: hvac.Client) -> None:
    role = unique("role")
    allowed = unique("allowed")
    root.auth.token.create_or_update_role(
        role, allowed_policies=[allowed], orphan=True, token_period="1h", token_explicit_max_ttl="2h"
    )
    data = root.auth.token.read_role(role)["data"]
    assert data["name"] == role
    assert data["allowed_policies"] == [allowed]
    assert data["orphan"] is True
    assert data["renewable"] is True
    assert data["token_period"] == 3600
    assert data["token_explicit_max_ttl"] == 7200
    assert role in root.auth.token.list_roles()["data"]["keys"]

    auth = root.auth.token.create(role_name=role, policies=[allowed])["auth"]
    assert auth["orphan"] is True
    assert auth["lease_duration"] == 3600
    looked_up = root.auth.token.lookup(auth["client_token"])["data"]
    assert looked_up["role"] == role
    assert looked_up["path"] == f"auth/token/create/{role}"
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.auth.token.create(role_name=role, policies=[unique("not-allowed")])

    root.auth.token.delete_role(role)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.auth.token.read_role(role)


def test_list_accessors_needs_sudo_and_lists_live_tokens(root: hvac.Client) -> None:
    auth = root.auth.token.create(ttl="10m")["auth"]
    assert auth["accessor"] in root.auth.token.list_accessors()["data"]["keys"]
    lister = token_with_policy(root, unique("lister"), 'path "auth/token/accessors" { capabilities = ["list"] }')
    with pytest.raises(hvac.exceptions.Forbidden):
        lister.auth.token.list_accessors()


def test_is_authenticated_tells_live_tokens_from_unknown_ones(root: hvac.Client) -> None:
    assert root.is_authenticated()
    assert not client(root.url, "hvs.this-token-does-not-exist").is_authenticated()
    assert not client(root.url, "").is_authenticated()
