"""Response wrapping through the HTTP edge and the core, in process (Vault's wire format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.api_support import started_server
from tests.audit.audit_support import read_entries, requests_and_responses, unhashed
from tests.support.inprocess import InProcessServer

from strongroom.core.audit.broker import Auditor
from strongroom.core.hooks import RequestRecord
from strongroom.sdk.system import ManualClock

NOT_VALID = {"errors": ["wrapping token is not valid or does not exist"]}


def _wrap(server: InProcessServer, payload: dict[str, Any], ttl: str = "60s") -> dict[str, Any]:
    resp = server.request("POST", "sys/wrapping/wrap", json=payload, headers={"X-Vault-Wrap-TTL": ttl})
    assert resp.status_code == 200, resp.text
    info: dict[str, Any] = resp.json()["wrap_info"]
    return info


def _approle_with_role(server: InProcessServer) -> None:
    assert server.request("POST", "sys/auth/approle", json={"type": "approle"}).status_code == 204
    server.request("POST", "auth/approle/role/web", json={"token_policies": ["default"]})


def test_a_wrapped_read_answers_wrap_info_and_no_data(server: InProcessServer) -> None:
    server.request("POST", "secret/data/app", json={"data": {"pw": "wrapped-canary-1"}})
    resp = server.request("GET", "secret/data/app", headers={"X-Vault-Wrap-TTL": "5m"})
    assert resp.status_code == 200
    assert "wrapped-canary-1" not in resp.text
    body = resp.json()
    assert body["data"] is None
    assert body["auth"] is None
    info = body["wrap_info"]
    assert info["ttl"] == 300
    assert info["creation_path"] == "secret/data/app"
    assert info["token"].startswith("hvs.")
    assert info["accessor"]
    unwrapped = server.request("POST", "sys/wrapping/unwrap", token=info["token"])
    assert unwrapped.status_code == 200
    assert unwrapped.json()["data"]["data"] == {"pw": "wrapped-canary-1"}


def test_the_second_unwrap_fails_with_vaults_error(server: InProcessServer) -> None:
    info = _wrap(server, {"k": "v"})
    first = server.request("POST", "sys/wrapping/unwrap", json={"token": info["token"]})
    assert first.status_code == 200
    assert first.json()["data"] == {"k": "v"}
    second = server.request("POST", "sys/wrapping/unwrap", json={"token": info["token"]})
    assert second.status_code == 400
    assert second.json() == NOT_VALID
    as_client = server.request("POST", "sys/wrapping/unwrap", token=info["token"])
    assert as_client.status_code == 400
    assert as_client.json() == NOT_VALID


def test_unwrap_with_the_wrapping_token_as_client_token_consumes_it(server: InProcessServer) -> None:
    info = _wrap(server, {"k": "v"})
    assert server.request("POST", "sys/wrapping/unwrap", token=info["token"]).json()["data"] == {"k": "v"}
    again = server.request("POST", "sys/wrapping/unwrap", json={"token": info["token"]})
    assert again.json() == NOT_VALID


def test_an_expired_wrapping_token_cannot_be_unwrapped(server: InProcessServer, clock: ManualClock) -> None:
    info = _wrap(server, {"k": "v"}, ttl="30s")
    clock.advance(31)
    resp = server.request("POST", "sys/wrapping/unwrap", json={"token": info["token"]})
    assert resp.status_code == 400
    assert resp.json() == NOT_VALID


def test_lookup_describes_without_consuming(server: InProcessServer) -> None:
    info = _wrap(server, {"k": "v"}, ttl="2m")
    looked = server.request("POST", "sys/wrapping/lookup", token="", json={"token": info["token"]})
    assert looked.status_code == 200
    data = looked.json()["data"]
    assert data["creation_ttl"] == 120
    assert data["creation_path"] == "sys/wrapping/wrap"
    assert data["creation_time"].endswith("Z")
    assert server.request("POST", "sys/wrapping/lookup", token=info["token"]).status_code == 200
    assert server.request("POST", "sys/wrapping/unwrap", token=info["token"]).json()["data"] == {"k": "v"}
    assert server.request("POST", "sys/wrapping/lookup", token="", json={"token": info["token"]}).json() == NOT_VALID


def test_rewrap_moves_the_data_to_a_new_token_and_kills_the_old(server: InProcessServer) -> None:
    server.request("POST", "secret/data/app", json={"data": {"pw": "p"}})
    old = server.request("GET", "secret/data/app", headers={"X-Vault-Wrap-TTL": "90"}).json()["wrap_info"]
    resp = server.request("POST", "sys/wrapping/rewrap", json={"token": old["token"]})
    assert resp.status_code == 200
    assert resp.json()["data"] is None
    new = resp.json()["wrap_info"]
    assert new["token"] != old["token"]
    assert new["ttl"] == 90
    assert new["creation_path"] == "secret/data/app"
    assert server.request("POST", "sys/wrapping/unwrap", json={"token": old["token"]}).json() == NOT_VALID
    assert server.request("POST", "sys/wrapping/unwrap", json={"token": new["token"]}).json()["data"]["data"] == {
        "pw": "p"
    }


def test_wrap_without_a_wrap_ttl_is_refused(server: InProcessServer) -> None:
    resp = server.request("POST", "sys/wrapping/wrap", json={"k": "v"})
    assert resp.status_code == 400
    assert resp.json() == {"errors": ["endpoint requires response wrapping to be used"]}


def test_a_malformed_wrap_ttl_is_a_400_not_an_answer_in_clear(server: InProcessServer) -> None:
    server.request("POST", "secret/data/app", json={"data": {"pw": "clear-canary"}})
    for bad in ("soon", "-5", "0"):
        resp = server.request("GET", "secret/data/app", headers={"X-Vault-Wrap-TTL": bad})
        assert resp.status_code == 400
        assert "clear-canary" not in resp.text


def test_a_wrapping_token_grants_nothing_elsewhere_and_dies_when_tried(server: InProcessServer) -> None:
    info = _wrap(server, {"k": "v"})
    assert server.request("GET", "secret/data/app", token=info["token"]).status_code == 403
    assert server.request("POST", "sys/wrapping/unwrap", json={"token": info["token"]}).json() == NOT_VALID


def test_a_normal_token_is_not_a_wrapping_token(server: InProcessServer) -> None:
    resp = server.request("POST", "sys/wrapping/unwrap")
    assert resp.status_code == 400
    assert resp.json() == NOT_VALID
    assert server.request("POST", "sys/wrapping/lookup", json={"token": server.root_token}).json() == NOT_VALID


def test_policy_max_wrapping_ttl_is_enforced(server: InProcessServer) -> None:
    rules = 'path "secret/data/*" { capabilities = ["read"] \n max_wrapping_ttl = "1m" }'
    server.request("POST", "sys/policy/short-wrap", json={"policy": rules})
    server.request("POST", "secret/data/app", json={"data": {"pw": "p"}})
    token = server.request("POST", "auth/token/create", json={"policies": ["short-wrap"]}).json()["auth"][
        "client_token"
    ]
    too_long = server.request("GET", "secret/data/app", token=token, headers={"X-Vault-Wrap-TTL": "2m"})
    assert too_long.status_code == 403
    unwrapped_read = server.request("GET", "secret/data/app", token=token)
    assert unwrapped_read.status_code == 403
    ok = server.request("GET", "secret/data/app", token=token, headers={"X-Vault-Wrap-TTL": "30s"})
    assert ok.status_code == 200
    assert ok.json()["wrap_info"]["ttl"] == 30


def test_an_approle_secret_id_reaches_the_workload_and_never_the_operator(server: InProcessServer) -> None:
    _approle_with_role(server)
    role_id = server.request("GET", "auth/approle/role/web/role-id").json()["data"]["role_id"]
    wrapped = server.request("POST", "auth/approle/role/web/secret-id", headers={"X-Vault-Wrap-TTL": "60s"})
    assert wrapped.status_code == 200
    assert "secret_id" not in wrapped.text  # the operator sees only the wrap_info
    info = wrapped.json()["wrap_info"]
    assert info["creation_path"] == "auth/approle/role/web/secret-id"
    # The workload unwraps once, with no token but the wrapping token.
    secret = server.request("POST", "sys/wrapping/unwrap", token=info["token"]).json()["data"]
    login = server.request("POST", "auth/approle/login", token="",
                           json={"role_id": role_id, "secret_id": secret["secret_id"]})
    assert login.status_code == 200
    assert login.json()["auth"]["client_token"]
    assert server.request("POST", "sys/wrapping/unwrap", token=info["token"]).json() == NOT_VALID


def test_a_wrapped_login_hands_out_the_token_only_on_unwrap(server: InProcessServer) -> None:
    _approle_with_role(server)
    role_id = server.request("GET", "auth/approle/role/web/role-id").json()["data"]["role_id"]
    secret_id = server.request("POST", "auth/approle/role/web/secret-id").json()["data"]["secret_id"]
    resp = server.request("POST", "auth/approle/login", token="", headers={"X-Vault-Wrap-TTL": "1m"},
                          json={"role_id": role_id, "secret_id": secret_id})
    assert resp.status_code == 200
    assert resp.json()["auth"] is None
    info = resp.json()["wrap_info"]
    auth = server.request("POST", "sys/wrapping/unwrap", token=info["token"]).json()["auth"]
    assert info["wrapped_accessor"] == auth["accessor"]
    assert server.request("GET", "auth/token/lookup-self", token=auth["client_token"]).status_code == 200


def test_the_audit_log_shows_the_wrap_info_hashed_and_never_the_wrapped_data(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    with started_server(clock=ManualClock()) as srv:
        try:
            enabled = srv.request("PUT", "sys/audit/file", json={"type": "file",
                                                                  "options": {"file_path": str(log)}})
            assert enabled.status_code == 204
            srv.request("POST", "secret/data/app", json={"data": {"pw": "audit-wrap-canary"}})
            info = srv.request("GET", "secret/data/app", headers={"X-Vault-Wrap-TTL": "60"}).json()["wrap_info"]
            wrapped = [e for e in requests_and_responses(read_entries(log))
                       if e["type"] == "response" and e["request"]["path"] == "secret/data/app"
                       and e["request"]["operation"] == "read"]
            assert len(wrapped) == 1
            entry = wrapped[0]
            assert "data" not in entry["response"]
            audited = entry["response"]["wrap_info"]
            assert audited["token"].startswith("hmac-sha256:")
            assert audited["accessor"].startswith("hmac-sha256:")
            assert audited["ttl"] == 60
            assert audited["creation_path"] == "secret/data/app"
            assert entry["response"]["status_code"] == 200
            # Only the documented clear wrap_info facts (time, path) are not HMACs.
            assert set(unhashed(entry)) == {"response.wrap_info.creation_time", "response.wrap_info.creation_path"}
            srv.request("POST", "sys/wrapping/unwrap", token=info["token"])
            text = log.read_text()
            assert info["token"] not in text
            assert "audit-wrap-canary" not in text
        finally:
            assert isinstance(srv.core.audit, Auditor)
            srv.run(srv.core.audit.close())


def test_a_wrapped_login_is_recorded_as_a_successful_login(server: InProcessServer) -> None:
    records: list[RequestRecord] = []

    class Recorder:
        def observe(self, record: RequestRecord) -> None:
            records.append(record)

    server.core.observers.append(Recorder())
    _approle_with_role(server)
    role_id = server.request("GET", "auth/approle/role/web/role-id").json()["data"]["role_id"]
    secret_id = server.request("POST", "auth/approle/role/web/secret-id").json()["data"]["secret_id"]
    server.request("POST", "auth/approle/login", token="", headers={"X-Vault-Wrap-TTL": "1m"},
                   json={"role_id": role_id, "secret_id": secret_id})
    logins = [r for r in records if r.login_method == "approle"]
    assert [r.login_succeeded for r in logins] == [True]


def test_policy_min_wrapping_ttl_requires_wrapping(server: InProcessServer) -> None:
    rules = 'path "secret/data/*" { capabilities = ["read"] \n min_wrapping_ttl = "1m" }'
    server.request("POST", "sys/policy/must-wrap", json={"policy": rules})
    server.request("POST", "secret/data/app", json={"data": {"pw": "p"}})
    token = server.request("POST", "auth/token/create", json={"policies": ["must-wrap"]}).json()["auth"][
        "client_token"
    ]
    assert server.request("GET", "secret/data/app", token=token).status_code == 403
    assert server.request("GET", "secret/data/app", token=token, headers={"X-Vault-Wrap-TTL": "30s"}).status_code == 403
    ok = server.request("GET", "secret/data/app", token=token, headers={"X-Vault-Wrap-TTL": "5m"})
    assert ok.status_code == 200
    assert ok.json()["wrap_info"]["ttl"] == 300
