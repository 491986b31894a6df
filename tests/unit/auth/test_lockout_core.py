"""The login lockout on the real request path: Vault's rules, every method, tuning, sys/locked-users."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lockout_harness import (
    INVALID,
    PASSWORD,
    add_user,
    counting_userpass,
    enable,
    fail,
    failures,
    install_test_methods,
    locked_users,
    login,
    token_count,
)
from tests.support.inprocess import InProcessServer

from strongroom.core.lockout.settings import LockoutDefaults
from strongroom.sdk.system import ManualClock

MINUTE = 60


@pytest.fixture
def up(server: InProcessServer) -> InProcessServer:
    """The in-process server with userpass at ``userpass/`` and the user ``bob``."""
    install_test_methods(server)
    enable(server, "userpass")
    add_user(server, "bob")
    return server


def test_five_failures_lock_the_user_and_the_right_password_then_fails_like_a_wrong_one(up: InProcessServer) -> None:
    fail(up, "bob", 4)
    assert login(up, "bob").status_code == 200  # four are not enough (and success resets)
    fail(up, "bob", 5)
    locked = login(up, "bob")
    assert (locked.status_code, locked.json()) == (400, INVALID)
    assert token_count(up) == 2  # root and the one good login


def test_the_lock_lifts_lockout_duration_after_the_failure_that_reached_the_threshold(
    up: InProcessServer, clock: ManualClock
) -> None:
    fail(up, "bob", 5)
    clock.advance(10 * MINUTE)
    fail(up, "bob", 3)  # attempts while locked neither count nor extend the lock
    clock.advance(5 * MINUTE - 1)
    assert login(up, "bob").status_code == 400
    clock.advance(1)
    assert login(up, "bob").status_code == 200


def test_failures_further_apart_than_the_counter_reset_never_lock(up: InProcessServer, clock: ManualClock) -> None:
    for _ in range(12):
        fail(up, "bob", 1)
        clock.advance(15 * MINUTE)
    assert login(up, "bob").status_code == 200


def test_a_successful_login_resets_the_count(up: InProcessServer) -> None:
    fail(up, "bob", 4)
    assert login(up, "bob").status_code == 200
    fail(up, "bob", 4)
    assert login(up, "bob").status_code == 200


def test_case_whitespace_and_unicode_variants_of_a_username_share_one_counter(up: InProcessServer) -> None:
    """CVE-2025-6004: changing the username's case reset the lockout counter."""
    for spelling in ("BOB", "Bob", " bob", "bob ", "\uff42\uff4f\uff42"):
        fail(up, spelling, 1)
    assert login(up, "bob").status_code == 400
    assert login(up, "\uff22\uff2f\uff22").status_code == 400
    invisible = login(up, "bo\u200bb")  # the core refuses invisible characters in any path
    assert invisible.status_code == 400
    accessor = up.request("GET", "sys/auth").json()["data"]["userpass/"]["accessor"]
    assert locked_users(up, accessor)["total"] == 1


def test_unknown_users_are_counted_and_locked_exactly_like_real_ones(up: InProcessServer) -> None:
    fail(up, "ghost", 5)
    fail(up, "bob", 5)
    data = locked_users(up)
    assert data["total"] == 2
    assert data["by_namespace"][0]["mount_accessors"][0]["alias_identifiers"] == ["bob", "ghost"]


def test_each_hash_work_is_done_once_per_attempt_whether_locked_or_not(server: InProcessServer) -> None:
    hasher = counting_userpass(server)
    enable(server, "userpass")
    add_user(server, "bob")
    hasher.verified.clear()
    fail(server, "bob", 5)
    fail(server, "ghost", 5)
    assert login(server, "bob").status_code == 400  # locked, right password
    assert login(server, "ghost").status_code == 400  # locked, unknown
    assert len(hasher.verified) == 12
    assert len(set(hasher.verified)) == 1


def test_concurrent_guesses_in_one_worker_are_judged_one_after_another(server: InProcessServer) -> None:
    hasher = counting_userpass(server)
    enable(server, "userpass")
    add_user(server, "bob")
    hasher.verified.clear()

    async def guesses() -> list[int]:
        calls = [server.client.post("/v1/auth/userpass/login/bob", json={"password": f"guess-{i}"})
                 for i in range(20)]
        return [r.status_code for r in await asyncio.gather(*calls)]

    assert server.run(guesses()) == [400] * 20
    accessor = server.request("GET", "sys/auth").json()["data"]["userpass/"]["accessor"]
    assert failures(server, accessor, "bob") == 5
    assert locked_users(server, accessor)["total"] == 1
    # Each guess saw the count the previous one left: five reached bob's hash, fifteen met the lock
    # and did the same work against the dummy.
    dummy, bobs = hasher.made[:2]
    assert hasher.verified_hashes.count(bobs) == 5
    assert hasher.verified_hashes.count(dummy) == 15


def test_lockout_is_kept_per_mount(up: InProcessServer) -> None:
    enable(up, "other", "userpass")
    add_user(up, "bob", "other")
    fail(up, "bob", 5)
    assert login(up, "bob").status_code == 400
    assert login(up, "bob", path="other").status_code == 200


def approle_credentials(server: InProcessServer) -> tuple[str, str]:
    enable(server, "approle", "approle")
    assert server.request("POST", "auth/approle/role/app", json={}).status_code == 204
    role_id = server.request("GET", "auth/approle/role/app/role-id").json()["data"]["role_id"]
    secret_id = server.request("POST", "auth/approle/role/app/secret-id", json={}).json()["data"]["secret_id"]
    return role_id, secret_id


def approle_login(server: InProcessServer, role_id: str, secret_id: str) -> Any:
    return server.request("POST", "auth/approle/login", json={"role_id": role_id, "secret_id": secret_id}, token="")


def test_approle_logins_are_locked_by_role_id_whatever_its_spelling(server: InProcessServer) -> None:
    role_id, secret_id = approle_credentials(server)
    for variant in (role_id, role_id.upper(), f" {role_id}", role_id + "\u200b", role_id):
        response = approle_login(server, variant, "wrong-secret")
        assert (response.status_code, response.json()) == (400, {"errors": ["invalid role or secret ID"]})
    locked = approle_login(server, role_id, secret_id)
    assert (locked.status_code, locked.json()) == (400, {"errors": ["invalid role or secret ID"]})
    lookup = server.request("POST", "auth/approle/role/app/secret-id/lookup", json={"secret_id": secret_id})
    assert lookup.json()["data"]["secret_id_num_uses"] == 0  # nothing spent while locked
    accessor = server.request("GET", "sys/auth").json()["data"]["approle/"]["accessor"]
    assert server.request("POST", f"sys/locked-users/{accessor}/unlock/{role_id}").status_code == 204
    assert approle_login(server, role_id, secret_id).status_code == 200


def test_any_auth_method_that_names_its_principal_is_locked(server: InProcessServer) -> None:
    install_test_methods(server)
    enable(server, "pin", "pin")

    def pin_login(name: str, pin: str) -> Any:
        return server.request("POST", "auth/pin/login", json={"name": name, "pin": pin}, token="")

    for _ in range(5):
        assert pin_login("eve", "0000").status_code == 403
    refused = pin_login("EVE", "1234")
    assert (refused.status_code, refused.json()) == (403, {"errors": ["permission denied"]})
    assert pin_login("mallory", "1234").status_code == 200


def test_a_backend_that_ignores_the_lock_still_gives_a_locked_principal_no_token(server: InProcessServer) -> None:
    install_test_methods(server)
    enable(server, "careless", "careless")
    for _ in range(5):
        server.request("POST", "auth/careless/login", json={"name": "eve", "pin": "0000"}, token="")
    before = token_count(server)
    response = server.request("POST", "auth/careless/login", json={"name": "eve", "pin": "1234"}, token="")
    assert response.status_code == 403
    assert "auth" not in response.json()
    assert token_count(server) == before


def test_tune_sets_the_lockout_and_reads_it_back(up: InProcessServer, clock: ManualClock) -> None:
    config = {"lockout_threshold": "2", "lockout_duration": "1m", "lockout_counter_reset": "30s"}
    assert up.request("POST", "sys/auth/userpass/tune", json={"user_lockout_config": config}).status_code == 204
    tuned = up.request("GET", "sys/auth/userpass/tune").json()["data"]
    assert (tuned["user_lockout_threshold"], tuned["user_lockout_duration"]) == (2, 60)
    assert (tuned["user_lockout_counter_reset_duration"], tuned["user_lockout_disable"]) == (30, False)
    fail(up, "bob", 1)
    clock.advance(31)
    fail(up, "bob", 1)  # the first one no longer counts
    assert login(up, "bob").status_code == 200
    fail(up, "bob", 2)
    assert login(up, "bob").status_code == 400
    clock.advance(60)
    assert login(up, "bob").status_code == 200


@pytest.mark.parametrize(
    "config",
    [{"lockout_threshold": "0"}, {"lockout_threshold": "many"}, {"lockout_duration": "soon"},
     {"lockout_threshold": 10**40}, {"lockout_duration": 10**40},
     {"lockout_counter_reset": "0s"}, {"lockout_disable": "maybe"}, {"lockout_everything": "1"}],
)
def test_tune_refuses_malformed_lockout_settings(up: InProcessServer, config: dict[str, str]) -> None:
    response = up.request("POST", "sys/auth/userpass/tune", json={"user_lockout_config": config})
    assert response.status_code == 400
    assert "user_lockout_threshold" not in up.request("GET", "sys/auth/userpass/tune").json()["data"]


def test_lockout_can_be_disabled_for_one_mount(up: InProcessServer) -> None:
    body = {"user_lockout_config": {"lockout_disable": True}}
    assert up.request("POST", "sys/auth/userpass/tune", json=body).status_code == 204
    fail(up, "bob", 20)
    assert login(up, "bob").status_code == 200


def test_configured_defaults_apply_per_method_and_mount_tuning_overrides_them(up: InProcessServer) -> None:
    up.core.lockout.defaults = LockoutDefaults.from_config(
        {"all": {"lockout_threshold": "3"}, "approle": {"disable_lockout": "true"}}
    )
    fail(up, "bob", 3)
    assert login(up, "bob").status_code == 400
    role_id, secret_id = approle_credentials(up)
    for _ in range(10):
        approle_login(up, role_id, "wrong")
    assert approle_login(up, role_id, secret_id).status_code == 200
    enable(up, "tuned", "userpass", config={"user_lockout_config": {"lockout_threshold": 6}})
    add_user(up, "bob", "tuned")
    fail(up, "bob", 5, "tuned")
    assert login(up, "bob", path="tuned").status_code == 200


def test_locked_users_lists_principals_by_mount_and_filters_by_accessor(up: InProcessServer) -> None:
    assert locked_users(up) == {"by_namespace": [], "total": 0}
    other = enable(up, "other", "userpass")
    fail(up, "bob", 5)
    fail(up, "carol", 5)
    fail(up, "dave", 5, "other")
    fail(up, "erin", 4, "other")  # not locked yet
    data = locked_users(up)
    assert data["total"] == 3
    namespace = data["by_namespace"][0]
    assert (namespace["namespace_id"], namespace["namespace_path"], namespace["counts"]) == ("root", "", 3)
    by_mount = namespace["mount_accessors"]
    assert [m["counts"] for m in by_mount] == [2, 1]  # most first
    assert by_mount[0]["alias_identifiers"] == ["bob", "carol"]
    only = locked_users(up, other)
    assert only["by_namespace"][0]["mount_accessors"] == [
        {"mount_accessor": other, "counts": 1, "alias_identifiers": ["dave"]}
    ]


def test_unlock_by_any_spelling_lets_the_user_in_again(up: InProcessServer) -> None:
    accessor = up.request("GET", "sys/auth").json()["data"]["userpass/"]["accessor"]
    fail(up, "bob", 5)
    assert up.request("POST", f"sys/locked-users/{accessor}/unlock/%20BOB%20").status_code == 204
    assert login(up, "bob").status_code == 200
    assert locked_users(up)["total"] == 0
    assert up.request("POST", f"sys/locked-users/{accessor}/unlock/never-locked").status_code == 204
    assert up.request("POST", "sys/locked-users/not%20an%20accessor/unlock/bob").status_code == 204


def test_locked_users_endpoints_follow_the_acl(up: InProcessServer) -> None:
    accessor = up.request("GET", "sys/auth").json()["data"]["userpass/"]["accessor"]
    fail(up, "bob", 5)
    weak = up.request("POST", "auth/token/create", json={"policies": ["default"]}).json()["auth"]["client_token"]
    assert up.request("GET", "sys/locked-users", token=weak).status_code == 403
    assert up.request("POST", f"sys/locked-users/{accessor}/unlock/bob", token=weak).status_code == 403
    assert login(up, "bob").status_code == 400


def physical_counter_writes(server: InProcessServer, action: Any) -> list[str]:
    """Keys under ``sys/lockout/counter/`` that ``action`` wrote or deleted in physical storage."""
    writes: list[str] = []
    physical = server.physical
    original_put, original_delete, original_txn = physical.put, physical.delete, physical.transaction

    async def put(key: str, value: bytes) -> None:
        writes.append(key)
        await original_put(key, value)

    async def delete(key: str) -> None:
        writes.append(key)
        await original_delete(key)

    async def transaction(ops: Any, preconditions: Any = ()) -> None:
        writes.extend(op.key for op in ops)
        await original_txn(ops, preconditions)

    physical.put, physical.delete, physical.transaction = put, delete, transaction  # type: ignore[method-assign]
    try:
        action()
    finally:
        physical.put, physical.delete, physical.transaction = (  # type: ignore[method-assign]
            original_put, original_delete, original_txn)
    return [key for key in writes if key.startswith("sys/lockout/counter/")]


def test_clean_logins_write_nothing_to_the_lockout_counters(up: InProcessServer) -> None:
    assert login(up, "bob").status_code == 200
    assert physical_counter_writes(up, lambda: [login(up, "bob") for _ in range(5)]) == []
    assert len(physical_counter_writes(up, lambda: fail(up, "bob", 1))) == 1
    assert len(physical_counter_writes(up, lambda: login(up, "bob"))) == 1  # the reset
    assert physical_counter_writes(up, lambda: login(up, "bob")) == []


def test_counter_names_in_physical_storage_reveal_no_principal(up: InProcessServer) -> None:
    role_id, _ = approle_credentials(up)
    fail(up, "bob", 2)
    approle_login(up, role_id, "wrong")
    keys = [k for k in up.run(_all_keys(up)) if k.startswith("sys/lockout/")]
    assert keys
    assert not [k for k in keys if "bob" in k or role_id in k]


async def _all_keys(server: InProcessServer, prefix: str = "") -> list[str]:
    found: list[str] = []
    for name in await server.physical.list(prefix):
        if name.endswith("/"):
            found.extend(await _all_keys(server, prefix + name))
        else:
            found.append(prefix + name)
    return found


def test_listing_prunes_stale_counters_and_those_of_disabled_mounts(up: InProcessServer, clock: ManualClock) -> None:
    enable(up, "gone", "userpass")
    fail(up, "bob", 5, "gone")
    fail(up, "carol", 2)
    fail(up, "bob", 5)
    assert up.request("DELETE", "sys/auth/gone").status_code == 204
    clock.advance(15 * MINUTE + 1)
    assert locked_users(up)["total"] == 0
    assert [k for k in up.run(_all_keys(up)) if k.startswith("sys/lockout/counter/")] == []


def test_a_restarted_node_still_holds_the_lock(clock: ManualClock) -> None:
    first = InProcessServer(clock=clock)
    try:
        first.init_and_unseal()
        install_test_methods(first)
        enable(first, "userpass")
        add_user(first, "bob")
        fail(first, "bob", 5)
    finally:
        first.close()
    second = InProcessServer(physical=first.physical, clock=clock)
    try:
        install_test_methods(second)
        second.run(second.seal.unseal_with_keys(first.unseal_keys))
        second.root_token = first.root_token
        assert login(second, "bob").status_code == 400
        clock.advance(15 * MINUTE)
        assert login(second, "bob").status_code == 200
    finally:
        second.close()


def test_a_mount_tuned_before_unseal_keeps_its_lockout_settings(server: InProcessServer) -> None:
    install_test_methods(server)
    enable(server, "userpass", config={"user_lockout_config": {"lockout_threshold": "1"}})
    add_user(server, "bob")
    server.run(server.core.pre_seal())
    server.run(server.core.post_unseal())
    fail(server, "bob", 1)
    assert login(server, "bob").status_code == 400


def test_a_wrong_password_after_the_lock_lifts_starts_a_new_count(up: InProcessServer, clock: ManualClock) -> None:
    fail(up, "bob", 5)
    clock.advance(15 * MINUTE)
    fail(up, "bob", 4)
    assert login(up, "bob").status_code == 200
    assert PASSWORD  # the fixture's password still works after all that
