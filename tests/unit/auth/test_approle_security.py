"""SECURITY.md for AppRole: every login field forged, swapped, missing, oversized or mistyped; credentials
stored only as HMACs; the last use of a secret ID won by exactly one of two workers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from approle_harness import INVALID, Mount, R, U, run, scenario

from strongroom.errors import InvalidRequest, StrongroomError
from strongroom.sdk.storage import Precondition, TxnOp
from strongroom.sdk.system import ManualClock
from strongroom.storage.inmem import InmemBackend


async def answer(m: Mount, role_id: Any, secret_id: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(StrongroomError) as caught:
        await m.login(role_id, secret_id, **kwargs)
    return caught.value.status, caught.value.message


async def two_roles(m: Mount) -> dict[str, Any]:
    """Roles ``a`` and ``b`` with a secret ID each, plus a destroyed, an expiring and a single-use one of ``a``."""
    creds: dict[str, Any] = {"a": await m.role("a", secret_id_bound_cidrs="192.0.2.0/24"), "b": await m.role("b")}
    creds["a_secret"] = (await m.secret("a"))["secret_id"]
    creds["b_secret"] = (await m.secret("b"))["secret_id"]
    destroyed = (await m.secret("a"))["secret_id"]
    await m.call(U, "role/a/secret-id/destroy", {"secret_id": destroyed})
    creds["destroyed"] = destroyed
    creds["expiring"] = (await m.secret("a", ttl="30s"))["secret_id"]
    creds["once"] = (await m.secret("a", num_uses=1))["secret_id"]
    creds["narrow"] = (await m.secret("a", cidr_list="192.0.2.128/25"))["secret_id"]
    return creds


NEGATIVE: list[tuple[str, Callable[[dict[str, Any]], tuple[Any, Any]], dict[str, Any]]] = [
    ("role_id of another role with a valid secret_id", lambda c: (c["b"], c["a_secret"]), {}),
    ("secret_id of another role", lambda c: (c["a"], c["b_secret"]), {}),
    ("destroyed secret_id", lambda c: (c["a"], c["destroyed"]), {}),
    ("expired secret_id", lambda c: (c["a"], c["expiring"]), {"advance": 31}),
    ("used-up secret_id", lambda c: (c["a"], c["once"]), {"use_first": True}),
    ("wrong source address for the role", lambda c: (c["a"], c["a_secret"]), {"remote_addr": "198.51.100.7"}),
    ("wrong source address for the secret_id", lambda c: (c["a"], c["narrow"]), {"remote_addr": "192.0.2.7"}),
    ("no source address at all", lambda c: (c["a"], c["a_secret"]), {"remote_addr": ""}),
    ("empty secret_id", lambda c: (c["a"], ""), {}),
    ("missing secret_id", lambda c: (c["a"], None), {}),
    ("huge secret_id", lambda c: (c["a"], "s" * 100_000), {}),
    ("huge role_id", lambda c: ("r" * 100_000, c["a_secret"]), {}),
    ("unknown role_id", lambda c: ("00000000-0000-4000-8000-000000000000", c["a_secret"]), {}),
    ("upper-cased role_id", lambda c: (c["a"].upper(), c["a_secret"]), {}),
    ("role_id with a look-alike letter", lambda c: (c["a"].replace("a", "\u0430", 1) if "a" in c["a"]
                                                    else "\u0430" + c["a"], c["a_secret"]), {}),
    ("role_id with a zero-width space", lambda c: (c["a"] + "\u200b", c["a_secret"]), {}),
    ("role_id padded with spaces", lambda c: (f" {c['a']} ", c["a_secret"]), {}),
    ("secret_id padded with spaces", lambda c: (c["a"], f" {c['a_secret']} "), {}),
    ("role name instead of role_id", lambda c: ("a", c["a_secret"]), {}),
    ("accessor instead of secret_id", lambda c: (c["a"], c["accessor"]), {}),
]


@pytest.mark.parametrize(("case", "pick", "how"), NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_every_forged_or_swapped_login_gets_the_one_answer(case: str, pick: Callable[[dict[str, Any]], tuple[Any, Any]],
                                                           how: dict[str, Any]) -> None:
    async def body(m: Mount) -> None:
        creds = await two_roles(m)
        creds["accessor"] = (await m.secret("a"))["secret_id_accessor"]
        if how.get("use_first"):
            assert await m.login(creds["a"], creds["once"]) is not None
        m.clock.advance(how.get("advance", 0))
        role_id, secret_id = pick(creds)
        assert await answer(m, role_id, secret_id, remote_addr=how.get("remote_addr", "192.0.2.10")) == INVALID

    scenario(body)


@pytest.mark.parametrize(
    ("body_fields", "message"),
    [
        ({}, "missing role_id"),
        ({"role_id": ""}, "missing role_id"),
        ({"secret_id": "x"}, "missing role_id"),
        ({"role_id": ["a", "b"], "secret_id": "x"}, "'role_id'"),
        ({"role_id": {"x": 1}, "secret_id": "x"}, "'role_id'"),
        ({"role_id": "x", "secret_id": ["y"]}, "'secret_id'"),
    ],
)
def test_missing_or_mistyped_login_fields_are_plain_400s(body_fields: dict[str, Any], message: str) -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest, match=message):
            await m.call(U, "login", body_fields)

    scenario(body)


def test_a_login_refused_for_its_address_spends_no_use() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app", token_bound_cidrs="10.0.0.0/8")
        issued = await m.secret("app", num_uses=1)
        for address in ("192.0.2.1", "not-an-address", ""):
            assert await answer(m, role_id, issued["secret_id"], remote_addr=address) == INVALID
        assert await m.login(role_id, issued["secret_id"], remote_addr="10.0.0.1") is not None

    scenario(body)


def test_a_locked_out_login_checks_everything_but_spends_nothing() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app")
        issued = await m.secret("app", num_uses=1)
        assert await answer(m, role_id, issued["secret_id"], login_locked=True) == INVALID
        left = await m.data(U, "role/app/secret-id/lookup", {"secret_id": issued["secret_id"]})
        assert left["secret_id_num_uses"] == 1
        assert await m.login(role_id, issued["secret_id"]) is not None

    scenario(body)


ROOT_SPELLINGS = ["root", "ROOT", " root", "\uff52\uff4f\uff4f\uff54", "ro\u200bot", "r\u043e\u043et"]


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
@pytest.mark.parametrize("field", ["token_policies", "policies"])
def test_any_spelling_of_root_is_refused_on_role_creation_and_update(field: str, spelling: str) -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest, match="root policy"):
            await m.call(U, "role/new", {field: ["dev", spelling]})
        await m.role("app", token_policies="dev")
        with pytest.raises(InvalidRequest, match="root policy"):
            await m.call(U, "role/app", {field: spelling})
        assert (await m.data(R, "role/app"))["token_policies"] == ["dev"]

    scenario(body)


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("app", {"role_id": ""}),
        ("app", {"role_id": " padded "}),
        ("app", {"role_id": "r" * 5000}),
        ("app", {"secret_id_num_uses": -1}),
        ("app", {"secret_id_ttl": 10**40}),
        ("app", {"token_period": 10**40}),
        ("app", {"secret_id_ttl": "soon"}),
        ("app", {"secret_id_bound_cidrs": "10.0.0.0/99"}),
        ("app", {"secret_id_bound_cidrs": "10.0.0.0/8", "bound_cidr_list": "10.0.0.0/8"}),
        ("app", {"token_type": "batch"}),
        ("app", {"bind_secret_id": "sometimes"}),
        ("-app", {}),
        ("app\u0430", {}),
        ("a" * 5000, {}),
    ],
)
def test_malformed_role_writes_are_refused_and_store_nothing(name: str, fields: dict[str, Any]) -> None:
    async def body(m: Mount) -> None:
        before = m.raw()
        with pytest.raises(InvalidRequest):
            await m.call(U, f"role/{name}", fields)
        assert m.raw() == before

    scenario(body)


def test_credentials_are_stored_only_as_hmacs() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app", role_id="role-id-canary-4411")
        issued = await m.data(U, "role/app/custom-secret-id", {"secret_id": "secret-id-canary-9922"})
        generated = await m.secret("app")
        raw = m.raw()
        assert b"secret-id-canary-9922" not in raw
        assert generated["secret_id"].encode() not in raw
        keys = "\n".join(m.storage._data)  # type: ignore[attr-defined]
        assert role_id not in keys
        assert issued["secret_id_accessor"] not in keys

    scenario(body)


def test_errors_never_echo_presented_credentials() -> None:
    async def body(m: Mount) -> None:
        await m.role("app")
        canary = "cred-canary-5150"
        messages: list[str] = []
        for path, data in (
            ("login", {"role_id": canary, "secret_id": canary}),
            ("role/app/custom-secret-id", {"secret_id": canary, "metadata": canary}),
            ("role/app/secret-id-accessor/lookup", {"secret_id_accessor": canary}),
            ("role/app/secret-id", {"cidr_list": canary}),
            ("role/app", {"role_id": canary + " ", "secret_id_ttl": canary}),
        ):
            with pytest.raises(StrongroomError) as caught:
                await m.call(U, path, data)
            messages.extend([caught.value.message, *caught.value.errors])
        assert not [msg for msg in messages if canary in msg]

    scenario(body)


class InterleavingStorage(InmemBackend):
    """Storage shared by two workers: runs ``other`` once, right before the next conditional transaction."""

    other: Callable[[], Awaitable[Any]] | None = None

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        if preconditions and self.other is not None:
            interleave, self.other = self.other, None
            await interleave()
        await super().transaction(ops, preconditions)


def test_two_workers_racing_for_the_last_use_of_a_secret_id_have_exactly_one_winner() -> None:
    async def main() -> None:
        storage = InterleavingStorage()
        clock = ManualClock()
        first, second = Mount(storage, clock), Mount(storage, clock)
        role_id = await first.role("app")
        issued = await first.secret("app", num_uses=1)
        results: list[str] = []

        async def second_worker_logs_in() -> None:
            try:
                await second.login(role_id, issued["secret_id"])
                results.append("second")
            except InvalidRequest:
                results.append("second refused")

        storage.other = second_worker_logs_in
        try:
            await first.login(role_id, issued["secret_id"])
            results.append("first")
        except InvalidRequest:
            results.append("first refused")
        assert storage.other is None, "the second worker never ran: nothing raced"
        assert sorted(results) == ["first refused", "second"]

    run(main())


def test_uses_spent_by_two_workers_at_once_are_all_counted() -> None:
    async def main() -> None:
        storage = InterleavingStorage()
        clock = ManualClock()
        first, second = Mount(storage, clock), Mount(storage, clock)
        role_id = await first.role("app")
        issued = await first.secret("app", num_uses=3)

        async def second_worker_logs_in() -> None:
            assert await second.login(role_id, issued["secret_id"]) is not None

        storage.other = second_worker_logs_in
        assert await first.login(role_id, issued["secret_id"]) is not None
        left = await first.data(U, "role/app/secret-id/lookup", {"secret_id": issued["secret_id"]})
        assert left["secret_id_num_uses"] == 1

    run(main())


def test_two_workers_setting_one_role_id_on_two_roles_leave_it_on_one() -> None:
    async def main() -> None:
        storage = InterleavingStorage()
        clock = ManualClock()
        first, second = Mount(storage, clock), Mount(storage, clock)
        await first.role("a")
        await first.role("b")

        async def second_worker_claims_it() -> None:
            await second.call(U, "role/b/role-id", {"role_id": "contested"})

        storage.other = second_worker_claims_it
        with pytest.raises(InvalidRequest, match="role_id already in use"):
            await first.call(U, "role/a/role-id", {"role_id": "contested"})
        assert (await first.data(R, "role/b/role-id"))["role_id"] == "contested"
        assert (await first.data(R, "role/a/role-id"))["role_id"] != "contested"

    run(main())
