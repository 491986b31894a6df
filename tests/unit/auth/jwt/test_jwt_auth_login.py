"""JWT logins that succeed: each key source, each algorithm, what the token gets; JWKS caching and kid refetch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.unit.auth.jwt.jwt_auth_harness import Issuer, Mount, U, ci_role, issuer_server, public_pem, run

from strongroom.errors import PermissionDenied


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    with issuer_server(found):
        yield found


def _mount(config: dict[str, object], **role: object) -> Mount:
    mount = Mount()
    run(mount.call(U, "config", config))
    run(mount.call(U, "role/ci", ci_role(**role)))
    return mount


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1", "ed-1"])
def test_login_with_a_jwks_key_returns_the_roles_token_settings(issuer: Issuer, kid: str) -> None:
    mount = _mount({"jwks_url": issuer.url + "/keys"})
    auth = run(mount.login(issuer.token(kid=kid))).auth
    assert auth is not None
    assert auth.policies == ["deploy"]
    assert auth.ttl == 600
    assert auth.alias_name == "repo:acme/web:ref:refs/heads/main"
    assert auth.metadata == {"actor": "alice", "ref": "refs/heads/main", "role": "ci"}
    assert auth.alias_metadata == auth.metadata
    assert auth.internal_data["groups"] == ["ci", "deployers"]


def test_login_through_oidc_discovery_checks_the_discovered_issuer(issuer: Issuer) -> None:
    mount = _mount({"oidc_discovery_url": issuer.url})
    assert run(mount.login(issuer.token())).auth is not None
    with pytest.raises(PermissionDenied, match="issuer does not match"):
        run(mount.login(issuer.token(iss="https://other.example")))


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1", "ed-1"])
def test_login_with_configured_public_keys(kid: str) -> None:
    issuer = Issuer()
    mount = _mount({"jwt_validation_pubkeys": [public_pem(k) for k in issuer.keys.values()]})
    assert run(mount.login(issuer.token(kid=kid))).auth is not None


def test_login_without_a_role_uses_the_default_role() -> None:
    issuer = Issuer()
    mount = _mount({"jwt_validation_pubkeys": [public_pem(issuer.keys["rsa-1"])], "default_role": "ci"})
    response = run(mount.call(U, "login", {"jwt": issuer.token()}))
    assert response is not None
    assert response.auth is not None
    assert response.auth.metadata["role"] == "ci"


def test_user_and_bound_claims_can_be_json_pointers_into_nested_claims() -> None:
    issuer = Issuer()
    mount = _mount({"jwt_validation_pubkeys": [public_pem(issuer.keys["rsa-1"])]},
                   user_claim="/project/path", user_claim_json_pointer=True, bound_claims={"/project/id": 7},
                   claim_mappings={"/project/id": "project_id"})
    auth = run(mount.login(issuer.token())).auth
    assert auth is not None
    assert auth.alias_name == "acme/web"
    assert auth.metadata["project_id"] == "7"


def test_user_claim_is_a_plain_key_unless_the_role_says_json_pointer() -> None:
    issuer = Issuer()
    mount = _mount({"jwt_validation_pubkeys": [public_pem(issuer.keys["rsa-1"])]}, user_claim="/project/path")
    with pytest.raises(PermissionDenied, match="user_claim"):
        run(mount.login(issuer.token()))
    auth = run(mount.login(issuer.token(**{"/project/path": "literal"}))).auth
    assert auth is not None
    assert auth.alias_name == "literal"


@pytest.mark.parametrize(("pattern", "value"), [
    ("refs/heads/*", "refs/heads/main"),
    ("*", "anything"),
    ("refs/*/ma*n", "refs/heads/main"),
    ("refs/heads/main", "refs/heads/main"),
    ("*main", "main"),
])
def test_glob_bound_claims_admit_matching_values(pattern: str, value: str) -> None:
    issuer = Issuer()
    mount = _mount({"jwt_validation_pubkeys": [public_pem(issuer.keys["rsa-1"])]},
                   bound_claims={"ref": pattern}, bound_claims_type="glob")
    assert run(mount.login(issuer.token(ref=value))).auth is not None


def test_a_list_claim_matches_when_one_element_matches_one_bound_value() -> None:
    issuer = Issuer()
    mount = _mount({"jwt_validation_pubkeys": [public_pem(issuer.keys["rsa-1"])]},
                   bound_claims={"groups": ["admins", "deployers"]})
    assert run(mount.login(issuer.token())).auth is not None


def test_the_jwks_is_cached_until_its_max_age(issuer: Issuer) -> None:
    issuer.cache_control = "public, max-age=120"
    mount = _mount({"jwks_url": issuer.url + "/keys"})
    fetched = len(issuer.fetches)
    run(mount.login(issuer.token()))
    run(mount.login(issuer.token(kid="ec-1")))
    assert len(issuer.fetches) == fetched  # the config write's fetch is reused
    mount.clock.now += 121
    run(mount.login(issuer.token(kid="ec-1", exp=int(mount.clock.now) + 60)))
    assert len(issuer.fetches) == fetched + 1


def test_a_rotated_key_is_found_by_refetching_the_jwks(issuer: Issuer) -> None:
    issuer.published = {"rsa-1"}
    mount = _mount({"jwks_url": issuer.url + "/keys"})
    issuer.published = {"rsa-1", "ec-1"}
    mount.clock.now += 61
    assert run(mount.login(issuer.token(kid="ec-1", exp=int(mount.clock.now) + 60))).auth is not None


def test_unknown_kids_refetch_the_jwks_at_most_once_a_minute(issuer: Issuer) -> None:
    mount = _mount({"jwks_url": issuer.url + "/keys"})
    fetched = len(issuer.fetches)
    for _ in range(5):
        with pytest.raises(PermissionDenied, match=r"key id \(kid\) was not found"):
            run(mount.login(issuer.token(header={"alg": "RS256", "kid": "made-up"})))
    assert len(issuer.fetches) == fetched
    mount.clock.now += 61
    for _ in range(5):
        with pytest.raises(PermissionDenied, match=r"key id \(kid\) was not found"):
            run(mount.login(issuer.token(header={"alg": "RS256", "kid": "made-up"},
                                         exp=int(mount.clock.now) + 60)))
    assert len(issuer.fetches) == fetched + 1


def test_a_token_without_kid_is_checked_against_every_key_of_its_algorithm(issuer: Issuer) -> None:
    mount = _mount({"jwks_url": issuer.url + "/keys"})
    assert run(mount.login(issuer.token(kid="ec-1", header={"alg": "ES256"}))).auth is not None


def test_leeways_admit_a_token_slightly_past_expiry_and_minus_one_admits_none() -> None:
    issuer = Issuer()
    config = {"jwt_validation_pubkeys": [public_pem(issuer.keys["rsa-1"])]}
    lenient = _mount(config)
    token = issuer.token(exp=int(lenient.clock.now) - 100)
    assert run(lenient.login(token)).auth is not None  # within 60 s skew + 150 s expiration leeway
    strict = _mount(config, clock_skew_leeway=-1, expiration_leeway=-1)
    with pytest.raises(PermissionDenied, match="expired"):
        run(strict.login(token))


def test_a_max_age_of_zero_still_caches_the_jwks_for_a_minute(issuer: Issuer) -> None:
    issuer.cache_control = "max-age=0"
    mount = _mount({"jwks_url": issuer.url + "/keys"})
    fetched = len(issuer.fetches)
    for _ in range(3):
        run(mount.login(issuer.token()))
    assert len(issuer.fetches) == fetched
    mount.clock.now += 60
    run(mount.login(issuer.token(exp=int(mount.clock.now) + 60)))
    assert len(issuer.fetches) == fetched + 1
