"""The auth/token/ backend: Vault's paths, JSON shapes, status codes and creation rules."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tokens_harness import DEFAULT_TTL, MAX_TTL, Api, harness, run

from strongroom.errors import InvalidRequest, NotFound, PermissionDenied, StrongroomError
from strongroom.sdk.system import ManualClock

ROOT_SPELLINGS = ["root", "Root", " root", "ROOT\u200b", "\uff52\uff4f\uff4f\uff54", "r\u043eot"]
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


async def setup() -> tuple[Api, str]:
    api = Api(harness())
    root_token, _ = await api.h.store.create_root()
    return api, root_token


async def token_with(api: Api, root: str, *policies: str, **extra: Any) -> str:
    token, _ = await api.create(root, policies=list(policies), **extra)
    return token


def test_create_answers_with_vaults_auth_block() -> None:
    async def scenario() -> None:
        api, root = await setup()
        body = {"policies": ["web", "stage"], "meta": {"user": "armon"}, "ttl": "1h"}
        resp = await api.call("update", "create", body, token=root)
        auth = resp.auth
        assert auth.client_token.startswith("hvs.")
        assert re.fullmatch(r"[0-9A-Za-z]{24}", auth.accessor)
        assert auth.policies == ["default", "stage", "web"]
        assert auth.token_policies == auth.policies
        assert auth.metadata == {"user": "armon"}
        assert auth.ttl == 3600
        assert auth.renewable is True
        assert auth.orphan is False
        assert auth.num_uses == 0
        assert auth.entity_id == ""
        assert auth.token_type == "service"

    run(scenario())


def test_a_child_without_policies_inherits_the_callers() -> None:
    async def scenario() -> None:
        api, root = await setup()
        dev = await token_with(api, root, "dev", "ops")
        _, auth = await api.create(dev)
        assert auth.policies == ["default", "dev", "ops"]
        _, auth = await api.create(dev, no_default_policy=True)
        assert auth.policies == ["dev", "ops"]

    run(scenario())


def test_a_child_of_root_without_policies_is_a_root_token_that_never_expires() -> None:
    async def scenario() -> None:
        api, root = await setup()
        _, auth = await api.create(root)
        assert auth.policies == ["root"]
        assert auth.ttl == 0
        assert auth.renewable is False

    run(scenario())


def test_a_caller_without_sudo_may_only_create_a_subset_of_its_policies() -> None:
    async def scenario() -> None:
        api, root = await setup()
        dev = await token_with(api, root, "dev", "ops")
        _, auth = await api.create(dev, policies=["DEV"])
        assert auth.policies == ["default", "dev"]
        with pytest.raises(InvalidRequest, match="subset of parent"):
            await api.create(dev, policies=["dev", "admin"])

    run(scenario())


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_no_spelling_of_root_reaches_a_token_created_by_a_non_root_caller(spelling: str) -> None:
    async def scenario() -> None:
        api, root = await setup()
        dev = await token_with(api, root, "dev")
        before = await api.h.store.list_accessors()
        with pytest.raises(InvalidRequest) as plain:
            await api.create(dev, policies=["dev", spelling])
        assert plain.value.status == 400
        with pytest.raises(InvalidRequest, match="parent token being root"):
            await api.call("update", "create", {"policies": [spelling]}, token=dev, sudo=True)
        with pytest.raises(InvalidRequest):
            await api.call("update", "create-orphan", {"policies": [spelling]}, token=dev, sudo=True)
        assert await api.h.store.list_accessors() == before

    run(scenario())


def test_a_sudo_caller_may_create_policies_outside_its_own() -> None:
    async def scenario() -> None:
        api, root = await setup()
        dev = await token_with(api, root, "dev")
        resp = await api.call("update", "create", {"policies": ["admin"]}, token=dev, sudo=True)
        assert resp.auth.policies == ["admin", "default"]

    run(scenario())


def test_internal_policies_cannot_be_assigned_even_by_root() -> None:
    async def scenario() -> None:
        api, root = await setup()
        with pytest.raises(InvalidRequest, match="cannot assign policy"):
            await api.create(root, policies=["Response-Wrapping"])

    run(scenario())


def test_orphans_need_sudo_through_no_parent_but_only_the_acl_through_create_orphan() -> None:
    async def scenario() -> None:
        api, root = await setup()
        dev = await token_with(api, root, "dev")
        with pytest.raises(InvalidRequest, match="orphan"):
            await api.create(dev, no_parent=True)
        resp = await api.call("update", "create", {"no_parent": True}, token=dev, sudo=True)
        assert resp.auth.orphan is True
        _, auth = await api.create(dev, "create-orphan")
        assert auth.orphan is True
        _, auth = await api.create(dev)
        assert auth.orphan is False

    run(scenario())


def test_periodic_tokens_and_custom_ids_need_sudo() -> None:
    async def scenario() -> None:
        api, root = await setup()
        dev = await token_with(api, root, "dev")
        with pytest.raises(InvalidRequest, match="periodic"):
            await api.create(dev, period="1h")
        with pytest.raises(InvalidRequest, match="specify token id"):
            await api.create(dev, id="chosen-id")
        token, auth = await api.create(root, id="chosen-id", period="10m")
        assert token == "chosen-id"
        assert auth.period == 600
        assert auth.ttl == 600

    run(scenario())


def test_a_limited_use_token_cannot_create_children() -> None:
    async def scenario() -> None:
        api, root = await setup()
        limited = await token_with(api, root, "dev", num_uses=3)
        with pytest.raises(InvalidRequest, match="restricted use"):
            await api.create(limited)

    run(scenario())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("type", "batch", "batch tokens are not supported"),
        ("type", "weird", "invalid 'token_type'"),
        ("entity_alias", "bob", "entity aliases"),
        ("num_uses", -1, "negative"),
        ("ttl", "-5m", "duration"),
    ],
)
def test_unsupported_or_invalid_create_fields_are_refused(field: str, value: Any, message: str) -> None:
    async def scenario() -> None:
        api, root = await setup()
        with pytest.raises(InvalidRequest, match=message):
            await api.create(root, **{field: value})

    run(scenario())


def test_create_without_a_live_calling_token_is_refused() -> None:
    async def scenario() -> None:
        api, _ = await setup()
        with pytest.raises(InvalidRequest, match="no parent found"):
            await api.call("update", "create", {}, token="hvs.unknown")

    run(scenario())


def test_display_names_are_prefixed_and_sanitised_like_vaults() -> None:
    async def scenario() -> None:
        api, root = await setup()
        token, _ = await api.create(root, display_name="my app!")
        resp = await api.call("update", "lookup", {"token": token}, token=root)
        assert resp.data["display_name"] == "token-my-app"

    run(scenario())


def test_lookup_answers_with_vaults_fields() -> None:
    async def scenario() -> None:
        api, root = await setup()
        token, auth = await api.create(
            root, policies=["dev"], meta={"team": "a"}, ttl="10m", explicit_max_ttl="1h"
        )
        api.h.clock.advance(60)
        data = (await api.call("update", "lookup", {"token": token}, token=root)).data
        assert data["id"] == token
        assert data["accessor"] == auth.accessor
        assert data["policies"] == ["default", "dev"]
        assert data["meta"] == {"team": "a"}
        assert data["path"] == "auth/token/create"
        assert data["display_name"] == "token"
        assert data["creation_ttl"] == 600
        assert data["ttl"] == 540
        assert data["explicit_max_ttl"] == 3600
        assert data["creation_time"] == int(api.h.clock.now - 60)
        assert RFC3339.fullmatch(data["expire_time"])
        assert RFC3339.fullmatch(data["issue_time"])
        assert data["renewable"] is True
        assert data["orphan"] is False
        assert data["num_uses"] == 0
        assert data["type"] == "service"
        assert data["entity_id"] == ""
        assert "role" not in data
        assert "period" not in data

    run(scenario())


def test_lookup_self_of_the_root_token_shows_a_token_that_never_expires() -> None:
    async def scenario() -> None:
        api, root = await setup()
        data = (await api.call("read", "lookup-self", token=root)).data
        assert data["id"] == root
        assert data["policies"] == ["root"]
        assert data["path"] == "auth/token/root"
        assert data["display_name"] == "root"
        assert data["expire_time"] is None
        assert data["ttl"] == 0
        assert data["orphan"] is True
        assert data["meta"] is None
        assert "issue_time" not in data
        assert "renewable" not in data

    run(scenario())


def test_lookup_of_a_dead_token_is_403_bad_token_without_echoing_it() -> None:
    async def scenario() -> None:
        api, root = await setup()
        token, _ = await api.create(root, ttl="1m")
        api.h.clock.advance(60)
        with pytest.raises(PermissionDenied) as denied:
            await api.call("update", "lookup", {"token": token}, token=root)
        assert denied.value.status == 403
        assert denied.value.message == "bad token"
        assert token not in str(denied.value.errors)

    run(scenario())


def test_lookup_without_any_token_is_400() -> None:
    async def scenario() -> None:
        api, _ = await setup()
        with pytest.raises(InvalidRequest, match="missing token ID"):
            await api.call("update", "lookup", {})

    run(scenario())


def test_lookup_accessor_hides_the_id_and_rejects_unknown_accessors() -> None:
    async def scenario() -> None:
        api, root = await setup()
        _, auth = await api.create(root)
        data = (await api.call("update", "lookup-accessor", {"accessor": auth.accessor}, token=root)).data
        assert data["id"] == ""
        assert data["accessor"] == auth.accessor
        with pytest.raises(InvalidRequest, match="invalid accessor"):
            await api.call("update", "lookup-accessor", {"accessor": "nope"}, token=root)
        with pytest.raises(InvalidRequest, match="missing accessor"):
            await api.call("update", "lookup-accessor", {}, token=root)

    run(scenario())


def test_the_last_use_of_a_token_can_still_look_itself_up() -> None:
    async def scenario() -> None:
        api, root = await setup()
        token, _ = await api.create(root, num_uses=1)
        entry = await api.h.store.lookup(token)
        assert entry is not None
        assert await api.h.store.use(entry) is True
        data = (await api.call("read", "lookup-self", token=token)).data
        assert data["num_uses"] == -1
        with pytest.raises(PermissionDenied):
            await api.call("update", "lookup", {"token": token}, token=root)

    run(scenario())


def test_renew_self_and_renew_by_token_or_accessor_answer_with_an_auth_block() -> None:
    async def scenario() -> None:
        api, root = await setup()
        token, auth = await api.create(root, ttl="10m")
        api.h.clock.advance(300)
        resp = await api.call("update", "renew-self", {"increment": "20m"}, token=token)
        assert resp.auth.client_token == token
        assert resp.auth.ttl == 1200
        resp = await api.call("update", "renew", {"token": token, "increment": 60}, token=root)
        assert resp.auth.ttl == 60
        resp = await api.call("update", "renew-accessor", {"accessor": auth.accessor}, token=root)
        assert resp.auth.client_token == ""
        assert resp.auth.ttl == 600
        assert resp.auth.accessor == auth.accessor

    run(scenario())


def test_renewing_never_passes_the_explicit_max_ttl_through_the_api() -> None:
    async def scenario() -> None:
        api, root = await setup()
        token, _ = await api.create(root, ttl="2m", explicit_max_ttl="5m")
        granted = []
        for _ in range(4):
            api.h.clock.advance(60)
            resp = await api.call("update", "renew-self", {"increment": "1h"}, token=token)
            granted.append(resp.auth.ttl)
        assert granted == [240, 180, 120, 60]
        api.h.clock.advance(60)
        with pytest.raises(PermissionDenied):
            await api.call("read", "lookup-self", token=token)

    run(scenario())


def test_renew_errors_match_vault() -> None:
    async def scenario() -> None:
        api, root = await setup()
        with pytest.raises(InvalidRequest, match="token not found"):
            await api.call("update", "renew", {"token": "hvs.nothing"}, token=root)
        with pytest.raises(InvalidRequest, match="missing token ID"):
            await api.call("update", "renew", {}, token=root)
        with pytest.raises(InvalidRequest, match="not renewable"):
            await api.call("update", "renew-self", {}, token=root)
        fixed, _ = await api.create(root, renewable=False)
        with pytest.raises(InvalidRequest, match="not renewable"):
            await api.call("update", "renew-self", {}, token=fixed)

    run(scenario())


def test_revoke_takes_the_children_along_and_is_idempotent() -> None:
    async def scenario() -> None:
        api, root = await setup()
        parent, _ = await api.create(root)
        child, _ = await api.create(parent)
        assert await api.call("update", "revoke", {"token": parent}, token=root) is None
        for gone in (parent, child):
            with pytest.raises(PermissionDenied):
                await api.call("update", "lookup", {"token": gone}, token=root)
        assert await api.call("update", "revoke", {"token": parent}, token=root) is None
        with pytest.raises(InvalidRequest, match="missing token ID"):
            await api.call("update", "revoke", {}, token=root)

    run(scenario())


def test_revoke_self_and_revoke_accessor() -> None:
    async def scenario() -> None:
        api, root = await setup()
        mine, _ = await api.create(root)
        assert await api.call("update", "revoke-self", token=mine) is None
        assert not await api.h.alive(mine)
        other, auth = await api.create(root)
        assert await api.call("update", "revoke-accessor", {"accessor": auth.accessor}, token=root) is None
        assert not await api.h.alive(other)
        assert await api.call("update", "revoke-accessor", {"accessor": auth.accessor}, token=root) is None
        with pytest.raises(InvalidRequest, match="missing accessor"):
            await api.call("update", "revoke-accessor", {}, token=root)

    run(scenario())


def test_revoke_orphan_needs_sudo_and_leaves_the_children_alive() -> None:
    async def scenario() -> None:
        api, root = await setup()
        parent = await token_with(api, root, "dev")
        child, _ = await api.create(parent)
        assert "revoke-orphan" in api.backend.sudo_paths()
        with pytest.raises(InvalidRequest, match="sudo"):
            await api.call("update", "revoke-orphan", {"token": parent}, token=parent)
        assert await api.call("update", "revoke-orphan", {"token": parent}, token=root) is None
        assert not await api.h.alive(parent)
        data = (await api.call("read", "lookup-self", token=child)).data
        assert data["orphan"] is True
        with pytest.raises(InvalidRequest, match="not found"):
            await api.call("update", "revoke-orphan", {"token": parent}, token=root)

    run(scenario())


def test_listing_accessors_needs_sudo() -> None:
    async def scenario() -> None:
        api, root = await setup()
        dev = await token_with(api, root, "dev")
        assert any(re.fullmatch(p, "accessors/") for p in api.backend.sudo_paths())
        with pytest.raises(PermissionDenied):
            await api.call("list", "accessors/", token=dev)
        resp = await api.call("list", "accessors/", token=root)
        assert len(resp.data["keys"]) == 2

    run(scenario())


def test_tidy_reports_what_it_did() -> None:
    async def scenario() -> None:
        api, root = await setup()
        await api.create(root, ttl="1m")
        api.h.clock.advance(61)
        resp = await api.call("update", "tidy", token=root)
        assert resp.data["tokens_revoked"] == 1
        assert resp.data["tokens_scanned"] == 2

    run(scenario())


def test_status_codes_of_backend_errors_follow_the_error_tree() -> None:
    async def scenario() -> None:
        api, root = await setup()
        with pytest.raises(StrongroomError) as unknown_path:
            await api.call("update", "no-such-path", token=root)
        assert unknown_path.value.status == 404
        with pytest.raises(StrongroomError) as wrong_op:
            await api.call("delete", "create", token=root)
        assert wrong_op.value.status == 405

    run(scenario())


def test_default_ttl_and_max_ttl_come_from_the_mount() -> None:
    async def scenario() -> None:
        api, root = await setup()
        _, auth = await api.create(root, policies=["dev"])
        assert auth.ttl == DEFAULT_TTL
        resp = await api.call("update", "create", {"ttl": "100h", "policies": ["dev"]}, token=root)
        assert resp.auth.ttl == MAX_TTL
        assert resp.warnings

    run(scenario())


def test_role_reads_missing_role_as_404() -> None:
    async def scenario() -> None:
        api, root = await setup()
        with pytest.raises(NotFound):
            await api.call("read", "roles/nope", token=root)

    run(scenario())


class TickingClock(ManualClock):
    """Moves 0.3 s every time it is read, as real time does between the steps of a request."""

    def __call__(self) -> float:
        self.advance(0.3)
        return self.now


def test_create_and_renew_report_the_full_ttl_even_when_time_passes_while_answering() -> None:
    async def scenario() -> None:
        api = Api(harness(clock=TickingClock()))
        root, _ = await api.h.store.create_root()
        resp = await api.call("update", "create", {"ttl": "1h"}, token=root)
        assert resp.auth.ttl == 3600
        renewed = await api.call("update", "renew-self", {"increment": "90m"}, token=resp.auth.client_token)
        assert renewed.auth.ttl == 5400

    run(scenario())
