"""hvac drives response wrapping against a real server process (and two workers racing to unwrap)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, pinned_client, unique, worker_pids
from tests.support.server import running, sqlite_server_process

NOT_VALID = ["wrapping token is not valid or does not exist"]


def _lookup(caller: hvac.Client, token: str) -> dict[str, Any]:
    answer: dict[str, Any] = caller.adapter.post("/v1/sys/wrapping/lookup", json={"token": token})
    return answer


def test_sys_wrap_and_unwrap_hand_the_payload_over_once(root: hvac.Client) -> None:
    wrapped = root.sys.wrap(payload={"pw": "wrap-canary-hvac"}, ttl=60)
    assert wrapped["data"] is None
    assert "wrap-canary-hvac" not in str(wrapped)
    token = wrapped["wrap_info"]["token"]
    assert root.sys.unwrap(token)["data"] == {"pw": "wrap-canary-hvac"}
    with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
        root.sys.unwrap(token)
    assert caught.value.errors == NOT_VALID


def test_the_workload_unwraps_with_the_wrapping_token_alone(root: hvac.Client) -> None:
    token = root.sys.wrap(payload={"k": "v"}, ttl="2m")["wrap_info"]["token"]
    assert client(root.url, token).sys.unwrap()["data"] == {"k": "v"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client(root.url, token).sys.unwrap()


def test_lookup_shows_creation_facts_and_leaves_the_token_usable(root: hvac.Client) -> None:
    token = root.sys.wrap(payload={"k": "v"}, ttl=90)["wrap_info"]["token"]
    data = _lookup(client(root.url), token)["data"]
    assert data["creation_ttl"] == 90
    assert data["creation_path"] == "sys/wrapping/wrap"
    assert data["creation_time"]
    assert root.sys.unwrap(token)["data"] == {"k": "v"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        _lookup(client(root.url), token)


def test_rewrap_invalidates_the_old_token(root: hvac.Client) -> None:
    old = root.sys.wrap(payload={"k": "v"}, ttl=120)["wrap_info"]
    new = root.adapter.post("/v1/sys/wrapping/rewrap", json={"token": old["token"]})["wrap_info"]
    assert new["token"] != old["token"]
    assert new["ttl"] == 120
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.unwrap(old["token"])
    assert root.sys.unwrap(new["token"])["data"] == {"k": "v"}


def test_a_kv_v2_read_is_wrapped_when_the_adapter_sends_a_wrap_ttl(root: hvac.Client) -> None:
    path = unique("wrapped")
    root.secrets.kv.v2.create_or_update_secret(path=path, secret={"pw": "kv-wrap-canary"})
    wrapping = hvac.Client(url=root.url, token=root.token)
    wrapping.adapter.session.headers["X-Vault-Wrap-TTL"] = "60s"
    answer = wrapping.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)
    assert answer["data"] is None
    assert "kv-wrap-canary" not in str(answer)
    info = answer["wrap_info"]
    assert info["creation_path"] == f"secret/data/{path}"
    assert root.sys.unwrap(info["token"])["data"]["data"] == {"pw": "kv-wrap-canary"}
    read = root.adapter.get(f"/v1/secret/data/{path}", wrap_ttl="30s")
    assert read["wrap_info"]["ttl"] == 30


def test_an_approle_secret_id_goes_to_the_workload_and_never_to_the_operator(root: hvac.Client) -> None:
    mount = unique("approle")
    root.sys.enable_auth_method("approle", path=mount)
    root.auth.approle.create_or_update_approle("app", mount_point=mount, token_policies=["default"])
    role_id = root.auth.approle.read_role_id("app", mount_point=mount)["data"]["role_id"]
    operator_view = root.auth.approle.generate_secret_id("app", mount_point=mount, wrap_ttl="60s")
    assert operator_view["data"] is None
    assert "secret_id" not in str(operator_view["data"])
    wrapping_token = operator_view["wrap_info"]["token"]
    workload = client(root.url, wrapping_token)
    secret_id = workload.sys.unwrap()["data"]["secret_id"]
    login = client(root.url).auth.approle.login(role_id, secret_id, mount_point=mount)
    assert login["auth"]["client_token"]
    with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
        client(root.url, wrapping_token).sys.unwrap()
    assert caught.value.errors == NOT_VALID


def test_two_workers_unwrapping_one_token_at_once_give_it_to_exactly_one(tmp_path: Path) -> None:
    server = sqlite_server_process(tmp_path, workers=2)
    with running(server):
        init = client(server.address).sys.initialize(secret_shares=1, secret_threshold=1)
        client(server.address).sys.submit_unseal_keys(init["keys"])
        root = client(server.address, init["root_token"])
        pids = worker_pids(server, 2)
        workers = [pinned_client(server, pids, pid, init["root_token"]) for pid in pids]
        for round_ in range(10):
            token = root.sys.wrap(payload={"round": round_}, ttl=60)["wrap_info"]["token"]
            start = threading.Barrier(2)

            def unwrap(worker: hvac.Client, token: str = token, start: threading.Barrier = start) -> Any:
                start.wait()
                try:
                    return worker.sys.unwrap(token)["data"]
                except hvac.exceptions.InvalidRequest as refused:
                    return refused.errors

            with ThreadPoolExecutor(2) as pool:
                results = list(pool.map(unwrap, workers))
            assert sorted(results, key=str) == sorted([{"round": round_}, NOT_VALID], key=str), results


def test_a_wrapped_token_creation_gives_the_token_only_to_whoever_unwraps(root: hvac.Client) -> None:
    created = root.auth.token.create(policies=["default"], ttl="10m", wrap_ttl="60s")
    assert created["auth"] is None
    info = created["wrap_info"]
    auth = root.sys.unwrap(info["token"])["auth"]
    assert info["wrapped_accessor"] == auth["accessor"]
    assert client(root.url, auth["client_token"]).auth.token.lookup_self()["data"]["accessor"] == auth["accessor"]


def test_an_unknown_wrapping_token_is_vaults_400(root: hvac.Client) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
        root.sys.unwrap("hvs.wrapped")
    assert caught.value.errors == NOT_VALID
