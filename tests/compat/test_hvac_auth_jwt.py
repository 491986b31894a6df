"""hvac's JWT auth API (``client.auth.jwt``) against a real dev server process.

Logins are real: the server fetches the JWKS and the OIDC discovery document
over HTTP from an issuer the test runs on 127.0.0.1, and verifies RS256/ES256
tokens the test signs. The server process is started with
``STRONGROOM_JWT_AUTH_ALLOW_LOOPBACK=true`` (the operator switch that lets
key-source URLs be loopback addresses); the session's shared dev server,
started without it, refuses to fetch from the same loopback issuer.
"""

from __future__ import annotations

from collections.abc import Iterator

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, unique
from tests.support.server import ROOT_TOKEN, ServerProcess, dev_server_process, running
from tests.unit.auth.jwt.jwt_auth_harness import AUDIENCE, Issuer, issuer_server

LOOPBACK_SWITCH = "STRONGROOM_JWT_AUTH_ALLOW_LOOPBACK"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    with issuer_server(found):
        yield found


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A dev server allowed to fetch keys from a loopback issuer."""
    server = dev_server_process(tmp_path_factory.mktemp("jwt-dev"))
    server.env[LOOPBACK_SWITCH] = "true"
    with running(server):
        yield server


@pytest.fixture(scope="module")
def jwt_root(jwt_server: ServerProcess) -> hvac.Client:
    return client(jwt_server.address, ROOT_TOKEN)


@pytest.fixture(params=["jwks", "discovery"])
def mount(request: pytest.FixtureRequest, jwt_root: hvac.Client, issuer: Issuer) -> str:
    path = unique("jwt")
    jwt_root.sys.enable_auth_method("jwt", path=path)
    if request.param == "jwks":
        jwt_root.auth.jwt.configure(jwks_url=issuer.url + "/keys", bound_issuer=issuer.url, path=path)
    else:
        jwt_root.auth.jwt.configure(oidc_discovery_url=issuer.url, path=path)
    return path


def _create_role(root: hvac.Client, mount: str, **extra: object) -> None:
    root.auth.jwt.create_role("ci", user_claim="sub", allowed_redirect_uris=[], bound_audiences=[AUDIENCE],
                              bound_claims={"repository": "acme/*"}, bound_claims_type="glob",
                              claim_mappings={"actor": "actor"}, path=mount, **extra)


def test_config_reads_back(jwt_root: hvac.Client, mount: str, issuer: Issuer) -> None:
    data = jwt_root.auth.jwt.read_config(path=mount)["data"]
    assert (data["jwks_url"], data["oidc_discovery_url"]) in ((issuer.url + "/keys", ""), ("", issuer.url))


def test_roles_are_created_read_listed_and_deleted(jwt_root: hvac.Client, mount: str) -> None:
    _create_role(jwt_root, mount, token_policies=["deploy"], token_ttl="15m")
    role = jwt_root.auth.jwt.read_role("ci", path=mount)["data"]
    assert role["bound_audiences"] == [AUDIENCE]
    assert role["bound_claims"] == {"repository": ["acme/*"]}
    assert role["bound_claims_type"] == "glob"
    assert role["token_policies"] == ["deploy"]
    assert role["token_ttl"] == 900
    assert jwt_root.auth.jwt.list_roles(path=mount)["data"]["keys"] == ["ci"]
    jwt_root.auth.jwt.delete_role("ci", path=mount)
    with pytest.raises(hvac.exceptions.InvalidPath):
        jwt_root.auth.jwt.read_role("ci", path=mount)


def test_an_oidc_role_is_refused_as_not_supported_yet(jwt_root: hvac.Client, mount: str) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest, match="not supported yet"):
        jwt_root.auth.jwt.create_role("people", user_claim="email", allowed_redirect_uris=["https://x/cb"],
                                      role_type="oidc", path=mount)


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1"])
def test_a_pipeline_logs_in_with_its_oidc_token_and_reads_its_secret(
        jwt_root: hvac.Client, mount: str, issuer: Issuer, kid: str) -> None:
    policy = unique("web-deploy")
    jwt_root.sys.create_or_update_policy(policy, 'path "secret/data/web/*" { capabilities = ["read"] }')
    jwt_root.secrets.kv.v2.create_or_update_secret("web/deploy-key", secret={"key": "k3y"})
    _create_role(jwt_root, mount, token_policies=[policy], token_ttl="20m")
    pipeline = client(jwt_root.url)
    auth = pipeline.auth.jwt.jwt_login("ci", issuer.token(kid=kid), path=mount)["auth"]
    assert sorted(auth["policies"]) == sorted(["default", policy])
    assert auth["lease_duration"] == 1200
    assert auth["metadata"] == {"actor": "alice", "role": "ci"}
    assert pipeline.is_authenticated()
    read = pipeline.secrets.kv.v2.read_secret_version("web/deploy-key", raise_on_deleted_version=True)
    assert read["data"]["data"] == {"key": "k3y"}
    with pytest.raises(hvac.exceptions.Forbidden):
        pipeline.secrets.kv.v2.read_secret_version("billing/db", raise_on_deleted_version=True)


def test_refused_logins_are_403_and_unknown_roles_400(jwt_root: hvac.Client, mount: str, issuer: Issuer) -> None:
    _create_role(jwt_root, mount)
    head, _, signature = issuer.token().split(".")
    tampered = ".".join([head, issuer.token(sub="repo:evil").split(".")[1], signature])
    for jwt in (issuer.token(aud="https://other"), issuer.token(repository="evil/web"), issuer.token(exp=1),
                issuer.token(iss="https://evil.example"), tampered, "not-a-jwt",
                issuer.token(header={"alg": "none"})):
        pipeline = client(jwt_root.url)
        with pytest.raises(hvac.exceptions.Forbidden):
            pipeline.auth.jwt.jwt_login("ci", jwt, path=mount)
        assert not pipeline.is_authenticated()
    with pytest.raises(hvac.exceptions.InvalidRequest, match="could not be found"):
        client(jwt_root.url).auth.jwt.jwt_login("nobody", issuer.token(), path=mount)


def test_the_oidc_type_serves_jwt_logins_too(jwt_root: hvac.Client, issuer: Issuer) -> None:
    path = unique("oidc")
    jwt_root.sys.enable_auth_method("oidc", path=path)
    jwt_root.auth.oidc.configure(oidc_discovery_url=issuer.url, path=path)
    _create_role(jwt_root, path)
    assert client(jwt_root.url).auth.jwt.jwt_login("ci", issuer.token(), path=path)["auth"]["client_token"]


def test_without_the_operator_switch_a_loopback_issuer_is_not_fetched(root: hvac.Client, issuer: Issuer) -> None:
    path = unique("jwt")
    root.sys.enable_auth_method("jwt", path=path)
    before = len(issuer.fetches)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="loopback"):
        root.auth.jwt.configure(jwks_url=issuer.url + "/keys", path=path)
    assert len(issuer.fetches) == before


def test_no_token_reaches_the_server_log_on_success_or_refusal(jwt_server: ServerProcess, jwt_root: hvac.Client,
                                                               mount: str, issuer: Issuer) -> None:
    _create_role(jwt_root, mount)
    good, stale, foreign = issuer.token(kid="ec-1"), issuer.token(exp=1), issuer.token(repository="evil/x")
    client(jwt_root.url).auth.jwt.jwt_login("ci", good, path=mount)
    for jwt in (stale, foreign):
        with pytest.raises(hvac.exceptions.Forbidden) as refused:
            client(jwt_root.url).auth.jwt.jwt_login("ci", jwt, path=mount)
        assert jwt.split(".")[2] not in str(refused.value)
        assert "evil/x" not in str(refused.value)
    log = jwt_server.log_text()
    for secret in (good.split(".")[2], stale.split(".")[2], foreign.split(".")[2], good.split(".")[1]):
        assert secret not in log
