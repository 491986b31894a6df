"""hvac's userpass API (``client.auth.userpass``) and login against a real dev server process."""

from __future__ import annotations

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, unique


@pytest.fixture
def mount(root: hvac.Client) -> str:
    path = unique("userpass")
    root.sys.enable_auth_method("userpass", path=path)
    return path


def test_users_are_created_read_listed_and_deleted(root: hvac.Client, mount: str) -> None:
    userpass = root.auth.userpass
    userpass.create_or_update_user("Alice", password="pw-1", policies=["dev"], mount_point=mount,
                                   token_ttl="10m", token_max_ttl="1h", token_bound_cidrs=["127.0.0.0/8"])
    userpass.create_or_update_user("bob", password="pw-2", mount_point=mount)
    read = userpass.read_user("alice", mount_point=mount)["data"]
    assert read["token_policies"] == ["dev"]
    assert read["policies"] == ["dev"]
    assert (read["token_ttl"], read["token_max_ttl"]) == (600, 3600)
    assert read["token_bound_cidrs"] == ["127.0.0.0/8"]
    assert read["token_type"] == "default"
    assert userpass.list_user(mount_point=mount)["data"]["keys"] == ["alice", "bob"]
    userpass.delete_user("ALICE", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidPath):
        userpass.read_user("alice", mount_point=mount)


def test_login_gives_a_token_with_the_users_policies_and_metadata(root: hvac.Client, mount: str) -> None:
    root.auth.userpass.create_or_update_user("carol", password="pw", policies="dev,ops", mount_point=mount,
                                             token_ttl="15m")
    user = client(root.url)
    answer = user.auth.userpass.login("Carol", "pw", mount_point=mount)
    auth = answer["auth"]
    assert auth["client_token"].startswith("hvs.")
    assert sorted(auth["policies"]) == ["default", "dev", "ops"]
    assert auth["metadata"] == {"username": "carol"}
    assert auth["lease_duration"] == 900
    assert auth["renewable"] is True
    assert user.is_authenticated()
    looked_up = user.auth.token.lookup_self()["data"]
    assert looked_up["display_name"] == f"{mount}-carol"
    assert looked_up["path"] == f"auth/{mount}/login"


def test_a_wrong_password_and_an_unknown_user_get_the_same_400(root: hvac.Client, mount: str) -> None:
    root.auth.userpass.create_or_update_user("dave", password="pw", mount_point=mount)
    answers = []
    for name, password in (("dave", "nope"), ("nobody", "pw")):
        with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
            client(root.url).auth.userpass.login(name, password, mount_point=mount)
        answers.append(caught.value.errors)
    assert answers == [["invalid username or password"]] * 2


def test_password_update_takes_effect(root: hvac.Client, mount: str) -> None:
    root.auth.userpass.create_or_update_user("erin", password="old", mount_point=mount)
    root.auth.userpass.update_password_on_user("erin", "new", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client(root.url).auth.userpass.login("erin", "old", mount_point=mount)
    assert client(root.url).auth.userpass.login("erin", "new", mount_point=mount)["auth"]["client_token"]


def test_policies_endpoint_replaces_the_users_policies(root: hvac.Client, mount: str) -> None:
    root.auth.userpass.create_or_update_user("frank", password="pw", policies="dev", mount_point=mount)
    root.adapter.post(f"/v1/auth/{mount}/users/frank/policies", json={"token_policies": "ops"})
    auth = client(root.url).auth.userpass.login("frank", "pw", mount_point=mount)["auth"]
    assert sorted(auth["policies"]) == ["default", "ops"]


@pytest.mark.parametrize("spelling", ["root", "ROOT", " Root ", "\uff52\uff4f\uff4f\uff54"])
def test_the_root_policy_cannot_be_given_to_a_user(root: hvac.Client, mount: str, spelling: str) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.auth.userpass.create_or_update_user("grace", password="pw", policies=["dev", spelling],
                                                 mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.auth.userpass.read_user("grace", mount_point=mount)


def test_the_same_method_can_be_mounted_twice_with_separate_users(root: hvac.Client, mount: str) -> None:
    second = unique("userpass")
    root.sys.enable_auth_method("userpass", path=second)
    root.auth.userpass.create_or_update_user("henry", password="one", mount_point=mount)
    root.auth.userpass.create_or_update_user("henry", password="two", mount_point=second)
    assert client(root.url).auth.userpass.login("henry", "one", mount_point=mount)
    assert client(root.url).auth.userpass.login("henry", "two", mount_point=second)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client(root.url).auth.userpass.login("henry", "one", mount_point=second)
    assert root.sys.list_auth_methods()["data"][f"{second}/"]["type"] == "userpass"


def test_a_token_from_a_login_outside_its_bound_cidrs_is_refused(root: hvac.Client, mount: str) -> None:
    root.auth.userpass.create_or_update_user("ivan", password="pw", mount_point=mount,
                                             token_bound_cidrs=["10.0.0.0/8"])
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client(root.url).auth.userpass.login("ivan", "pw", mount_point=mount)
