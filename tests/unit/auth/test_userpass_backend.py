"""The userpass backend driven directly: Vault's paths and shapes, hashing, token settings, refusals."""

from __future__ import annotations

import os

import pytest
from userpass_harness import FAST, D, L, Mount, R, U, counting_hashing, params_of, run, scenario

from strongroom.auth.userpass.hashing import Argon2Params, PasswordHashing
from strongroom.auth.userpass.names import canonical_username
from strongroom.auth.userpass.users import Users
from strongroom.errors import InvalidRequest, NotFound, UnsupportedOperation

PASSWORD = "correct horse battery staple"


async def make_user(m: Mount, name: str = "bob", **fields: object) -> None:
    await m.call(U, f"users/{name}", {"password": PASSWORD, **fields})


def test_created_user_reads_back_every_token_setting_in_vaults_shape() -> None:
    async def body(m: Mount) -> None:
        await make_user(m, token_policies="dev,ops", token_ttl="1h", token_max_ttl="2h", token_period=0,
                        token_num_uses=3, token_bound_cidrs=["10.0.0.0/8", "192.0.2.10"],
                        token_explicit_max_ttl="4h", token_no_default_policy=True, token_type="service")
        read = await m.call(R, "users/bob")
        assert read is not None
        assert read.data == {
            "token_policies": ["dev", "ops"], "policies": ["dev", "ops"], "token_ttl": 3600, "token_max_ttl": 7200,
            "token_explicit_max_ttl": 14400, "token_period": 0, "token_num_uses": 3,
            "token_bound_cidrs": ["10.0.0.0/8", "192.0.2.10/32"], "token_no_default_policy": True,
            "token_type": "service",
        }

    scenario(body)


def test_a_new_user_has_vaults_default_token_settings() -> None:
    async def body(m: Mount) -> None:
        await make_user(m)
        read = await m.call(R, "users/bob")
        assert read is not None
        assert read.data is not None
        assert read.data["token_type"] == "default"
        assert read.data["token_policies"] == []
        assert "policies" not in read.data
        assert read.data["token_bound_cidrs"] == []

    scenario(body)


def test_case_whitespace_and_fullwidth_spellings_address_one_user() -> None:
    async def body(m: Mount) -> None:
        await make_user(m, "Bob")
        for spelling in ("bob", "BOB", " bob ", "\uff42\uff4f\uff42"):
            assert await m.call(R, f"users/{spelling}") is not None
            assert (await m.login(spelling, PASSWORD)) is not None
        listed = await m.call(L, "users/")
        assert listed is not None
        assert listed.data == {"keys": ["bob"]}

    scenario(body)


def test_write_to_an_existing_user_is_an_update_and_to_a_new_one_a_create() -> None:
    async def body(m: Mount) -> None:
        from strongroom.sdk.logical import Request

        def req(name: str) -> Request:
            return Request(operation=U, path=f"users/{name}", storage=m.storage)

        assert await m.backend.existence(req("bob")) is False
        await make_user(m)
        assert await m.backend.existence(req("BOB")) is True

    scenario(body)


def test_login_answers_an_auth_with_the_users_token_settings() -> None:
    async def body(m: Mount) -> None:
        await make_user(m, policies="dev", token_ttl="10m", token_bound_cidrs="192.0.2.0/24")
        response = await m.login("bob", PASSWORD)
        assert response is not None
        assert response.auth is not None
        auth = response.auth
        assert auth.policies == ["dev"]
        assert auth.metadata == {"username": "bob"}
        assert auth.display_name == "bob"
        assert auth.alias_name == "bob"
        assert auth.ttl == 600
        assert auth.renewable
        assert auth.bound_cidrs == ["192.0.2.0/24"]
        assert not auth.client_token  # the core mints the token

    scenario(body)


def test_password_change_takes_effect_at_once_and_keeps_the_settings() -> None:
    async def body(m: Mount) -> None:
        await make_user(m, policies="dev")
        await m.call(U, "users/bob/password", {"password": "new password"})
        with pytest.raises(InvalidRequest, match="invalid username or password"):
            await m.login("bob", PASSWORD)
        response = await m.login("bob", "new password")
        assert response is not None
        assert response.auth is not None
        assert response.auth.policies == ["dev"]

    scenario(body)


def test_policies_endpoint_changes_only_the_policies() -> None:
    async def body(m: Mount) -> None:
        await make_user(m, token_ttl="5m", policies="dev")
        await m.call(U, "users/bob/policies", {"token_policies": ["ops", "Audit"]})
        read = await m.call(R, "users/bob")
        assert read is not None
        assert read.data is not None
        assert read.data["token_policies"] == ["audit", "ops"]
        assert read.data["token_ttl"] == 300
        assert await m.login("bob", PASSWORD) is not None

    scenario(body)


def test_update_without_password_keeps_it_and_create_without_one_is_refused() -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest, match="missing password"):
            await m.call(U, "users/bob", {"token_ttl": "1h"})
        await make_user(m)
        await m.call(U, "users/bob", {"token_ttl": "2h"})
        assert await m.login("bob", PASSWORD) is not None

    scenario(body)


def test_deleted_user_is_gone_and_cannot_log_in() -> None:
    async def body(m: Mount) -> None:
        await make_user(m)
        await m.call(D, "users/BOB")
        with pytest.raises(NotFound):
            await m.call(R, "users/bob")
        with pytest.raises(InvalidRequest, match="invalid username or password"):
            await m.login("bob", PASSWORD)

    scenario(body)


def test_password_and_policy_endpoints_refuse_an_unknown_user() -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest, match="username does not exist"):
            await m.call(U, "users/ghost/password", {"password": "x"})
        with pytest.raises(InvalidRequest, match="username does not exist"):
            await m.call(U, "users/ghost/policies", {"policies": "dev"})

    scenario(body)


def test_login_path_answers_only_update() -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(UnsupportedOperation):
            await m.call(R, "login/bob")

    scenario(body)


def test_password_is_stored_only_as_an_argon2id_hash() -> None:
    async def body(m: Mount) -> None:
        await make_user(m)
        stored = m.raw_values()
        assert PASSWORD.encode() not in stored
        assert b"$argon2id$v=19$" in stored

    scenario(body)


def test_production_parameters_are_the_documented_argon2id_ones() -> None:
    async def main() -> None:
        hashing = PasswordHashing()
        digest = await hashing.hash("x")
        assert digest.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert await hashing.verify(digest, "x")
        assert not await hashing.verify(digest, "y")
        assert "19456" in repr(hashing)
        assert digest not in repr(hashing)

    run(main())


def test_a_hash_made_with_older_parameters_is_replaced_after_a_successful_login() -> None:
    async def body(m: Mount) -> None:
        m.backend.hashing = PasswordHashing(Argon2Params(time_cost=1, memory_cost=32, parallelism=1))
        await make_user(m)
        users = Users(m.storage, os.urandom)
        before = await users.get("bob")
        assert before is not None
        assert params_of(before.password_hash) == "m=32,t=1,p=1"
        m.backend.hashing = PasswordHashing(FAST)
        assert await m.login("bob", PASSWORD) is not None
        after = await users.get("bob")
        assert after is not None
        assert params_of(after.password_hash) == "m=64,t=1,p=1"
        assert await m.login("bob", PASSWORD) is not None

    scenario(body)


def test_login_from_outside_the_token_bound_cidrs_is_refused_like_a_wrong_password() -> None:
    async def body(m: Mount) -> None:
        await make_user(m, token_bound_cidrs="10.0.0.0/8")
        with pytest.raises(InvalidRequest, match=r"^invalid username or password$"):
            await m.login("bob", PASSWORD, remote_addr="192.0.2.10")
        assert await m.login("bob", PASSWORD, remote_addr="10.1.2.3") is not None
        with pytest.raises(InvalidRequest, match=r"^invalid username or password$"):
            await m.login("bob", PASSWORD, remote_addr="")

    scenario(body)


def test_a_locked_login_fails_even_with_the_right_password() -> None:
    async def body(m: Mount) -> None:
        await make_user(m)
        with pytest.raises(InvalidRequest, match=r"^invalid username or password$"):
            await m.login("bob", PASSWORD, login_locked=True)

    scenario(body)


def test_login_principal_is_the_canonical_username_and_nothing_for_other_paths() -> None:
    async def body(m: Mount) -> None:
        from strongroom.sdk.logical import Request

        def principal(path: str) -> str | None:
            return m.backend.login_principal(Request(operation=U, path=path))

        assert principal("login/Bob") == principal("login/ bob") == principal("login/\uff42ob") == "bob"
        assert principal("login/b\u043eb") is None  # Cyrillic o: no user can have that name
        assert principal("users/bob") is None
        assert principal("login/bob/extra") is None

    scenario(body)


def test_unknown_users_and_wrong_passwords_get_the_same_answer() -> None:
    async def body(m: Mount) -> None:
        await make_user(m)
        await make_user(m, "alice")
        messages = []
        for name, password in (("ghost", PASSWORD), ("bob", "wrong"), ("alice", "wrong"), ("alice", PASSWORD + "x")):
            with pytest.raises(InvalidRequest) as caught:
                await m.login(name, password)
            messages.append((caught.value.status, caught.value.message))
        assert set(messages) == {(400, "invalid username or password")}

    scenario(body)


def test_legacy_field_names_are_accepted_and_both_spellings_at_once_are_refused() -> None:
    async def body(m: Mount) -> None:
        await make_user(m, ttl="1h", max_ttl="2h", bound_cidrs="10.0.0.0/8", policies="dev")
        read = await m.call(R, "users/bob")
        assert read is not None
        assert read.data is not None
        assert (read.data["token_ttl"], read.data["token_max_ttl"]) == (3600, 7200)
        assert read.data["token_bound_cidrs"] == ["10.0.0.0/8"]
        with pytest.raises(InvalidRequest, match="cannot specify both"):
            await m.call(U, "users/bob", {"policies": "a", "token_policies": "b"})

    scenario(body)


def test_password_hash_field_is_refused_rather_than_ignored() -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest, match="password_hash"):
            await m.call(U, "users/bob", {"password_hash": "$2a$10$abcdefghijklmnopqrstuv"})

    scenario(body)


def test_hashing_runs_in_a_thread_not_on_the_event_loop() -> None:
    async def main() -> None:
        import threading

        hashing, hasher = counting_hashing()
        seen: list[str] = []
        original = hasher.hash

        def spy(password: str | bytes, *, salt: bytes | None = None) -> str:
            seen.append(threading.current_thread().name)
            return original(password, salt=salt)

        hasher.hash = spy  # type: ignore[method-assign]
        await hashing.hash("x")
        assert seen
        assert seen[0] != threading.main_thread().name

    run(main())


def test_canonical_username_rules() -> None:
    assert canonical_username("  Alice.Smith_2 ") == "alice.smith_2"
    assert canonical_username("a") == "a"
    assert canonical_username("\uff21\uff4c\uff49\uff43\uff45") == "alice"  # fullwidth
    assert canonical_username("al\u200bice") == "alice"  # zero-width space
    assert canonical_username("al\u00adice") == "alice"  # soft hyphen
    for refused in ("", " ", "-bob", "bob-", ".bob", "bob.", "b ob", "bob@example.com", "b\u043eb",
                    "a/b", "x" * 257, "\u0000bob"):
        assert canonical_username(refused) is None, refused
    assert canonical_username("x" * 256) == "x" * 256
