"""The AppRole backend driven directly: roles, role IDs, secret IDs and logins in Vault's shapes."""

from __future__ import annotations

import re

import pytest
from approle_harness import INVALID, D, L, Mount, R, U, scenario

from strongroom.errors import InvalidRequest, NotFound, StrongroomError

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


async def refused(m: Mount, role_id: object, secret_id: object = None, **kwargs: object) -> tuple[int, str]:
    with pytest.raises(StrongroomError) as caught:
        await m.login(role_id, secret_id, **kwargs)
    return caught.value.status, caught.value.message


def test_a_new_role_reads_back_vaults_defaults() -> None:
    async def body(m: Mount) -> None:
        await m.role("app")
        assert await m.data(R, "role/app") == {
            "bind_secret_id": True, "local_secret_ids": False, "secret_id_bound_cidrs": [], "secret_id_num_uses": 0,
            "secret_id_ttl": 0, "token_policies": [], "token_ttl": 0, "token_max_ttl": 0,
            "token_explicit_max_ttl": 0, "token_period": 0, "token_num_uses": 0, "token_bound_cidrs": [],
            "token_no_default_policy": False, "token_type": "default",
        }

    scenario(body)


def test_role_settings_are_stored_and_read_back() -> None:
    async def body(m: Mount) -> None:
        await m.role("app", secret_id_bound_cidrs="10.0.0.0/8,192.0.2.0/24", secret_id_num_uses=5,
                     secret_id_ttl="10m", token_policies=["dev", "ops"], token_ttl="20m", token_max_ttl="30m",
                     period="1h", token_bound_cidrs=["10.0.0.0/16"])
        data = await m.data(R, "role/app")
        assert data["secret_id_bound_cidrs"] == ["10.0.0.0/8", "192.0.2.0/24"]
        assert (data["secret_id_num_uses"], data["secret_id_ttl"]) == (5, 600)
        assert data["token_policies"] == data["policies"] == ["dev", "ops"]
        assert (data["token_ttl"], data["token_max_ttl"], data["token_period"], data["period"]) == (1200, 1800, 3600,
                                                                                                     3600)
        assert data["token_bound_cidrs"] == ["10.0.0.0/16"]

    scenario(body)


def test_role_names_are_case_insensitive_and_listed_lower_cased() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("MyApp")
        assert (await m.data(R, "role/myapp/role-id"))["role_id"] == role_id
        assert await m.data(L, "role/") == {"keys": ["myapp"]}
        await m.call(D, "role/MYAPP")
        with pytest.raises(NotFound):
            await m.call(R, "role/myapp")

    scenario(body)


def test_role_ids_are_random_uuids_and_can_be_set() -> None:
    async def body(m: Mount) -> None:
        generated = await m.role("app")
        assert UUID.fullmatch(generated)
        assert await m.role("custom", role_id="my-custom-role-id") == "my-custom-role-id"
        await m.call(U, "role/app/role-id", {"role_id": "another-id"})
        assert (await m.data(R, "role/app/role-id"))["role_id"] == "another-id"

    scenario(body)


def test_a_role_id_in_use_by_another_role_is_refused() -> None:
    async def body(m: Mount) -> None:
        taken = await m.role("first")
        await m.role("second")
        with pytest.raises(InvalidRequest, match="role_id already in use"):
            await m.call(U, "role/second/role-id", {"role_id": taken})
        with pytest.raises(InvalidRequest, match="role_id already in use"):
            await m.call(U, "role/third", {"role_id": taken})

    scenario(body)


def test_generated_secret_id_answers_vaults_fields_and_logs_in() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app", token_policies="dev", secret_id_ttl="1h", secret_id_num_uses=3)
        issued = await m.secret("app", metadata='{"pod": "web-1"}')
        assert set(issued) == {"secret_id", "secret_id_accessor", "secret_id_ttl", "secret_id_num_uses"}
        assert UUID.fullmatch(issued["secret_id"])
        assert UUID.fullmatch(issued["secret_id_accessor"])
        assert (issued["secret_id_ttl"], issued["secret_id_num_uses"]) == (3600, 3)
        response = await m.login(role_id, issued["secret_id"])
        assert response is not None
        assert response.auth is not None
        auth = response.auth
        assert auth.policies == ["dev"]
        assert auth.metadata == {"pod": "web-1", "role_name": "app"}
        assert auth.alias_name == role_id
        assert auth.alias_metadata == {"role_name": "app"}
        assert auth.internal_data == {"role_name": "app", "secret_id_accessor": issued["secret_id_accessor"]}

    scenario(body)


def test_secret_id_lookups_answer_vaults_shape() -> None:
    async def body(m: Mount) -> None:
        await m.role("app")
        issued = await m.secret("app", metadata={"pod": "web-1"}, cidr_list="10.0.0.0/8", num_uses=2)
        by_id = await m.data(U, "role/app/secret-id/lookup", {"secret_id": issued["secret_id"]})
        by_accessor = await m.data(U, "role/app/secret-id-accessor/lookup",
                                   {"secret_id_accessor": issued["secret_id_accessor"]})
        assert by_id == by_accessor
        assert by_id["metadata"] == {"pod": "web-1"}
        assert by_id["cidr_list"] == ["10.0.0.0/8"]
        assert by_id["secret_id_accessor"] == issued["secret_id_accessor"]
        assert (by_id["secret_id_num_uses"], by_id["secret_id_ttl"]) == (2, 0)
        assert by_id["expiration_time"] == "0001-01-01T00:00:00Z"
        assert RFC3339.fullmatch(by_id["creation_time"])
        assert by_id["token_bound_cidrs"] == []
        assert issued["secret_id"] not in str(by_id)

    scenario(body)


def test_lookup_of_an_unknown_secret_id_answers_no_content_and_an_unknown_accessor_404() -> None:
    async def body(m: Mount) -> None:
        await m.role("app")
        assert await m.call(U, "role/app/secret-id/lookup", {"secret_id": "nope"}) is None
        with pytest.raises(NotFound):
            await m.call(U, "role/app/secret-id-accessor/lookup", {"secret_id_accessor": "nope"})

    scenario(body)


def test_list_shows_the_accessors_of_live_secret_ids_only() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app")
        first = await m.secret("app", num_uses=1)
        second = await m.secret("app", ttl="60s")
        third = await m.secret("app")
        listed = await m.data(L, "role/app/secret-id/")
        assert listed["keys"] == sorted(s["secret_id_accessor"] for s in (first, second, third))
        await m.login(role_id, first["secret_id"])
        m.clock.advance(61)
        assert (await m.data(L, "role/app/secret-id/"))["keys"] == [third["secret_id_accessor"]]

    scenario(body)


def test_destroyed_secret_ids_no_longer_log_in() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app")
        by_value = await m.secret("app")
        by_accessor = await m.secret("app")
        await m.call(U, "role/app/secret-id/destroy", {"secret_id": by_value["secret_id"]})
        accessor = by_accessor["secret_id_accessor"]
        await m.call(D, "role/app/secret-id-accessor/destroy", {"secret_id_accessor": accessor})
        for issued in (by_value, by_accessor):
            assert await refused(m, role_id, issued["secret_id"]) == INVALID
        assert await m.call(U, "role/app/secret-id/destroy", {"secret_id": "never-existed"}) is None

    scenario(body)


def test_custom_secret_ids_log_in_and_cannot_be_registered_twice() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app")
        issued = await m.data(U, "role/app/custom-secret-id", {"secret_id": "my-own-secret-value"})
        assert issued["secret_id"] == "my-own-secret-value"
        with pytest.raises(InvalidRequest, match="already registered"):
            await m.call(U, "role/app/custom-secret-id", {"secret_id": "my-own-secret-value"})
        assert await m.login(role_id, "my-own-secret-value") is not None

    scenario(body)


def test_a_secret_id_with_uses_works_that_many_times() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app")
        issued = await m.secret("app", num_uses=2)
        assert await m.login(role_id, issued["secret_id"]) is not None
        left = await m.data(U, "role/app/secret-id/lookup", {"secret_id": issued["secret_id"]})
        assert left["secret_id_num_uses"] == 1
        assert await m.login(role_id, issued["secret_id"]) is not None
        assert await refused(m, role_id, issued["secret_id"]) == INVALID
        assert b"secret_id/" not in m.raw()  # the last use took the entry with it

    scenario(body)


def test_secret_ids_expire_and_tidy_removes_them() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app", secret_id_ttl="10m")
        issued = await m.secret("app")
        keeper = await m.secret("app", ttl="5m")
        m.clock.advance(299)
        assert await m.login(role_id, keeper["secret_id"]) is not None
        m.clock.advance(301)
        assert await refused(m, role_id, issued["secret_id"]) == INVALID
        tidy = await m.call(U, "tidy/secret-id")
        assert tidy is not None
        assert tidy.status == 202
        assert tidy.warnings == ["Tidy operation completed: 2 secret IDs removed."]
        assert b"secret_id/" not in m.raw()
        assert b"accessor/" not in m.raw()

    scenario(body)


@pytest.mark.parametrize(
    ("role", "asked", "message"),
    [
        ({"secret_id_num_uses": 3}, {"num_uses": 4}, "num_uses cannot be higher"),
        ({"secret_id_num_uses": 3}, {"num_uses": 0}, "num_uses cannot be higher"),
        ({}, {"num_uses": -1}, "cannot be negative"),
        ({}, {"num_uses": 10**40}, "too large"),
        ({}, {"ttl": 10**40}, "too large"),
        ({"secret_id_ttl": "1h"}, {"ttl": "2h"}, "ttl cannot be longer"),
        ({"secret_id_ttl": "1h"}, {"ttl": 0}, "ttl cannot be longer"),
        ({"secret_id_bound_cidrs": "10.0.0.0/8"}, {"cidr_list": "192.0.2.0/24"}, "cidr_list"),
        ({"secret_id_bound_cidrs": "10.0.0.0/8"}, {"cidr_list": "::/0"}, "cidr_list"),
        ({"token_bound_cidrs": "10.0.0.0/8"}, {"token_bound_cidrs": "10.0.0.0/7"}, "token_bound_cidrs"),
        ({}, {"metadata": "not json"}, "metadata"),
        ({}, {"metadata": '{"n": 1}'}, "metadata"),
        ({}, {"metadata": {f"k{i}": "v" for i in range(65)}}, "metadata"),
        ({}, {"metadata": {"k": "v" * 513}}, "metadata"),
        ({}, {"cidr_list": "999.0.0.0/8"}, "cidr_list"),
    ],
)
def test_secret_id_terms_outside_the_roles_limits_are_refused(role: dict[str, object], asked: dict[str, object],
                                                              message: str) -> None:
    async def body(m: Mount) -> None:
        await m.role("app", **role)
        before = m.raw()
        with pytest.raises(InvalidRequest, match=message):
            await m.secret("app", **asked)
        assert m.raw() == before

    scenario(body)


def test_secret_id_terms_within_the_roles_limits_are_kept() -> None:
    async def body(m: Mount) -> None:
        await m.role("app", secret_id_num_uses=5, secret_id_ttl="1h", secret_id_bound_cidrs="10.0.0.0/8",
                     token_bound_cidrs="10.0.0.0/8")
        issued = await m.secret("app", num_uses=2, ttl="30m", cidr_list="10.1.0.0/16", token_bound_cidrs="10.1.2.0/24")
        assert (issued["secret_id_num_uses"], issued["secret_id_ttl"]) == (2, 1800)
        defaults = await m.secret("app")
        assert (defaults["secret_id_num_uses"], defaults["secret_id_ttl"]) == (5, 3600)

    scenario(body)


def test_a_role_without_bind_secret_id_logs_in_by_address_alone() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app", bind_secret_id=False, secret_id_bound_cidrs="10.0.0.0/8")
        response = await m.login(role_id, remote_addr="10.9.8.7")
        assert response is not None
        assert response.auth is not None
        assert response.auth.metadata == {"role_name": "app"}
        assert await refused(m, role_id, remote_addr="192.0.2.1") == INVALID
        with pytest.raises(InvalidRequest, match="bind_secret_id is not set"):
            await m.secret("app")

    scenario(body)


def test_a_role_must_demand_a_secret_id_or_an_address() -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest, match="at least one constraint"):
            await m.call(U, "role/app", {"bind_secret_id": False})
        await m.role("app")
        with pytest.raises(InvalidRequest, match="at least one constraint"):
            await m.call(U, "role/app", {"bind_secret_id": "false"})
        assert (await m.data(R, "role/app"))["bind_secret_id"] is True

    scenario(body)


def test_deleting_a_role_kills_its_secret_ids_even_if_recreated_under_the_same_name() -> None:
    async def body(m: Mount) -> None:
        old_role_id = await m.role("app")
        old = await m.secret("app")
        await m.call(D, "role/app")
        assert b"secret_id/" not in m.raw()
        new_role_id = await m.role("app")
        assert new_role_id != old_role_id
        assert await refused(m, old_role_id, old["secret_id"]) == INVALID
        assert await refused(m, new_role_id, old["secret_id"]) == INVALID

    scenario(body)


def test_changing_the_role_id_keeps_secret_ids_and_retires_the_old_id() -> None:
    async def body(m: Mount) -> None:
        old_role_id = await m.role("app")
        issued = await m.secret("app")
        await m.call(U, "role/app/role-id", {"role_id": "fresh-role-id"})
        assert await refused(m, old_role_id, issued["secret_id"]) == INVALID
        assert await m.login("fresh-role-id", issued["secret_id"]) is not None

    scenario(body)


def test_token_bound_cidrs_of_a_secret_id_replace_the_roles_on_the_token() -> None:
    async def body(m: Mount) -> None:
        role_id = await m.role("app", token_bound_cidrs="10.0.0.0/8")
        narrow = await m.secret("app", token_bound_cidrs="10.1.0.0/16")
        plain = await m.secret("app")
        first = await m.login(role_id, narrow["secret_id"], remote_addr="10.1.2.3")
        second = await m.login(role_id, plain["secret_id"], remote_addr="10.9.9.9")
        assert first is not None
        assert first.auth is not None
        assert first.auth.bound_cidrs == ["10.1.0.0/16"]
        assert second is not None
        assert second.auth is not None
        assert second.auth.bound_cidrs == ["10.0.0.0/8"]

    scenario(body)


def test_local_secret_ids_cannot_be_turned_on() -> None:
    async def body(m: Mount) -> None:
        with pytest.raises(InvalidRequest, match="local_secret_ids"):
            await m.call(U, "role/app", {"local_secret_ids": True})

    scenario(body)


def test_secret_id_operations_on_a_missing_role_are_refused() -> None:
    async def body(m: Mount) -> None:
        for path, data in (("role/ghost/secret-id", {}), ("role/ghost/secret-id/lookup", {"secret_id": "x"}),
                           ("role/ghost/custom-secret-id", {"secret_id": "x"})):
            with pytest.raises(InvalidRequest, match="role does not exist"):
                await m.call(U, path, data)
        with pytest.raises(NotFound):
            await m.call(R, "role/ghost/role-id")

    scenario(body)
