"""SECURITY.md for userpass: negative cases for every field, reserved policies, user enumeration by answer or work."""

from __future__ import annotations

from typing import Any

import pytest
from userpass_harness import FAST, Mount, U, counting_hashing, params_of, run, scenario

from strongroom.auth.userpass.hashing import PasswordHashing
from strongroom.errors import InvalidRequest, StrongroomError

PASSWORD = "s3cret canary!password"
INVALID = (400, "invalid username or password")

ROOT_SPELLINGS = ["root", "ROOT", " root ", "Root\n", "\uff52\uff4f\uff4f\uff54", "ro\u200bot", "r\u043e\u043et",
                  "\u0280oot"]


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
@pytest.mark.parametrize("field", ["token_policies", "policies"])
def test_any_spelling_of_root_is_refused_on_user_creation(field: str, spelling: str) -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest, match="root policy"):
            await m.call(U, "users/bob", {"password": PASSWORD, field: ["dev", spelling]})
        assert m.raw_values() == b""

    scenario(body)


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_any_spelling_of_root_is_refused_by_the_policies_endpoint(spelling: str) -> None:
    async def body(m: Mount) -> None:
        await m.call(U, "users/bob", {"password": PASSWORD, "policies": "dev"})
        with pytest.raises(InvalidRequest, match="root policy"):
            await m.call(U, "users/bob/policies", {"policies": spelling})
        response = await m.login("bob", PASSWORD)
        assert response is not None
        assert response.auth is not None
        assert response.auth.policies == ["dev"]

    scenario(body)


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("bob", {"password": ""}),
        ("bob", {"password": "x" * 4097}),
        ("bob", {"password": ["a", "list"]}),
        ("bob", {"password": {"an": "object"}}),
        ("bob", {"password": PASSWORD, "token_ttl": "forever"}),
        ("bob", {"password": PASSWORD, "token_ttl": -5}),
        ("bob", {"password": PASSWORD, "token_num_uses": -1}),
        ("bob", {"password": PASSWORD, "token_ttl": 10**40}),
        ("bob", {"password": PASSWORD, "token_num_uses": 2**31}),
        ("bob", {"password": PASSWORD, "token_num_uses": "many"}),
        ("bob", {"password": PASSWORD, "token_bound_cidrs": "10.0.0.0/33"}),
        ("bob", {"password": PASSWORD, "token_bound_cidrs": ["not an address"]}),
        ("bob", {"password": PASSWORD, "token_type": "batch"}),
        ("bob", {"password": PASSWORD, "token_type": "superuser"}),
        ("bob", {"password": PASSWORD, "token_ttl": "2h", "token_max_ttl": "1h"}),
        ("bob", {"password": PASSWORD, "token_policies": ["bad name!"]}),
        ("bob", {"password": PASSWORD, "token_policies": [f"p{i}" for i in range(300)]}),
        ("bob", {"password": PASSWORD, "token_no_default_policy": "perhaps"}),
        ("-bob", {"password": PASSWORD}),
        ("bob.", {"password": PASSWORD}),
        ("b\u043eb", {"password": PASSWORD}),  # Cyrillic o
        ("bob@example.com", {"password": PASSWORD}),
        ("x" * 300, {"password": PASSWORD}),
    ],
)
def test_malformed_user_writes_are_refused_and_store_nothing(name: str, fields: dict[str, Any]) -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest) as caught:
            await m.call(U, f"users/{name}", fields)
        assert PASSWORD not in caught.value.message
        assert m.raw_values() == b""

    scenario(body)


LOGIN_CASES: list[tuple[str, str, Any]] = [
    ("wrong password", "bob", "not-it"),
    ("unknown user", "ghost", PASSWORD),
    ("another user's password", "alice", PASSWORD),
    ("empty password", "bob", ""),
    ("missing password", "bob", None),
    ("oversized password", "bob", PASSWORD + "x" * 5000),
    ("look-alike username", "b\u043eb", PASSWORD),
    ("huge username", "b" * 5000, PASSWORD),
    ("username that cannot exist", "-bob", PASSWORD),
    ("password with a NUL", "bob", PASSWORD + "\x00"),
]


@pytest.mark.parametrize(("case", "name", "password"), LOGIN_CASES, ids=[c[0] for c in LOGIN_CASES])
def test_every_refused_login_gets_the_one_answer(case: str, name: str, password: Any) -> None:
    async def body(m: Mount) -> None:
        await m.call(U, "users/bob", {"password": PASSWORD})
        await m.call(U, "users/alice", {"password": "alice's own"})
        with pytest.raises(StrongroomError) as caught:
            await m.login(name, password)
        assert (caught.value.status, caught.value.message) == INVALID

    scenario(body)


def test_a_password_of_the_wrong_type_is_a_type_error_for_every_user_alike() -> None:
    async def body(m: Mount) -> None:
        await m.call(U, "users/bob", {"password": PASSWORD})
        answers = set()
        for name in ("bob", "ghost"):
            with pytest.raises(InvalidRequest) as caught:
                await m.login(name, ["a", "list"])
            answers.add((caught.value.status, caught.value.message))
        assert len(answers) == 1

    scenario(body)


def test_unknown_wrong_and_locked_users_cost_exactly_one_verification_of_the_same_kind() -> None:
    """CVE-2025-6011: only existing users paid the hash. Count the argon2 calls, don't time them."""

    async def main() -> None:
        hashing, hasher = counting_hashing(FAST)
        m = Mount(hashing=hashing)
        await m.backend.setup()
        await m.call(U, "users/bob", {"password": PASSWORD})
        hasher.verified.clear()
        cases = {
            "unknown user": ("ghost", PASSWORD, False),
            "wrong password": ("bob", "wrong", False),
            "locked user, right password": ("bob", PASSWORD, True),
            "locked user, wrong password": ("bob", "wrong", True),
            "impossible name": ("b\u043eb", PASSWORD, False),
            "oversized password": ("bob", "x" * 5000, False),
            "missing password": ("bob", None, False),
        }
        work: dict[str, list[str]] = {}
        answers = set()
        for case, (name, password, locked) in cases.items():
            before = len(hasher.verified)
            with pytest.raises(InvalidRequest) as caught:
                await m.login(name, password, login_locked=locked)
            work[case] = hasher.verified[before:]
            answers.add((caught.value.status, caught.value.message))
        assert answers == {INVALID}
        real = params_of(await hashing.hash("probe"))
        for case, calls in work.items():
            assert calls == [real], case
        # And a successful login does the same single verification.
        before = len(hasher.verified)
        assert await m.login("bob", PASSWORD) is not None
        assert hasher.verified[before:] == [real]

    run(main())


def test_a_refused_login_never_stores_or_rehashes_anything() -> None:
    async def main() -> None:
        hashing, hasher = counting_hashing(FAST)
        m = Mount(hashing=hashing)
        await m.backend.setup()
        await m.call(U, "users/bob", {"password": PASSWORD})
        stored = m.raw_values()
        hashed = hasher.hashed
        for name, password in (("bob", "wrong"), ("ghost", PASSWORD)):
            with pytest.raises(InvalidRequest):
                await m.login(name, password)
        assert m.raw_values() == stored
        assert hasher.hashed == hashed

    run(main())


def test_the_password_never_appears_in_errors_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")

    async def body(m: Mount) -> None:
        await m.call(U, "users/bob", {"password": PASSWORD})
        texts = [repr(m.backend.hashing)]
        for call in (
            lambda: m.login("bob", PASSWORD + "1"),
            lambda: m.call(U, "users/bob", {"password": PASSWORD, "token_ttl": PASSWORD}),
            lambda: m.call(U, "users/bob", {"password": PASSWORD, "token_policies": [PASSWORD]}),
            lambda: m.call(U, "users/bob", {"password": PASSWORD, "token_bound_cidrs": [PASSWORD]}),
            lambda: m.call(U, f"users/{PASSWORD}!", {"password": PASSWORD}),
        ):
            with pytest.raises(StrongroomError) as caught:
                await call()
            texts.extend([caught.value.message, *caught.value.errors])
        from strongroom.auth.userpass.users import Users

        entry = await Users(m.storage, lambda n: b"\x00" * n).get("bob")
        texts.append(repr(entry))
        joined = "\n".join(texts) + caplog.text
        assert PASSWORD not in joined
        assert "$argon2id" not in joined

    scenario(body, hashing=PasswordHashing(FAST))
