"""SECURITY.md "escalation through policy names" (CVE-2025-5999 attached ``root`` through a case
or whitespace variant): no spelling of ``root`` can be created, updated or deleted as a policy,
or attached to a token by a non-root caller, through auth/token/create or a token role.

Root tokens may still mint root tokens, as in Vault; the threat is an administrator
without root reaching it through a name that the checks and the ACL disagree about.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from tests.api.api_support import create_token, storage_snapshot, write_policy
from tests.support.inprocess import InProcessServer

ROOT_SPELLINGS = [
    "root",
    "Root",
    "ROOT",
    "rOoT",
    " root",
    "root ",
    "root\t",
    "root\n",
    "r\u200boot",  # zero-width space
    "root\u00ad",  # soft hyphen
    "\ufeffroot",  # byte-order mark
    "\uff52\uff4f\uff4f\uff54",  # fullwidth
    "r\u043e\u043et",  # Cyrillic o
    "ro\u03bft",  # Greek omicron
    "ro\u00f6t",  # o with diaeresis
    "r o o t",
]

ADMIN_POLICY = """
path "sys/policies/acl/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "sys/policy/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "auth/token/create" { capabilities = ["update", "sudo"] }
path "auth/token/create/*" { capabilities = ["update", "sudo"] }
path "auth/token/roles/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "auth/token/lookup" { capabilities = ["update"] }
"""
RULES = 'path "secret/data/*" { capabilities = ["read"] }'


@pytest.fixture
def admin(server: InProcessServer) -> str:
    """A powerful administrator that does not hold root: manages policies, tokens and roles, with sudo."""
    write_policy(server, "admin", ADMIN_POLICY)
    return create_token(server, policies=["admin"])


def policy_names(server: InProcessServer) -> list[str]:
    names: list[str] = server.request("LIST", "sys/policies/acl").json()["data"]["keys"]
    return names


def token_policies(server: InProcessServer, token: str) -> list[str]:
    policies: list[str] = server.request("POST", "auth/token/lookup", json={"token": token}).json()["data"]["policies"]
    return policies


@pytest.mark.parametrize("name", ROOT_SPELLINGS, ids=[ascii(n) for n in ROOT_SPELLINGS])
def test_no_spelling_of_root_can_be_written_or_deleted_as_a_policy(
    server: InProcessServer, admin: str, name: str
) -> None:
    before = storage_snapshot(server)
    names = policy_names(server)
    for token in (None, admin):  # root itself may not either
        for prefix in ("sys/policies/acl/", "sys/policy/"):
            path = prefix + quote(name, safe="")
            for field in ("policy", "rules"):
                reply = server.request("PUT", path, token=token, json={field: RULES})
                assert reply.status_code == 400, (prefix, field, reply.text)
            assert server.request("DELETE", path, token=token).status_code == 400
    assert storage_snapshot(server) == before
    assert policy_names(server) == names
    assert server.request("GET", "sys/mounts").status_code == 200  # root still works


@pytest.mark.parametrize("name", ROOT_SPELLINGS, ids=[ascii(n) for n in ROOT_SPELLINGS])
def test_a_non_root_admin_cannot_attach_root_through_token_create(
    server: InProcessServer, admin: str, name: str
) -> None:
    before = storage_snapshot(server)
    for path in ("auth/token/create", "auth/token/create-orphan"):
        for policies in ([name], ["admin", name], f"admin,{name}"):
            reply = server.request("POST", path, token=admin, json={"policies": policies})
            assert reply.status_code in (400, 403), (path, policies, reply.text)
            assert "client_token" not in reply.text
    assert storage_snapshot(server) == before


@pytest.mark.parametrize("name", ROOT_SPELLINGS, ids=[ascii(n) for n in ROOT_SPELLINGS])
def test_no_token_role_can_allow_root_in_any_spelling(server: InProcessServer, admin: str, name: str) -> None:
    before = storage_snapshot(server)
    for token in (None, admin):  # not even root may write such a role
        for allowed in ([name], ["admin", name], f"admin,{name}"):
            reply = server.request("POST", "auth/token/roles/escalate", token=token, json={"allowed_policies": allowed})
            assert reply.status_code == 400, (allowed, reply.text)
    assert storage_snapshot(server) == before


@pytest.mark.parametrize("glob", ["*", "r*", "*t"])
def test_a_role_with_a_wide_policy_glob_still_does_not_mint_root(
    server: InProcessServer, admin: str, glob: str
) -> None:
    role = server.request("POST", "auth/token/roles/wide", token=admin, json={"allowed_policies_glob": [glob]})
    assert role.status_code == 204, role.text
    for name in ROOT_SPELLINGS:
        for policies in ([name], ["admin", name]):
            reply = server.request("POST", "auth/token/create/wide", token=admin, json={"policies": policies})
            assert reply.status_code == 400, (ascii(name), policies, reply.text)
            assert "client_token" not in reply.text
    minted = server.request("POST", "auth/token/create/wide", token=admin, json={})
    assert minted.status_code == 200
    token = minted.json()["auth"]["client_token"]
    assert "root" not in token_policies(server, token)
    assert server.request("GET", "sys/mounts", token=token).status_code == 403


def test_the_default_policy_cannot_be_deleted_in_any_spelling(server: InProcessServer, admin: str) -> None:
    for spelling in ("default", "Default", " default", "DEFAULT", "\uff44efault"):
        reply = server.request("DELETE", "sys/policies/acl/" + quote(spelling, safe=""), token=admin)
        assert reply.status_code == 400, spelling
    assert "default" in policy_names(server)


def test_a_policy_created_as_a_case_variant_is_one_policy_not_two(server: InProcessServer) -> None:
    write_policy(server, "Team", RULES)
    write_policy(server, "TEAM", 'path "secret/data/team/*" { capabilities = ["read"] }')
    assert [n for n in policy_names(server) if n.lower() == "team"] == ["team"]
