"""Login lockout through hvac against a real dev server process: lock after five failures, list, unlock, tune."""

from __future__ import annotations

from pathlib import Path

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, pinned_client, unique, worker_pids
from tests.support.server import running, sqlite_server_process


@pytest.fixture
def mount(root: hvac.Client) -> tuple[str, str]:
    """A fresh userpass mount with the user ``zoe``: (path, accessor)."""
    path = unique("userpass")
    root.sys.enable_auth_method("userpass", path=path)
    root.auth.userpass.create_or_update_user("zoe", password="right", mount_point=path)
    return path, root.sys.list_auth_methods()["data"][f"{path}/"]["accessor"]


def attempt(address: str, path: str, name: str, password: str) -> list[str] | None:
    """Log in; the error list of a refusal, or None on success."""
    try:
        client(address).auth.userpass.login(name, password, mount_point=path)
    except hvac.exceptions.InvalidRequest as refused:
        return list(refused.errors)
    return None


def locked(root: hvac.Client, accessor: str) -> list[str]:
    data = root.adapter.get("/v1/sys/locked-users", params={"mount_accessor": accessor})["data"]
    return [name for ns in data["by_namespace"] for m in ns["mount_accessors"] for name in m["alias_identifiers"]]


def test_five_failures_lock_and_an_unlock_through_sys_locked_users_frees(root: hvac.Client,
                                                                         mount: tuple[str, str]) -> None:
    path, accessor = mount
    for spelling in ("zoe", "ZOE", " zoe", "Zoe", "zoe"):
        assert attempt(root.url, path, spelling, "wrong") == ["invalid username or password"]
    assert attempt(root.url, path, "zoe", "right") == ["invalid username or password"]
    assert locked(root, accessor) == ["zoe"]
    response = root.adapter.post(f"/v1/sys/locked-users/{accessor}/unlock/zoe")
    assert response.status_code == 204
    assert locked(root, accessor) == []
    assert attempt(root.url, path, "zoe", "right") is None


def test_the_listing_shows_vaults_shape(root: hvac.Client, mount: tuple[str, str]) -> None:
    path, accessor = mount
    for _ in range(5):
        attempt(root.url, path, "zoe", "wrong")
    data = root.adapter.get("/v1/sys/locked-users", params={"mount_accessor": accessor})["data"]
    assert data == {
        "by_namespace": [{
            "namespace_id": "root", "namespace_path": "", "counts": 1,
            "mount_accessors": [{"mount_accessor": accessor, "counts": 1, "alias_identifiers": ["zoe"]}],
        }],
        "total": 1,
    }


def test_tuning_the_mount_changes_its_threshold(root: hvac.Client, mount: tuple[str, str]) -> None:
    path, _ = mount
    root.sys.tune_auth_method(path, user_lockout_config={"lockout_threshold": "2", "lockout_duration": "1h"})
    tuned = root.sys.read_auth_method_tuning(path)["data"]
    assert (tuned["user_lockout_threshold"], tuned["user_lockout_duration"]) == (2, 3600)
    for _ in range(2):
        attempt(root.url, path, "zoe", "wrong")
    assert attempt(root.url, path, "zoe", "right") == ["invalid username or password"]


def test_approle_logins_lock_by_role_id(root: hvac.Client) -> None:
    path = unique("approle")
    root.sys.enable_auth_method("approle", path=path)
    root.auth.approle.create_or_update_approle("app", mount_point=path)
    role_id = root.auth.approle.read_role_id("app", mount_point=path)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("app", mount_point=path)["data"]["secret_id"]
    for _ in range(5):
        with pytest.raises(hvac.exceptions.InvalidRequest):
            client(root.url).auth.approle.login(role_id, "not-the-secret", mount_point=path)
    with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
        client(root.url).auth.approle.login(role_id, secret_id, mount_point=path)
    assert caught.value.errors == ["invalid role or secret ID"]


def test_the_counter_is_shared_by_two_worker_processes_and_survives_a_restart(tmp_path: Path) -> None:
    server = sqlite_server_process(tmp_path, workers=2)
    with running(server):
        init = client(server.address).sys.initialize(secret_shares=1, secret_threshold=1)
        client(server.address).sys.submit_unseal_keys(init["keys"])
        root = client(server.address, init["root_token"])
        root.sys.enable_auth_method("userpass", path="people")
        root.auth.userpass.create_or_update_user("zoe", password="right", mount_point="people")
        accessor = root.sys.list_auth_methods()["data"]["people/"]["accessor"]
        pids = worker_pids(server, 2)
        first, second = (pinned_client(server, pids, pid) for pid in pids)
        for worker, spelling in ((first, "zoe"), (second, "ZOE"), (first, " zoe"), (second, "Zoe")):
            with pytest.raises(hvac.exceptions.InvalidRequest):
                worker.auth.userpass.login(spelling, "wrong", mount_point="people")
        assert second.auth.userpass.login("zoe", "right", mount_point="people")  # four: not yet, and now reset
        for worker in (first, second, first, second, first):
            with pytest.raises(hvac.exceptions.InvalidRequest):
                worker.auth.userpass.login("zoe", "wrong", mount_point="people")
        for worker in (first, second):
            with pytest.raises(hvac.exceptions.InvalidRequest):
                worker.auth.userpass.login("zoe", "right", mount_point="people")
        assert locked(root, accessor) == ["zoe"]
    with running(server):
        client(server.address).sys.submit_unseal_keys(init["keys"])
        pids = worker_pids(server, 2)
        for pid in pids:
            with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
                pinned_client(server, pids, pid).auth.userpass.login("zoe", "right", mount_point="people")
            assert caught.value.errors == ["invalid username or password"]
        root = client(server.address, init["root_token"])
        assert locked(root, accessor) == ["zoe"]
        assert root.adapter.post(f"/v1/sys/locked-users/{accessor}/unlock/zoe").status_code == 204
        for pid in pids:
            assert pinned_client(server, pids, pid).auth.userpass.login("zoe", "right", mount_point="people")


def test_a_configured_default_applies_to_a_real_server(tmp_path: Path) -> None:
    extra = 'user_lockout "userpass" {\n  lockout_threshold = 2\n  lockout_duration = "1h"\n}\n'
    with running(sqlite_server_process(tmp_path, workers=1, extra=extra)) as server:
        init = client(server.address).sys.initialize(secret_shares=1, secret_threshold=1)
        client(server.address).sys.submit_unseal_keys(init["keys"])
        root = client(server.address, init["root_token"])
        root.sys.enable_auth_method("userpass", path="people")
        root.auth.userpass.create_or_update_user("zoe", password="right", mount_point="people")
        for _ in range(2):
            assert attempt(server.address, "people", "zoe", "wrong") == ["invalid username or password"]
        assert attempt(server.address, "people", "zoe", "right") == ["invalid username or password"]
        assert "user_lockout" not in server.log_text()  # no "accepted but ignored" warning any more
