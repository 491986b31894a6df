"""Every way a JWT login must fail (SECURITY.md: auth bypass by attacker-shaped input), each with a clear error.

Each case forges, swaps, removes or inflates one thing about an otherwise
valid login; the refusal must carry the expected status and reason and must
never echo the token or its signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.unit.auth.jwt.jwt_auth_harness import Issuer, Mount, U, b64, ci_role, issuer_server, public_pem, run

from strongroom.errors import InternalError, InvalidRequest, PermissionDenied, StrongroomError
from strongroom.sdk.jwt import MAX_TOKEN_BYTES

Forge = Callable[[Issuer], str]


def _hs256_with_public_key(issuer: Issuer) -> str:
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = b64(json.dumps(issuer.claims()).encode())
    secret = public_pem(issuer.keys["rsa-1"]).encode()
    return f"{head}.{body}." + b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())


def _unsigned(alg: str) -> Forge:
    def forge(issuer: Issuer) -> str:
        head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        return f"{head}.{b64(json.dumps(issuer.claims()).encode())}."
    return forge


def _tampered_signature(issuer: Issuer) -> str:
    head, body, signature = issuer.token().split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    return f"{head}.{body}.{b64(bytes(raw))}"


def _tampered_claims(issuer: Issuer) -> str:
    head, _, signature = issuer.token().split(".")
    return f"{head}.{b64(json.dumps(issuer.claims(repository='acme/web', sub='repo:evil')).encode())}.{signature}"


def _foreign_key_with_known_kid(issuer: Issuer) -> str:
    other = Issuer(keys={"rsa-1": rsa.generate_private_key(65537, 2048)})
    other.url = issuer.url
    return other.token()


def _claims(**overrides: Any) -> Forge:
    return lambda issuer: issuer.token(**overrides)


NOW = int(time.time())

# (case, forged token, expected error class, message fragment)
CASES: list[tuple[str, Forge, type[StrongroomError], str]] = [
    ("not a jwt", lambda i: "not-a-jwt", PermissionDenied, "malformed JWT"),
    ("two parts", lambda i: "e30.e30", PermissionDenied, "malformed JWT"),
    ("four parts", lambda i: i.token() + ".e30", PermissionDenied, "malformed JWT"),
    ("header not json", lambda i: b64(b"{{") + "." + i.token().split(".", 1)[1], PermissionDenied,
     "malformed JWT"),
    ("header is a list", lambda i: b64(b"[]") + "." + i.token().split(".", 1)[1], PermissionDenied,
     "malformed JWT"),
    ("padded base64", lambda i: i.token().replace(".", "=.", 1), PermissionDenied, "malformed JWT"),
    ("alg none", _unsigned("none"), PermissionDenied, "algorithm is not accepted"),
    ("alg None", _unsigned("None"), PermissionDenied, "algorithm is not accepted"),
    ("hs256 with the public key", _hs256_with_public_key, PermissionDenied, "algorithm is not accepted"),
    ("oversized", lambda i: i.token(padding="x" * MAX_TOKEN_BYTES), PermissionDenied, "too large"),
    ("crit header", lambda i: i.token(header={"alg": "RS256", "kid": "rsa-1", "crit": ["exp"]}),
     PermissionDenied, "critical header"),
    ("tampered signature", _tampered_signature, PermissionDenied, "signature could not be verified"),
    ("tampered claims", _tampered_claims, PermissionDenied, "signature could not be verified"),
    ("foreign key, known kid", _foreign_key_with_known_kid, PermissionDenied, "signature could not be verified"),
    ("kid not found", lambda i: i.token(header={"alg": "RS256", "kid": "nope"}), PermissionDenied,
     "kid) was not found"),
    ("alg swapped for the key", lambda i: i.token(kid="rsa-1", header={"alg": "ES256", "kid": "rsa-1"}),
     PermissionDenied, "kid) was not found"),
    ("wrong audience", _claims(aud="https://other.example"), PermissionDenied, "audience does not match"),
    ("no audience", _claims(aud=None), PermissionDenied, "audience does not match"),
    ("wrong issuer", _claims(iss="https://evil.example"), PermissionDenied, "issuer does not match"),
    ("expired", _claims(exp=NOW - 3600), PermissionDenied, "expired"),
    ("no exp", _claims(exp=None), PermissionDenied, "no 'exp' claim"),
    ("exp not a number", _claims(exp="tomorrow"), PermissionDenied, "is not a number"),
    ("not yet valid", _claims(nbf=NOW + 3600), PermissionDenied, "not valid yet"),
    ("issued in the future", _claims(iat=NOW + 3600), PermissionDenied, "issued in the future"),
    ("bound claim differs", _claims(repository="acme/web-evil"), PermissionDenied, "'repository' does not match"),
    ("bound claim missing", _claims(repository=None), PermissionDenied, "'repository' is missing"),
    ("bound claim is an object", _claims(repository={"name": "acme/web"}), PermissionDenied,
     "'repository' does not match"),
    ("bound claim is a list without it", _claims(repository=["acme/api", "acme/db"]), PermissionDenied,
     "'repository' does not match"),
    ("bound claim is a number", _claims(repository=7), PermissionDenied, "'repository' does not match"),
    ("bound claim is a float", _claims(run_number=42.0), PermissionDenied, "'run_number' does not match"),
    ("bound claim is a bool", _claims(run_number=True), PermissionDenied, "'run_number' does not match"),
    ("bound subject differs", _claims(sub="repo:acme/web:ref:refs/heads/evil"), PermissionDenied,
     "bound_subject"),
    ("user claim missing", _claims(sub=None), PermissionDenied, "bound_subject"),
    ("groups claim not strings", _claims(groups=[1, 2]), PermissionDenied, "not a list of strings"),
    ("groups claim missing", _claims(groups=None), PermissionDenied, "(groups_claim) is missing"),
]


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    with issuer_server(found):
        yield found


@pytest.fixture(scope="module")
def mount(issuer: Issuer) -> Mount:
    mount = Mount()
    run(mount.call(U, "config", {"jwks_url": issuer.url + "/keys", "bound_issuer": issuer.url}))
    run(mount.call(U, "role/ci", ci_role(bound_subject="repo:acme/web:ref:refs/heads/main",
                                         bound_claims={"repository": "acme/web", "run_number": 42})))
    return mount


def test_the_unforged_login_succeeds(issuer: Issuer, mount: Mount) -> None:
    assert run(mount.login(issuer.token())).auth is not None


@pytest.mark.parametrize(("case", "forge", "error", "message"), CASES, ids=[c[0] for c in CASES])
def test_forged_logins_are_refused_with_a_clear_error(issuer: Issuer, mount: Mount, case: str, forge: Forge,
                                                      error: type[StrongroomError], message: str) -> None:
    token = forge(issuer)
    with pytest.raises(error) as refused:
        run(mount.login(token))
    assert message in refused.value.message
    signature = token.rsplit(".", 1)[-1]
    assert len(signature) < 8 or signature not in refused.value.message
    assert token[:40] not in refused.value.message


def test_an_unknown_role_is_a_400_naming_the_role(issuer: Issuer, mount: Mount) -> None:
    with pytest.raises(InvalidRequest, match="role 'nope' could not be found"):
        run(mount.login(issuer.token(), role="nope"))


def test_missing_jwt_is_a_400(mount: Mount) -> None:
    with pytest.raises(InvalidRequest, match="missing jwt"):
        run(mount.call(U, "login", {"role": "ci"}))


def test_a_login_from_outside_the_roles_cidrs_is_refused(issuer: Issuer) -> None:
    mount = Mount()
    run(mount.call(U, "config", {"jwks_url": issuer.url + "/keys"}))
    run(mount.call(U, "role/ci", ci_role(token_bound_cidrs=["192.0.2.0/24"])))
    with pytest.raises(PermissionDenied):
        run(mount.login(issuer.token(), remote_addr="10.1.2.3"))
    assert run(mount.login(issuer.token(), remote_addr="192.0.2.7")).auth is not None


def test_an_algorithm_outside_jwt_supported_algs_is_refused(issuer: Issuer) -> None:
    mount = Mount()
    run(mount.call(U, "config", {"jwks_url": issuer.url + "/keys", "jwt_supported_algs": ["RS256"]}))
    run(mount.call(U, "role/ci", ci_role()))
    with pytest.raises(PermissionDenied, match=r"algorithm is not accepted \(RS256 only\)"):
        run(mount.login(issuer.token(kid="ec-1")))


@pytest.mark.parametrize(("kind", "pattern", "value"), [
    ("glob", "refs/heads/*", "refs/heads"),
    ("glob", "refs/heads/*", "refs/tags/v1"),
    ("glob", "*-main", "main"),
    ("glob", "a*b*c", "acb"),
    ("glob", "refs/heads/?ain", "refs/heads/main"),
    ("string", "refs/heads/*", "refs/heads/main"),
    ("string", "refs/heads/main", "refs/heads/main2"),
    ("string", "refs/heads/main", "REFS/HEADS/MAIN"),
])
def test_bound_claim_patterns_refuse_values_they_do_not_match(issuer: Issuer, kind: str, pattern: str,
                                                              value: str) -> None:
    mount = Mount()
    run(mount.call(U, "config", {"jwks_url": issuer.url + "/keys"}))
    run(mount.call(U, "role/ci", ci_role(bound_claims={"ref": pattern}, bound_claims_type=kind)))
    with pytest.raises(PermissionDenied, match="'ref' does not match"):
        run(mount.login(issuer.token(ref=value)))


@pytest.mark.parametrize(("how", "message"), [
    ("500", "answered HTTP 500"),
    ("not-json", "is not JSON"),
    ("huge", "is larger than"),
    ("no-keys", "holds no usable signing key"),
])
def test_a_jwks_that_cannot_be_fetched_at_login_is_a_clear_500(how: str, message: str) -> None:
    issuer = Issuer()
    with issuer_server(issuer):
        mount = Mount()
        run(mount.call(U, "config", {"jwks_url": issuer.url + "/keys"}))
        run(mount.call(U, "role/ci", ci_role()))
        issuer.misbehaviour = how
        mount.clock.now += 3601  # the cached JWKS has expired
        with pytest.raises(InternalError, match=message):
            run(mount.login(issuer.token(exp=int(mount.clock.now) + 60)))


def test_an_issuer_that_went_away_is_a_clear_500() -> None:
    issuer = Issuer()
    with issuer_server(issuer):
        mount = Mount()
        run(mount.call(U, "config", {"oidc_discovery_url": issuer.url}))
        run(mount.call(U, "role/ci", ci_role()))
    mount.clock.now += 3601
    with pytest.raises(InternalError, match="unreachable"):
        run(mount.login(issuer.token(exp=int(mount.clock.now) + 60)))


@pytest.mark.parametrize(("value", "message"), [
    (None, "(user_claim) is missing"),
    ({"nested": "x"}, "(user_claim) is not a usable string"),
    ("", "(user_claim) is not a usable string"),
    (1.5, "(user_claim) is not a usable string"),
])
def test_a_token_without_a_usable_user_claim_is_refused(issuer: Issuer, value: object, message: str) -> None:
    mount = Mount()
    run(mount.call(U, "config", {"jwks_url": issuer.url + "/keys"}))
    run(mount.call(U, "role/ci", ci_role(user_claim="actor")))
    with pytest.raises(PermissionDenied) as refused:
        run(mount.login(issuer.token(actor=value)))
    assert message in refused.value.message
