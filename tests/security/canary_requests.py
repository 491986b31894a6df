"""The canary scenario: every way we know to hand the server a secret value, including the
ways that fail (SECURITY.md "secrets in logs and errors", CVE-2025-4166).

The scenario is a list of requests built around one canary string, so the same list can be
replayed against an in-process server and against a real server process. A request is
``expect_error`` when it is meant to fail (``None``: either outcome is right). Every error
answer is checked: it must never carry the canary. Successful reads may of course return
the canary; successful answers are not checked.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def new_canary() -> str:
    """A value no code, fixture or log line could produce by accident."""
    return "canary" + secrets.token_hex(12)


@dataclass(frozen=True)
class CanaryRequest:
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    token: str | None = None  # None: the root token
    headers: dict[str, str] = field(default_factory=dict)
    expect_error: bool | None = False


#: ``send(request) -> (status, body bytes)``
Sender = Callable[[CanaryRequest], tuple[int, bytes]]


def canary_requests(c: str) -> list[CanaryRequest]:
    """Requests carrying the canary ``c`` as a secret value, in an order that makes each meaningful."""
    deep = b'{"data": {"k": ' + b"[" * 400 + b'"' + c.encode() + b'"' + b"]" * 400 + b"}}"
    ok = [
        CanaryRequest("POST", "sys/mounts/kv1", {"type": "kv"}),
        CanaryRequest("POST", "secret/data/app", {"data": {"password": c, "user": "alice"}}),
        CanaryRequest("PATCH", "secret/data/app", {"data": {"api_key": c + "-patched"}},
                      headers={"Content-Type": "application/merge-patch+json"}),
        CanaryRequest("POST", "secret/data/app", {"data": {"password": c + "-v3"}, "options": {"cas": 2}}),
        CanaryRequest("POST", "secret/metadata/app", {"custom_metadata": {"owner": c}}),
        CanaryRequest("POST", "kv1/app", {"password": c}),
        CanaryRequest("POST", "secret/data/nested", {"data": {"deep": {"deeper": [c, {"k": c}]}}}),
        CanaryRequest("PUT", "sys/policies/acl/canary-policy",
                      {"policy": f'path "secret/data/x/*" {{ capabilities = ["read", "update"] '
                                 f'allowed_parameters = {{ "password" = ["{c}"] }} }}'}),
        CanaryRequest("POST", "auth/token/create", {"meta": {"secret": c}, "display_name": c, "policies": ["default"]}),
        CanaryRequest("POST", "auth/token/create", {"id": c + "-token-id", "policies": ["default"]}),
        CanaryRequest("POST", "auth/token/roles/canary-role", {"allowed_policies": ["default"], "path_suffix": "s"}),
        CanaryRequest("GET", "secret/data/app"),
        CanaryRequest("GET", "secret/subkeys/app"),
        CanaryRequest("GET", "kv1/app"),
        # Auth methods: a password, a role ID, a secret ID and its metadata (usernames and role
        # names are not secrets: they name storage entries, as in Vault).
        CanaryRequest("POST", "sys/auth/up-canary", {"type": "userpass"}),
        CanaryRequest("POST", "auth/up-canary/users/alice", {"password": c, "token_policies": ["default"]}),
        CanaryRequest("POST", "auth/up-canary/login/alice", {"password": c}, token=""),
        CanaryRequest("POST", "sys/auth/ar-canary", {"type": "approle"}),
        CanaryRequest("POST", "auth/ar-canary/role/app", {"role_id": c + "-role"}),
        CanaryRequest("POST", "auth/ar-canary/role/app/custom-secret-id",
                      {"secret_id": c + "-secret", "metadata": {"note": c}}),
        CanaryRequest("POST", "auth/ar-canary/login", {"role_id": c + "-role", "secret_id": c + "-secret"}, token=""),
    ]
    failing = [
        # KV v2: stale check-and-set, cas_required, wrong types holding the canary.
        CanaryRequest("POST", "secret/data/app", {"data": {"password": c}, "options": {"cas": 1}}),
        CanaryRequest("POST", "secret/data/app", {"data": {"password": c}, "options": {"cas": c}}),
        CanaryRequest("POST", "secret/data/app", {"data": c}),
        CanaryRequest("POST", "secret/data/app", {"data": [c]}),
        CanaryRequest("POST", "secret/data/app", {"data": {"password": c}, "options": c}),
        CanaryRequest("PATCH", "secret/data/missing", {"data": {"password": c}},
                      headers={"Content-Type": "application/merge-patch+json"}),
        CanaryRequest("PATCH", "secret/data/app", {"data": {"password": c}, "options": {"cas": 1}},
                      headers={"Content-Type": "application/merge-patch+json"}),
        CanaryRequest("PATCH", "secret/data/app", {"data": {"password": c}}, headers={"Content-Type": "text/plain"}),
        CanaryRequest("POST", "secret/config", {"max_versions": c, "cas_required": c}),
        CanaryRequest("POST", "secret/metadata/app", {"max_versions": c}),
        CanaryRequest("POST", "secret/metadata/app", {"custom_metadata": {"owner": {"nested": c}}}),
        CanaryRequest("POST", "secret/metadata/app", {"custom_metadata": {"owner": c * 40}}),
        CanaryRequest("POST", "secret/metadata/app", {"custom_metadata": c}),
        CanaryRequest("POST", "secret/delete/app", {"versions": c}),
        CanaryRequest("POST", "secret/destroy/app", {"versions": [c]}),
        CanaryRequest("POST", "secret/undelete/app", {"versions": {c: c}}),
        # Malformed payloads that carry the canary.
        CanaryRequest("POST", "secret/data/app", content=b'{"data": {"password": "' + c.encode() + b'"'),
        CanaryRequest("POST", "secret/data/app", content=b'{"data": {"password": ' + c.encode() + b"}}"),
        CanaryRequest("POST", "secret/data/app", content=b'["' + c.encode() + b'"]'),
        CanaryRequest("POST", "secret/data/app", content=b'"' + c.encode() + b'"'),
        CanaryRequest("POST", "secret/data/app", content=b'{"data": {"password": "' + c.encode() + b'\xff"}}'),
        CanaryRequest("POST", "kv1/app", content=b'{"password": "' + c.encode() + b'", }'),
        CanaryRequest("POST", "secret/data/app", content=deep),
        CanaryRequest("POST", "secret/data/app", {"data": {"password": c + "x" * (1024 * 1024)}}),
        CanaryRequest("POST", "secret/data/app", {"data": {c + "x" * (1024 * 1024): "v"}}),
        # Denied: a token without access writing the canary (the core logs every denial).
        CanaryRequest("POST", "secret/data/app", {"data": {"password": c}}, token=c + "-token-id"),
        CanaryRequest("POST", "kv1/app", {"password": c}, token=c + "-token-id"),
        # Tokens: the canary as a token, a token id, token fields of the wrong type.
        CanaryRequest("GET", "secret/data/app", token=c),
        CanaryRequest("GET", "secret/data/app", token="", headers={"Authorization": f"Bearer {c}"}),
        CanaryRequest("POST", "auth/token/lookup", {"token": c}),
        CanaryRequest("POST", "auth/token/renew", {"token": c}),
        CanaryRequest("POST", "auth/token/lookup-accessor", {"accessor": c}),
        CanaryRequest("POST", "sys/capabilities", {"token": c, "paths": ["secret/data/app"]}),
        CanaryRequest("POST", "sys/capabilities-accessor", {"accessor": c, "paths": ["secret/data/app"]}),
        CanaryRequest("POST", "auth/token/create", {"id": c + "-token-id"}),
        CanaryRequest("POST", "auth/token/create", {"meta": {"secret": [c]}}),
        CanaryRequest("POST", "auth/token/create", {"meta": c}),
        CanaryRequest("POST", "auth/token/create", {"num_uses": c, "ttl": c, "renewable": c}),
        CanaryRequest("POST", "auth/token/create", {"type": c}),
        CanaryRequest("POST", "auth/token/create", {"policies": [c + "!"]}),
        CanaryRequest("POST", "auth/token/create/canary-role", {"policies": ["root", c]}),
        # Auth methods: wrong passwords and secret IDs, malformed fields holding the canary.
        CanaryRequest("POST", "auth/up-canary/login/alice", {"password": c + "-wrong"}, token=""),
        CanaryRequest("POST", "auth/up-canary/login/nobody", {"password": c}, token=""),
        CanaryRequest("POST", "auth/up-canary/login/alice", {"password": [c]}, token=""),
        CanaryRequest("POST", "auth/up-canary/users/alice", {"password": [c]}),
        CanaryRequest("POST", "auth/up-canary/users/alice", {"password": c, "token_policies": [c + "!"]}),
        CanaryRequest("POST", "auth/up-canary/users/alice", {"password": c, "token_bound_cidrs": [c]}),
        CanaryRequest("POST", "auth/up-canary/users/alice", {"password": c, "token_ttl": c}),
        CanaryRequest("POST", "auth/ar-canary/login", {"role_id": c + "-role", "secret_id": c}, token=""),
        CanaryRequest("POST", "auth/ar-canary/login", {"role_id": c, "secret_id": c + "-secret"}, token=""),
        CanaryRequest("POST", "auth/ar-canary/role/app/custom-secret-id", {"secret_id": c + "-secret"}),
        CanaryRequest("POST", "auth/ar-canary/role/app/secret-id", {"metadata": c}),
        CanaryRequest("POST", "auth/ar-canary/role/app/secret-id", {"cidr_list": [c]}),
        CanaryRequest("POST", "auth/ar-canary/role/app/secret-id-accessor/lookup", {"secret_id_accessor": c}),
        CanaryRequest("POST", "auth/ar-canary/role/app", {"role_id": " " + c}),
        # Policies: the canary as a parameter value (the one place policy text holds secret-like
        # data) next to every kind of mistake. Parse errors name keys, capabilities and patterns,
        # as Vault's do: those are identifiers, and never values.
        CanaryRequest("PUT", "sys/policies/acl/bad1", {"policy": f'path "x" {{ capabilities = ["reed"] '
                                                                 f'allowed_parameters = {{ "p" = ["{c}"] }} }}'}),
        CanaryRequest("PUT", "sys/policies/acl/bad2", {"policy": f'path "x" {{ capabilities = ["read"] '
                                                                 f'allowed_parameters = {{ "p" = [["{c}"]] }} }}'}),
        CanaryRequest("PUT", "sys/policies/acl/bad3", {"policy": f'path "x" {{ capabilities = ["read"] '
                                                                 f'allowed_parameters = {{ "p" = ["{c}" "q"] }} }}'}),
        CanaryRequest("PUT", "sys/policies/acl/bad4", {"policy": f'path "x" {{ capabilities = ["read"] '
                                                                 f'denied_parameters = {{ "p" = "{c}" }} }}'}),
        CanaryRequest("PUT", "sys/policies/acl/bad5", {"policy": f'path "x" {{ capabilities = ["read"] '
                                                                 f'min_wrapping_ttl = "{c}" }}'}),
        CanaryRequest("PUT", "sys/policies/acl/bad6", {"policy": f'path "x" {{ capabilities = ["read"] '
                                                                 f'allowed_parameters = {{ "p" = ["{c}"] }}'}),
        CanaryRequest("PUT", "sys/policies/acl/bad7", {"policy": '{"path": {"x": {"capabilities": ["read"], '
                                                                 f'"allowed_parameters": {{"p": ["{c}"]'}),
        CanaryRequest("PUT", "sys/policies/acl/bad8", {"policy": f'path "{c}/../x" {{ capabilities = ["read"] }}'}),
        CanaryRequest("PUT", "sys/policies/acl/bad9", {"policy": [c]}),
        # Seal endpoints: the canary as an unseal key or init parameter.
        CanaryRequest("PUT", "sys/unseal", {"key": 12345, "reset": c}, token=""),
        CanaryRequest("PUT", "sys/init", {"secret_shares": c, "secret_threshold": c}, token=""),
        CanaryRequest("GET", f"sys/health?activecode={c}", token=""),
        # Mounts with the canary in option values.
        CanaryRequest("POST", "sys/mounts/kv-bad", {"type": "kv", "options": {"version": c}}),
        CanaryRequest("POST", "sys/mounts/kv-bad2", {"type": "kv", "config": {"default_lease_ttl": c}}),
        CanaryRequest("POST", "sys/mounts/secret/tune", {"default_lease_ttl": c}),
    ]
    either = [
        # An unsealed server answers its seal status to any key, as Vault does.
        CanaryRequest("PUT", "sys/unseal", {"key": c}, token="", expect_error=None),
    ]
    return ok + [CanaryRequest(r.method, r.path, r.json, r.content, r.token, r.headers, True) for r in failing] + either


def run_scenario(send: Sender, canary: str) -> list[str]:
    """Replay the scenario; return a description of every error answer that leaked the canary.

    Also fails loudly if a request meant to fail succeeded (the scenario would then no longer
    cover the error path it names) or a request meant to succeed failed.
    """
    leaks: list[str] = []
    needle = canary.encode()
    for request in canary_requests(canary):
        status, body = send(request)
        if request.expect_error is not None:
            failed = status >= 400
            assert failed == request.expect_error, f"{request.method} {request.path} -> {status} {body[:200]!r}"
        if status >= 400 and needle in body:
            leaks.append(f"{request.method} {request.path} -> {status}: {body[:200]!r}")
    return leaks
