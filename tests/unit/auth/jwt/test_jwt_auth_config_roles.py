"""JWT auth config and roles: Vault's fields, validation on write, reads that never change what was written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.unit.auth.jwt.jwt_auth_harness import (
    AUDIENCE,
    D,
    Issuer,
    L,
    Mount,
    R,
    U,
    ci_role,
    issuer_server,
    public_pem,
    run,
)

from strongroom.errors import InvalidRequest, NotFound


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    with issuer_server(found):
        yield found


def test_config_with_public_keys_reads_back_as_written() -> None:
    issuer, mount = Issuer(), Mount()

    async def scenario() -> dict[str, Any]:
        await mount.call(U, "config", {"jwt_validation_pubkeys": [public_pem(issuer.keys["rsa-1"])],
                                       "bound_issuer": "https://ci.example", "jwt_supported_algs": ["RS256"],
                                       "default_role": "ci"})
        return await mount.data(R, "config")

    data = run(scenario())
    assert data["jwt_validation_pubkeys"] == [public_pem(issuer.keys["rsa-1"]).strip()]
    assert data["bound_issuer"] == "https://ci.example"
    assert data["jwt_supported_algs"] == ["RS256"]
    assert data["default_role"] == "ci"
    assert data["jwks_url"] == ""
    assert data["oidc_discovery_url"] == ""


def test_config_with_discovery_fetches_and_validates_the_document(issuer: Issuer) -> None:
    mount = Mount()
    run(mount.call(U, "config", {"oidc_discovery_url": issuer.url}))
    assert issuer.fetches == ["/.well-known/openid-configuration", "/keys"]
    assert run(mount.data(R, "config"))["oidc_discovery_url"] == issuer.url


def test_config_whose_discovery_document_names_another_issuer_is_refused(issuer: Issuer) -> None:
    issuer.claimed_issuer = "https://evil.example"
    with pytest.raises(InvalidRequest, match="issuer does not match"):
        run(Mount().call(U, "config", {"oidc_discovery_url": issuer.url}))


def test_config_with_an_unreachable_jwks_is_refused_with_a_clear_400(issuer: Issuer) -> None:
    issuer.misbehaviour = "500"
    with pytest.raises(InvalidRequest, match=r"JWKS at '127\.0\.0\.1' answered HTTP 500"):
        run(Mount().call(U, "config", {"jwks_url": issuer.url + "/keys"}))


def test_config_pointing_at_loopback_is_refused_without_the_operator_switch(issuer: Issuer) -> None:
    with pytest.raises(InvalidRequest, match="loopback"):
        run(Mount(allow_loopback=False).call(U, "config", {"jwks_url": issuer.url + "/keys"}))
    assert issuer.fetches == []


@pytest.mark.parametrize(("config", "message"), [
    ({}, "exactly one of"),
    ({"jwks_url": "https://a.example/keys", "oidc_discovery_url": "https://a.example"}, "exactly one of"),
    ({"jwks_url": "file:///etc/passwd"}, "scheme"),
    ({"jwks_url": "https://user:pw@a.example/keys"}, "user info"),
    ({"jwt_validation_pubkeys": ["not a key"]}, "not a PEM public key"),
    ({"jwt_validation_pubkeys": ["x"], "jwt_supported_algs": ["HS256"]}, "not a PEM|unsupported algorithm"),
    ({"oidc_discovery_url": "https://a.example", "oidc_discovery_ca_pem": "garbage"}, "not a PEM certificate"),
])
def test_invalid_config_is_refused_with_400(config: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        run(Mount().call(U, "config", config))


@pytest.mark.parametrize("alg", ["none", "HS256", "HS512", "PS256"])
def test_supported_algorithms_cannot_include_none_or_hmac(alg: str) -> None:
    pem = public_pem(Issuer().keys["rsa-1"])
    with pytest.raises(InvalidRequest, match="unsupported algorithm"):
        run(Mount().call(U, "config", {"jwt_validation_pubkeys": [pem], "jwt_supported_algs": [alg]}))


def test_role_reads_back_with_vaults_fields_and_lists() -> None:
    mount = Mount()

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        await mount.call(U, "role/ci", ci_role(bound_claims={"run_number": 42, "ref": ["refs/heads/main", True]},
                                               bound_claims_type="glob", clock_skew_leeway=-1))
        await mount.call(U, "role/other", ci_role())
        return await mount.data(R, "role/ci"), await mount.data(L, "role/")

    role, listing = run(scenario())
    assert role["bound_audiences"] == [AUDIENCE]
    assert role["bound_claims"] == {"run_number": ["42"], "ref": ["refs/heads/main", "true"]}
    assert role["bound_claims_type"] == "glob"
    assert role["claim_mappings"] == {"actor": "actor", "ref": "ref"}
    assert role["user_claim"] == "sub"
    assert role["groups_claim"] == "groups"
    assert role["clock_skew_leeway"] == -1
    assert role["token_policies"] == ["deploy"]
    assert role["token_ttl"] == 600
    assert listing["keys"] == ["ci", "other"]


def test_deleted_role_is_gone() -> None:
    mount = Mount()

    async def scenario() -> Any:
        await mount.call(U, "role/ci", ci_role())
        await mount.call(D, "role/ci")
        return await mount.call(R, "role/ci")

    with pytest.raises(NotFound):
        run(scenario())


@pytest.mark.parametrize(("changes", "message"), [
    ({"role_type": "oidc"}, "not supported yet"),
    ({"role_type": "saml"}, "role_type must be"),
    ({"user_claim": None}, "user_claim is required"),
    ({"bound_audiences": None, "bound_claims": None}, "at least one bound constraint"),
    ({"bound_claims_type": "regex"}, "bound_claims_type"),
    ({"bound_claims": {"repository": {"nested": "x"}}}, "must be a string"),
    ({"bound_claims": {"repository": 1.5}}, "must be a string"),
    ({"bound_claims": {"repository": []}}, "empty or too large"),
    ({"claim_mappings": {"a": "same", "b": "same"}}, "unique"),
    ({"claim_mappings": {"a": "role"}}, "reserved"),
    ({"clock_skew_leeway": -2}, "leeway"),
    ({"token_policies": ["Root "]}, "root policy"),
    ({"token_type": "batch"}, "batch"),
])
def test_invalid_roles_are_refused_with_400(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        run(Mount().call(U, "role/ci", ci_role(**changes)))


def test_a_role_bound_only_by_cidrs_is_accepted() -> None:
    mount = Mount()
    run(mount.call(U, "role/ci", ci_role(bound_audiences=None, bound_claims=None,
                                         token_bound_cidrs=["10.0.0.0/8"])))
    assert run(mount.data(R, "role/ci"))["token_bound_cidrs"] == ["10.0.0.0/8"]


def test_invalid_role_names_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="invalid role name"):
        run(Mount().call(U, "role/..", ci_role()))


def test_a_discovery_document_naming_a_metadata_address_as_jwks_uri_is_refused(issuer: Issuer) -> None:
    issuer.jwks_uri = "http://169.254.169.254/keys"
    with pytest.raises(InvalidRequest, match="cloud metadata address"):
        run(Mount().call(U, "config", {"oidc_discovery_url": issuer.url}))
    issuer.jwks_uri = "file:///etc/passwd"
    with pytest.raises(InvalidRequest, match="jwks_uri is not an http"):
        run(Mount().call(U, "config", {"oidc_discovery_url": issuer.url}))


def test_redirects_are_not_followed(issuer: Issuer) -> None:
    issuer.misbehaviour = "redirect"
    with pytest.raises(InvalidRequest, match="answered HTTP 302"):
        run(Mount().call(U, "config", {"jwks_url": issuer.url + "/keys"}))
    assert issuer.fetches == ["/keys"]


def test_an_https_issuer_is_trusted_through_its_configured_ca_only() -> None:
    issuer, ca = Issuer(), []
    with issuer_server(issuer, tls_ca=ca):
        mount = Mount()
        with pytest.raises(InvalidRequest, match="TLS handshake failed"):
            run(mount.call(U, "config", {"oidc_discovery_url": issuer.url}))
        run(mount.call(U, "config", {"oidc_discovery_url": issuer.url, "oidc_discovery_ca_pem": ca[0]}))
        run(mount.call(U, "role/ci", ci_role()))
        assert run(mount.login(issuer.token())).auth is not None
