"""The JWS layer on its own: which algorithms and keys verify, and that no input crashes the parser."""

from __future__ import annotations

import json
import re

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st
from k8s_auth_harness import b64

from strongroom.auth.kubernetes.globs import glob_match
from strongroom.auth.kubernetes.jws import MAX_TOKEN_BYTES, TokenRejected, parse, verify_signature

RSA_KEY = rsa.generate_private_key(65537, 2048)
P256 = ec.generate_private_key(ec.SECP256R1())
P384 = ec.generate_private_key(ec.SECP384R1())
CLAIMS = {"sub": "system:serviceaccount:payments:api"}


def signed(alg: str, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, claims: dict[str, object] = CLAIMS) -> str:
    head = b64(json.dumps({"alg": alg}).encode()) + "." + b64(json.dumps(claims).encode())
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(head.encode(), padding.PKCS1v15(), digest)
    else:
        size = (key.curve.key_size + 7) // 8
        r, s = decode_dss_signature(key.sign(head.encode(), ec.ECDSA(digest)))
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return head + "." + b64(signature)


@pytest.mark.parametrize(("alg", "key"), [("RS256", RSA_KEY), ("RS384", RSA_KEY), ("RS512", RSA_KEY),
                                          ("ES256", P256), ("ES384", P384)])
def test_each_accepted_algorithm_verifies_with_its_key(alg: str, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
                                                       ) -> None:
    token = parse(signed(alg, key))
    assert token.claims == CLAIMS
    verify_signature(token, [P256.public_key(), P384.public_key(), RSA_KEY.public_key()])


@pytest.mark.parametrize(("alg", "key", "wrong"), [
    ("ES256", P256, P384.public_key()),          # right family, wrong curve
    ("ES256", P256, RSA_KEY.public_key()),       # wrong family
    ("RS256", RSA_KEY, P256.public_key()),
    ("RS256", RSA_KEY, rsa.generate_private_key(65537, 2048).public_key()),
])
def test_a_key_of_another_curve_family_or_owner_does_not_verify(alg: str, key: rsa.RSAPrivateKey |
                                                                ec.EllipticCurvePrivateKey, wrong: object) -> None:
    with pytest.raises(TokenRejected, match="signature could not be verified"):
        verify_signature(parse(signed(alg, key)), [wrong])  # type: ignore[list-item]


def test_an_es256_signature_of_the_wrong_length_is_refused_without_parsing_it() -> None:
    head, body, signature = signed("ES256", P256).split(".")
    with pytest.raises(TokenRejected):
        verify_signature(parse(f"{head}.{body}.{signature}AAAA"), [P256.public_key()])


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS256", "HS384", "HS512", "PS256", "EdDSA", "", None, 7])
def test_algorithms_outside_the_allow_list_are_refused_before_any_key(alg: object) -> None:
    token = b64(json.dumps({"alg": alg}).encode()) + "." + b64(b"{}") + ".c2ln"
    with pytest.raises(TokenRejected, match="algorithm is not accepted"):
        parse(token)


def test_a_token_just_over_the_size_limit_is_refused_unparsed() -> None:
    with pytest.raises(TokenRejected, match="too large"):
        parse("a" * (MAX_TOKEN_BYTES + 1))


def test_parsed_token_repr_shows_no_claims_or_signature() -> None:
    token = parse(signed("RS256", RSA_KEY))
    assert repr(token) == "ParsedToken(algorithm='RS256')"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.lists(st.text(alphabet="A-Za-z0-9_-=.+/ ", max_size=40), max_size=5)
       .map(".".join))
def test_arbitrary_input_is_refused_with_a_403_and_never_crashes_the_parser(raw: str) -> None:
    # Text like this never decodes to a header naming an accepted algorithm, so it is always refused.
    with pytest.raises(TokenRejected) as refused:
        parse(raw)
    assert refused.value.status == 403
    assert raw not in refused.value.message or len(raw) < 4


def _reference(pattern: str, value: str) -> bool:
    """Obviously correct: ``*`` becomes ``.*``, everything else literal, whole-string match."""
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), value, re.DOTALL) is not None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab*-?[", max_size=8), st.text(alphabet="ab-?[", max_size=10))
def test_globs_agree_with_a_reference_matcher(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) is _reference(pattern, value)
