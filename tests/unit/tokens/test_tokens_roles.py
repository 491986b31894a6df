"""Token roles: CRUD with Vault's fields, and the constraints they put on tokens created through them."""

from __future__ import annotations

from typing import Any

import pytest
from tokens_harness import Api, harness, run

from strongroom.errors import InvalidRequest, NotFound, PermissionDenied

ROOT_SPELLINGS = ["root", "Root", " root", "ROOT\u200b", "\uff52\uff4f\uff4f\uff54", "r\u043eot"]


async def setup() -> tuple[Api, str, str]:
    """An API, the root token, and a plain token with policy "dev" (no sudo)."""
    api = Api(harness())
    root, _ = await api.h.store.create_root()
    dev, _ = await api.create(root, policies=["dev"])
    return api, root, dev


async def write_role(api: Api, root: str, name: str, **fields: Any) -> Any:
    return await api.call("update", f"roles/{name}", fields, token=root)


def test_a_role_is_written_read_listed_and_deleted_with_vaults_fields() -> None:
    async def scenario() -> None:
        api, root, _ = await setup()
        await write_role(
            api, root, "nomad", allowed_policies="dev, OPS", orphan=True, token_period="1h",
            path_suffix="v1", token_bound_cidrs=["10.0.0.1", "192.168.0.0/16"],
        )
        data = (await api.call("read", "roles/nomad", token=root)).data
        assert data["name"] == "nomad"
        assert data["allowed_policies"] == ["dev", "ops"]
        assert data["disallowed_policies"] == []
        assert data["orphan"] is True
        assert data["renewable"] is True
        assert data["token_period"] == 3600
        assert data["period"] == 3600
        assert data["path_suffix"] == "v1"
        assert data["token_type"] == "default-service"
        assert data["token_bound_cidrs"] == ["10.0.0.1/32", "192.168.0.0/16"]
        assert (await api.call("list", "roles/", token=root)).data["keys"] == ["nomad"]
        assert await api.call("delete", "roles/nomad", token=root) is None
        with pytest.raises(NotFound):
            await api.call("read", "roles/nomad", token=root)

    run(scenario())


def test_updating_a_role_changes_only_the_fields_sent() -> None:
    async def scenario() -> None:
        api, root, _ = await setup()
        await write_role(api, root, "r", allowed_policies=["dev"], renewable=False)
        await write_role(api, root, "r", orphan=True)
        data = (await api.call("read", "roles/r", token=root)).data
        assert data["allowed_policies"] == ["dev"]
        assert data["renewable"] is False
        assert data["orphan"] is True

    run(scenario())


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_a_role_can_never_allow_the_root_policy(spelling: str) -> None:
    async def scenario() -> None:
        api, root, _ = await setup()
        with pytest.raises(InvalidRequest, match="root policy"):
            await write_role(api, root, "r", allowed_policies=["dev", spelling])

    run(scenario())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"token_type": "batch"}, "batch tokens are not supported"),
        ({"token_type": "nonsense"}, "invalid 'token_type'"),
        ({"path_suffix": "a/../b"}, "invalid characters"),
        ({"path_suffix": "a..b"}, "invalid characters"),
        ({"token_bound_cidrs": ["not-a-cidr"]}, "bound cidrs"),
        ({"allowed_entity_aliases": ["web-*"]}, "entity aliases"),
        ({"token_num_uses": -1}, "negative"),
    ],
)
def test_invalid_role_settings_are_refused(fields: dict[str, Any], message: str) -> None:
    async def scenario() -> None:
        api, root, _ = await setup()
        with pytest.raises(InvalidRequest, match=message):
            await write_role(api, root, "r", **fields)

    run(scenario())


def test_an_explicit_max_above_the_mount_max_is_accepted_with_a_warning() -> None:
    async def scenario() -> None:
        api, root, _ = await setup()
        resp = await write_role(api, root, "r", token_explicit_max_ttl="100h")
        assert resp is not None
        assert "greater than system/mount allowed value" in resp.warnings[0]

    run(scenario())


def test_a_role_lets_a_caller_create_policies_it_does_not_hold_but_only_the_allowed_ones() -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(api, root, "deploy", allowed_policies=["deploy", "read-only"])
        _, auth = await api.create(dev, "create/deploy", policies=["deploy"])
        assert auth.policies == ["default", "deploy"]
        _, auth = await api.create(dev, "create/deploy")
        assert auth.policies == ["default", "deploy", "read-only"]
        with pytest.raises(InvalidRequest, match="must be subset of the role's allowed policies"):
            await api.create(dev, "create/deploy", policies=["admin"])

    run(scenario())


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_a_role_with_a_catch_all_glob_still_never_grants_root_to_a_non_root_caller(spelling: str) -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(api, root, "any", allowed_policies_glob=["*"])
        _, auth = await api.create(dev, "create/any", policies=["anything"])
        assert auth.policies == ["anything", "default"]
        with pytest.raises(InvalidRequest, match="parent token being root"):
            await api.create(dev, "create/any", policies=[spelling])

    run(scenario())


def test_disallowed_policies_and_globs_are_enforced() -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(api, root, "r", disallowed_policies=["Admin"], disallowed_policies_glob=["prod-*"])
        with pytest.raises(InvalidRequest, match='"admin" is disallowed'):
            await api.call("update", "create/r", {"policies": ["admin"]}, token=root)
        with pytest.raises(InvalidRequest, match='"prod-db" is disallowed'):
            await api.call("update", "create/r", {"policies": ["prod-db"]}, token=root)
        # With only disallowed policies, an empty request inherits the caller's policies.
        _, auth = await api.create(dev, "create/r")
        assert auth.policies == ["default", "dev"]

    run(scenario())


def test_disallowing_default_keeps_it_off_the_token() -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(api, root, "r", allowed_policies=["dev"], disallowed_policies=["default"])
        _, auth = await api.create(dev, "create/r")
        assert auth.policies == ["dev"]

    run(scenario())


def test_role_settings_shape_the_token() -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(
            api, root, "svc", allowed_policies=["dev"], orphan=True, renewable=False,
            path_suffix="v2", token_explicit_max_ttl="30m", token_no_default_policy=True,
        )
        token, auth = await api.create(dev, "create/svc", ttl="1h", explicit_max_ttl="2h")
        assert auth.orphan is True
        assert auth.renewable is False
        assert auth.policies == ["dev"]
        assert auth.ttl == 1800
        data = (await api.call("read", "lookup-self", token=token)).data
        assert data["path"] == "auth/token/create/svc/v2"
        assert data["role"] == "svc"
        assert data["explicit_max_ttl"] == 1800

    run(scenario())


def test_a_role_period_needs_no_sudo_and_the_lesser_of_two_periods_wins() -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(api, root, "periodic", allowed_policies=["dev"], token_period="10m")
        _, auth = await api.create(dev, "create/periodic")
        assert auth.period == 600
        assert auth.ttl == 600
        resp = await api.call("update", "create/periodic", {"period": "5m"}, token=root)
        assert resp.auth.period == 300
        assert any("lesser value of 300" in w for w in resp.warnings)

    run(scenario())


def test_creating_through_an_unknown_role_is_refused() -> None:
    async def scenario() -> None:
        api, _, dev = await setup()
        with pytest.raises(InvalidRequest, match="unknown role ghost"):
            await api.create(dev, "create/ghost")

    run(scenario())


def test_a_token_whose_role_was_deleted_cannot_be_renewed() -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(api, root, "r", allowed_policies=["dev"])
        token, _ = await api.create(dev, "create/r")
        await api.call("update", "renew-self", {}, token=token)
        await api.call("delete", "roles/r", token=root)
        with pytest.raises(InvalidRequest, match="could not be found"):
            await api.call("update", "renew-self", {}, token=token)

    run(scenario())


def test_a_role_token_type_of_service_overrides_the_request() -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(api, root, "svc", allowed_policies=["dev"], token_type="service")
        resp = await api.call("update", "create/svc", {"type": "batch"}, token=dev)
        assert resp.auth.token_type == "service"

    run(scenario())


def test_listing_accessors_is_refused_without_sudo_even_with_a_role_token() -> None:
    async def scenario() -> None:
        api, root, dev = await setup()
        await write_role(api, root, "r", allowed_policies=["admin"])
        admin, _ = await api.create(dev, "create/r")
        with pytest.raises(PermissionDenied):
            await api.call("list", "accessors/", token=admin)

    run(scenario())
