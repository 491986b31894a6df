"""The shared JWS layer (``strongroom.sdk.jwt``) as the JWT method uses it: JWK decoding, EdDSA, ``crit``, fuzzing."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.auth.jwt.jwt_auth_harness import Issuer, b64, jwk

from strongroom.errors import InvalidRequest
from strongroom.sdk.jwt import ASYMMETRIC_ALGORITHMS, TokenRejected, key_from_jwk, parse, verify_signature


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1", "ed-1"])
def test_a_jwk_decodes_to_the_key_that_verifies_its_tokens(kid: str) -> None:
    issuer = Issuer()
    key = key_from_jwk(jwk(kid, issuer.keys[kid]))
    verify_signature(parse(issuer.token(kid=kid), ASYMMETRIC_ALGORITHMS), [key])


def test_a_p384_jwk_decodes() -> None:
    private = ec.generate_private_key(ec.SECP384R1())
    point = private.public_key().public_numbers()
    key = key_from_jwk({"kty": "EC", "crv": "P-384", "x": b64(point.x.to_bytes(48, "big")),
                        "y": b64(point.y.to_bytes(48, "big"))})
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp384r1"


def test_an_ed25519_key_does_not_verify_an_rs256_token_and_vice_versa() -> None:
    issuer = Issuer()
    ed = key_from_jwk(jwk("ed-1", issuer.keys["ed-1"]))
    rsa_key = key_from_jwk(jwk("rsa-1", issuer.keys["rsa-1"]))
    with pytest.raises(TokenRejected, match="signature could not be verified"):
        verify_signature(parse(issuer.token(kid="rsa-1"), ASYMMETRIC_ALGORITHMS), [ed])
    with pytest.raises(TokenRejected, match="signature could not be verified"):
        verify_signature(parse(issuer.token(kid="ed-1"), ASYMMETRIC_ALGORITHMS), [rsa_key])


def test_eddsa_is_refused_where_the_caller_does_not_accept_it() -> None:
    with pytest.raises(TokenRejected, match="algorithm is not accepted"):
        parse(Issuer().token(kid="ed-1"))  # the default set is RSA and ECDSA (the Kubernetes method's)


def test_no_caller_can_enable_none_or_hmac() -> None:
    head = b64(json.dumps({"alg": "HS256"}).encode())
    with pytest.raises(TokenRejected, match="algorithm is not accepted"):
        parse(f"{head}.{b64(b'{}')}.{b64(b'x')}", {"HS256", "none"})


def _small_rsa() -> dict[str, Any]:
    numbers = rsa.generate_private_key(65537, 1024).public_key().public_numbers()
    return {"kty": "RSA", "n": b64(numbers.n.to_bytes(128, "big")), "e": "AQAB"}


@pytest.mark.parametrize(("entry", "message"), [
    ({"kty": "oct", "k": "c2VjcmV0"}, "key type must be"),
    ({"kty": "RSA", "e": "AQAB"}, "'n' is missing"),
    ({"kty": "RSA", "n": "not base64!", "e": "AQAB"}, "'n' is missing or not base64url"),
    ({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}, "P-256 or P-384"),
    ({"kty": "EC", "crv": "P-256", "x": b64(b"\x01" * 31), "y": b64(b"\x01" * 32)}, "wrong length"),
    ({"kty": "EC", "crv": "P-256", "x": b64(b"\x01" * 32), "y": b64(b"\x01" * 32)}, "not hold a valid public key"),
    ({"kty": "OKP", "crv": "X25519", "x": b64(b"\x01" * 32)}, "key type must be"),
    ({"kty": "OKP", "crv": "Ed25519", "x": b64(b"\x01" * 31)}, "not hold a valid public key"),
])
def test_unusable_jwks_entries_are_refused(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        key_from_jwk(entry)


def test_rsa_jwks_below_2048_bits_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="at least 2048 bits"):
        key_from_jwk(_small_rsa())


def test_private_members_of_a_jwk_are_ignored() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    entry = jwk("k", private) | {"d": "private-part-never-read"}
    assert isinstance(key_from_jwk(entry), ed25519.Ed25519PublicKey)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.lists(st.text(alphabet="ABCDEFGHabcdefgh0123456789-_", max_size=40),
                                          min_size=1, max_size=5).map(".".join))
def test_arbitrary_input_is_a_token_rejection_never_a_crash(raw: str) -> None:
    with contextlib.suppress(TokenRejected):
        parse(raw, ASYMMETRIC_ALGORITHMS)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda children: st.lists(children, max_size=3)
                     | st.dictionaries(st.text(max_size=5), children, max_size=3), max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"kty": st.sampled_from(["RSA", "EC", "OKP", "oct", ""])},
                             optional={"crv": st.sampled_from(["P-256", "P-384", "Ed25519", "x"]),
                                       "n": _JSON, "e": _JSON, "x": _JSON, "y": _JSON}))
def test_arbitrary_jwks_entries_are_refused_with_400_never_a_crash(entry: dict[str, Any]) -> None:
    with contextlib.suppress(InvalidRequest):
        key_from_jwk(entry)
