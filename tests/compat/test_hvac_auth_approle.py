"""hvac's AppRole API (``client.auth.approle``) and login against a real dev server process."""

from __future__ import annotations

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, unique


@pytest.fixture
def mount(root: hvac.Client) -> str:
    path = unique("approle")
    root.sys.enable_auth_method("approle", path=path)
    return path


def credentials(root: hvac.Client, mount: str, role: str = "app", **secret: object) -> tuple[str, dict[str, object]]:
    role_id = root.auth.approle.read_role_id(role, mount_point=mount)["data"]["role_id"]
    issued = root.auth.approle.generate_secret_id(role, mount_point=mount, **secret)["data"]
    return role_id, issued


def test_roles_are_created_read_listed_and_deleted(root: hvac.Client, mount: str) -> None:
    approle = root.auth.approle
    approle.create_or_update_approle("App", token_policies=["dev"], secret_id_num_uses=10, secret_id_ttl="1h",
                                     token_ttl="20m", token_max_ttl="1h", secret_id_bound_cidrs=["127.0.0.0/8"],
                                     mount_point=mount)
    approle.create_or_update_approle("other", mount_point=mount)
    read = approle.read_role("app", mount_point=mount)["data"]
    assert read["token_policies"] == ["dev"]
    assert (read["secret_id_num_uses"], read["secret_id_ttl"]) == (10, 3600)
    assert (read["token_ttl"], read["token_max_ttl"]) == (1200, 3600)
    assert read["secret_id_bound_cidrs"] == ["127.0.0.0/8"]
    assert read["bind_secret_id"] is True
    assert approle.list_roles(mount_point=mount)["data"]["keys"] == ["app", "other"]
    approle.delete_role("app", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidPath):
        approle.read_role("app", mount_point=mount)


def test_login_with_a_generated_secret_id(root: hvac.Client, mount: str) -> None:
    root.auth.approle.create_or_update_approle("app", token_policies=["dev"], token_ttl="30m", mount_point=mount)
    role_id, issued = credentials(root, mount, metadata={"pod": "web-1"})
    workload = client(root.url)
    auth = workload.auth.approle.login(role_id, str(issued["secret_id"]), mount_point=mount)["auth"]
    assert sorted(auth["policies"]) == ["default", "dev"]
    assert auth["metadata"] == {"pod": "web-1", "role_name": "app"}
    assert auth["lease_duration"] == 1800
    assert workload.is_authenticated()
    assert workload.auth.token.lookup_self()["data"]["path"] == f"auth/{mount}/login"


def test_role_id_can_be_set_and_the_old_one_stops_working(root: hvac.Client, mount: str) -> None:
    root.auth.approle.create_or_update_approle("app", mount_point=mount)
    old_role_id, issued = credentials(root, mount)
    root.auth.approle.update_role_id("app", "my-role-id", mount_point=mount)
    assert root.auth.approle.read_role_id("app", mount_point=mount)["data"]["role_id"] == "my-role-id"
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client(root.url).auth.approle.login(old_role_id, str(issued["secret_id"]), mount_point=mount)
    assert client(root.url).auth.approle.login("my-role-id", str(issued["secret_id"]), mount_point=mount)


def test_secret_ids_are_looked_up_listed_and_destroyed(root: hvac.Client, mount: str) -> None:
    approle = root.auth.approle
    approle.create_or_update_approle("app", mount_point=mount)
    role_id, first = credentials(root, mount, cidr_list=["127.0.0.0/8"])
    _, second = credentials(root, mount)
    by_id = approle.read_secret_id("app", str(first["secret_id"]), mount_point=mount)["data"]
    assert by_id["secret_id_accessor"] == first["secret_id_accessor"]
    assert by_id["cidr_list"] == ["127.0.0.0/8"]
    by_accessor = approle.read_secret_id_accessor("app", str(first["secret_id_accessor"]), mount_point=mount)["data"]
    assert by_accessor == by_id
    listed = approle.list_secret_id_accessors("app", mount_point=mount)["data"]["keys"]
    assert sorted(listed) == sorted([first["secret_id_accessor"], second["secret_id_accessor"]])
    approle.destroy_secret_id("app", str(first["secret_id"]), mount_point=mount)
    approle.destroy_secret_id_accessor("app", str(second["secret_id_accessor"]), mount_point=mount)
    for issued in (first, second):
        with pytest.raises(hvac.exceptions.InvalidRequest):
            client(root.url).auth.approle.login(role_id, str(issued["secret_id"]), mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidPath):
        approle.list_secret_id_accessors("app", mount_point=mount)


def test_custom_secret_ids_log_in(root: hvac.Client, mount: str) -> None:
    root.auth.approle.create_or_update_approle("app", mount_point=mount)
    root.auth.approle.create_custom_secret_id("app", "handed-over-secret", mount_point=mount)
    role_id = root.auth.approle.read_role_id("app", mount_point=mount)["data"]["role_id"]
    assert client(root.url).auth.approle.login(role_id, "handed-over-secret", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.auth.approle.create_custom_secret_id("app", "handed-over-secret", mount_point=mount)


def test_a_secret_id_with_one_use_logs_in_once(root: hvac.Client, mount: str) -> None:
    root.auth.approle.create_or_update_approle("app", secret_id_num_uses=1, mount_point=mount)
    role_id, issued = credentials(root, mount)
    assert client(root.url).auth.approle.login(role_id, str(issued["secret_id"]), mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
        client(root.url).auth.approle.login(role_id, str(issued["secret_id"]), mount_point=mount)
    assert caught.value.errors == ["invalid role or secret ID"]


def test_cidr_bound_secret_ids_only_log_in_from_inside(root: hvac.Client, mount: str) -> None:
    root.auth.approle.create_or_update_approle("app", mount_point=mount)
    role_id, outside = credentials(root, mount, cidr_list=["10.0.0.0/8"])
    _, inside = credentials(root, mount, cidr_list=["127.0.0.0/8"])
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client(root.url).auth.approle.login(role_id, str(outside["secret_id"]), mount_point=mount)
    assert client(root.url).auth.approle.login(role_id, str(inside["secret_id"]), mount_point=mount)


def test_token_bound_cidrs_bind_the_issued_token(root: hvac.Client, mount: str) -> None:
    root.auth.approle.create_or_update_approle("app", token_bound_cidrs=["127.0.0.1/32"], mount_point=mount)
    role_id, issued = credentials(root, mount)
    workload = client(root.url)
    workload.auth.approle.login(role_id, str(issued["secret_id"]), mount_point=mount)
    assert workload.auth.token.lookup_self()["data"]["bound_cidrs"] == ["127.0.0.1/32"]


def test_tidy_answers_202(root: hvac.Client, mount: str) -> None:
    root.auth.approle.create_or_update_approle("app", mount_point=mount)
    response = root.adapter.post(f"/v1/auth/{mount}/tidy/secret-id")
    assert response.status_code == 202
    assert response.json()["warnings"]


def test_a_role_id_of_one_role_and_a_secret_id_of_another_do_not_combine(root: hvac.Client, mount: str) -> None:
    for role in ("a", "b"):
        root.auth.approle.create_or_update_approle(role, mount_point=mount)
    role_a, _ = credentials(root, mount, "a")
    _, secret_b = credentials(root, mount, "b")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client(root.url).auth.approle.login(role_a, str(secret_b["secret_id"]), mount_point=mount)


@pytest.mark.parametrize("spelling", ["root", "ROOT", " Root"])
def test_the_root_policy_cannot_be_given_to_a_role(root: hvac.Client, mount: str, spelling: str) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.auth.approle.create_or_update_approle("app", token_policies=[spelling], mount_point=mount)
