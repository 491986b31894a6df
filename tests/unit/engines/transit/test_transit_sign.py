"""sign, verify and hmac: options, versions, batches and refusals."""

from __future__ import annotations

import base64
import hashlib

import pytest
from transit_harness import Transit, b64

from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import Operation

SIGNING_TYPES = ["ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048"]


def sign(transit: Transit, name: str, data: bytes, path_suffix: str = "", **fields: object) -> dict[str, object]:
    return transit.write(f"sign/{name}{path_suffix}", {"input": b64(data), **fields})


def verify(
    transit: Transit, name: str, data: bytes, signature: object, path_suffix: str = "", **fields: object
) -> bool:
    answer = transit.write(f"verify/{name}{path_suffix}", {"input": b64(data), "signature": signature, **fields})
    return bool(answer["valid"])


@pytest.mark.parametrize("key_type", SIGNING_TYPES)
def test_a_signature_verifies_and_a_changed_input_does_not(transit: Transit, key_type: str) -> None:
    transit.create("k", type=key_type)
    answer = sign(transit, "k", b"message")
    assert set(answer) == {"signature", "key_version"}
    assert verify(transit, "k", b"message", answer["signature"])
    assert not verify(transit, "k", b"messagE", answer["signature"])


@pytest.mark.parametrize("algorithm", ["sha1", "sha2-224", "sha2-256", "sha2-384", "sha2-512", "sha3-224",
                                       "sha3-256", "sha3-384", "sha3-512"])
@pytest.mark.parametrize("signature_algorithm", ["pss", "pkcs1v15"])
def test_rsa_signs_with_every_hash_and_both_paddings(
    transit: Transit, algorithm: str, signature_algorithm: str
) -> None:
    transit.create("k", type="rsa-2048")
    options = {"signature_algorithm": signature_algorithm}
    signature = sign(transit, "k", b"m", f"/{algorithm}", **options)["signature"]
    assert verify(transit, "k", b"m", signature, f"/{algorithm}", **options)
    other = "sha2-256" if algorithm != "sha2-256" else "sha2-512"
    assert not verify(transit, "k", b"m", signature, f"/{other}", **options)


def test_the_hash_in_the_url_wins_over_the_body(transit: Transit) -> None:
    transit.create("k", type="ecdsa-p256")
    signature = sign(transit, "k", b"m", "/sha2-512", hash_algorithm="sha2-256")["signature"]
    assert verify(transit, "k", b"m", signature, hash_algorithm="sha2-512")
    assert not verify(transit, "k", b"m", signature, hash_algorithm="sha2-256")


def test_pss_and_pkcs1v15_signatures_are_not_interchangeable(transit: Transit) -> None:
    transit.create("k", type="rsa-2048")
    pss = sign(transit, "k", b"m")["signature"]
    assert not verify(transit, "k", b"m", pss, signature_algorithm="pkcs1v15")


@pytest.mark.parametrize(("salt", "verify_salt", "valid"), [
    ("auto", "auto", True), ("hash", "hash", True), ("20", "20", True), ("hash", "auto", True), ("20", "21", False),
])
def test_pss_salt_lengths(transit: Transit, salt: str, verify_salt: str, valid: bool) -> None:
    transit.create("k", type="rsa-2048")
    signature = sign(transit, "k", b"m", salt_length=salt)["signature"]
    assert verify(transit, "k", b"m", signature, salt_length=verify_salt) is valid


def test_a_bad_salt_length_is_400(transit: Transit) -> None:
    transit.create("k", type="rsa-2048")
    with pytest.raises(InvalidRequest, match="invalid salt_length"):
        sign(transit, "k", b"m", salt_length="lots")
    with pytest.raises(InvalidRequest, match="invalid salt_length"):
        sign(transit, "k", b"m", salt_length="4000")


def test_jws_marshalling_round_trips_and_differs_from_asn1(transit: Transit) -> None:
    transit.create("k", type="ecdsa-p256")
    jws = str(sign(transit, "k", b"m", marshaling_algorithm="jws")["signature"])
    assert verify(transit, "k", b"m", jws, marshaling_algorithm="jws")
    body = jws.split(":")[2]
    assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == 64  # r || s, 32 bytes each
    asn1 = str(sign(transit, "k", b"m")["signature"])
    assert base64.b64decode(asn1.split(":")[2])[0] == 0x30  # DER SEQUENCE
    assert verify(transit, "k", b"m", asn1)
    der_read_as_jws = "vault:v1:" + base64.urlsafe_b64encode(base64.b64decode(asn1.split(":")[2])).decode()
    assert not verify(transit, "k", b"m", der_read_as_jws, marshaling_algorithm="jws")


def test_prehashed_input_must_have_the_digest_length(transit: Transit) -> None:
    transit.create("k", type="rsa-2048")
    digest = hashlib.sha256(b"m").digest()
    signature = sign(transit, "k", digest, prehashed=True)["signature"]
    assert verify(transit, "k", b"m", signature)
    with pytest.raises(InvalidRequest, match="prehashed input does not have the length"):
        sign(transit, "k", digest[:20], prehashed=True)


def test_prehashed_ed25519_is_400(transit: Transit) -> None:
    transit.create("k", type="ed25519")
    with pytest.raises(InvalidRequest, match="prehashed input is not supported by ed25519"):
        sign(transit, "k", b"m", prehashed=True)


@pytest.mark.parametrize("key_type", ["aes256-gcm96", "hmac"])
def test_signing_with_a_key_that_cannot_sign_is_400(transit: Transit, key_type: str) -> None:
    transit.create("k", type=key_type)
    with pytest.raises(InvalidRequest, match="does not support signing"):
        sign(transit, "k", b"m")


@pytest.mark.parametrize(("fields", "message"), [
    ({"hash_algorithm": "md5"}, "unsupported hash algorithm"),
    ({"signature_algorithm": "raw"}, "unsupported signature_algorithm"),
    ({"marshaling_algorithm": "der"}, "unsupported marshaling_algorithm"),
])
def test_unknown_options_are_400(transit: Transit, fields: dict[str, str], message: str) -> None:
    transit.create("k", type="ecdsa-p256")
    with pytest.raises(InvalidRequest, match=message):
        sign(transit, "k", b"m", **fields)


def test_sign_and_verify_with_a_missing_key_are_400_in_vaults_words(transit: Transit) -> None:
    with pytest.raises(InvalidRequest, match="signing key not found"):
        sign(transit, "nothing", b"m")
    with pytest.raises(InvalidRequest, match="signature verification key not found"):
        verify(transit, "nothing", b"m", "vault:v1:AAAA")


def test_old_versions_sign_when_asked_and_verify_until_min_decryption_version(transit: Transit) -> None:
    transit.create("k", type="ed25519")
    old = sign(transit, "k", b"m")["signature"]
    transit.write("keys/k/rotate")
    new = sign(transit, "k", b"m")
    assert new["key_version"] == 2
    assert str(new["signature"]).startswith("vault:v2:")
    assert str(sign(transit, "k", b"m", key_version=1)["signature"]).startswith("vault:v1:")
    assert verify(transit, "k", b"m", old)
    transit.write("keys/k/config", {"min_decryption_version": 2})
    with pytest.raises(InvalidRequest, match="disallowed by policy \\(too old\\)"):
        verify(transit, "k", b"m", old)


def test_a_signature_for_another_version_does_not_verify(transit: Transit) -> None:
    transit.create("k", type="ed25519")
    transit.write("keys/k/rotate")
    v2 = str(sign(transit, "k", b"m")["signature"])
    assert not verify(transit, "k", b"m", v2.replace("vault:v2:", "vault:v1:"))
    with pytest.raises(InvalidRequest, match="has no version 3"):
        verify(transit, "k", b"m", v2.replace("vault:v2:", "vault:v3:"))


@pytest.mark.parametrize("signature", ["", "vault:v1", "v1:AAAA", "vault:v1:***"])
def test_malformed_signatures_are_400(transit: Transit, signature: str) -> None:
    transit.create("k", type="ed25519")
    with pytest.raises(InvalidRequest, match=r"supply exactly one|invalid signature"):
        verify(transit, "k", b"m", signature)


def test_derived_ed25519_needs_a_context_and_signs_per_context(transit: Transit) -> None:
    transit.create("k", type="ed25519", derived=True)
    with pytest.raises(InvalidRequest, match="missing 'context'"):
        sign(transit, "k", b"m")
    one = sign(transit, "k", b"m", context=b64(b"a"))
    two = sign(transit, "k", b"m", context=b64(b"b"))
    assert one["publickey"] != two["publickey"]
    assert sign(transit, "k", b"m", context=b64(b"a")) == one  # Ed25519 is deterministic
    assert verify(transit, "k", b"m", one["signature"], context=b64(b"a"))
    assert not verify(transit, "k", b"m", one["signature"], context=b64(b"b"))


def test_batch_sign_and_verify_answer_per_item(transit: Transit) -> None:
    transit.create("k", type="ecdsa-p256")
    items = [{"input": b64(b"one"), "reference": "1"}, {"input": b64(b"two")}, {}]
    response = transit.call(Operation.UPDATE, "sign/k", {"batch_input": items})
    assert response is not None
    assert response.status == 400
    assert response.data is not None
    results = response.data["batch_results"]
    assert results[2] == {"error": "missing input to sign", "reference": ""}
    checks = [
        {"input": b64(b"one"), "signature": results[0]["signature"], "reference": "a"},
        {"input": b64(b"one"), "signature": results[1]["signature"]},
        {"input": b64(b"one"), "signature": "vault:v1:%%%"},
    ]
    response = transit.call(Operation.UPDATE, "verify/k", {"batch_input": checks})
    assert response is not None
    assert response.data is not None
    verdicts = response.data["batch_results"]
    assert verdicts[0] == {"valid": True, "reference": "a"}
    assert verdicts[1] == {"valid": False, "reference": ""}
    assert verdicts[2]["valid"] is False
    assert verdicts[2]["error"].startswith("invalid signature")


def test_verify_batches_may_not_mix_signatures_and_hmacs(transit: Transit) -> None:
    transit.create("k", type="ed25519")
    items = [{"input": "AA==", "signature": "vault:v1:AAAA"}, {"input": "AA==", "hmac": "vault:v1:AAAA"}]
    with pytest.raises(InvalidRequest, match="consistently"):
        transit.write("verify/k", {"batch_input": items})


@pytest.mark.parametrize("key_type", ["hmac", "aes256-gcm96", "rsa-2048"])
def test_hmac_verifies_through_verify_with_the_same_algorithm(transit: Transit, key_type: str) -> None:
    transit.create("k", type=key_type)
    mac = transit.write("hmac/k/sha2-512", {"input": b64(b"m")})["hmac"]
    assert transit.write("verify/k/sha2-512", {"input": b64(b"m"), "hmac": mac})["valid"] is True
    assert transit.write("verify/k/sha2-256", {"input": b64(b"m"), "hmac": mac})["valid"] is False
    assert transit.write("verify/k/sha2-512", {"input": b64(b"n"), "hmac": mac})["valid"] is False


def test_hmac_uses_the_latest_version_and_old_hmacs_expire_with_min_decryption_version(transit: Transit) -> None:
    transit.create("k", type="hmac")
    old = transit.write("hmac/k", {"input": b64(b"m")})["hmac"]
    transit.write("keys/k/rotate")
    new = transit.write("hmac/k", {"input": b64(b"m")})["hmac"]
    assert old.startswith("vault:v1:")
    assert new.startswith("vault:v2:")
    assert old.split(":")[2] != new.split(":")[2]
    transit.write("keys/k/config", {"min_decryption_version": 2})
    with pytest.raises(InvalidRequest, match="too old"):
        transit.write("verify/k", {"input": b64(b"m"), "hmac": old})


def test_hmac_batch_with_an_empty_and_a_missing_input(transit: Transit) -> None:
    transit.create("k", type="hmac")
    items = [{"input": b64(b"m")}, {"input": ""}, {}]
    response = transit.call(Operation.UPDATE, "hmac/k", {"batch_input": items})
    assert response is not None
    assert response.data is not None
    results = response.data["batch_results"]
    assert results[0]["hmac"].startswith("vault:v1:")
    assert results[1]["hmac"].startswith("vault:v1:")
    assert results[2] == {"error": "missing input for HMAC", "reference": ""}


def test_hmac_with_sha1_or_an_unknown_algorithm_is_400(transit: Transit) -> None:
    transit.create("k", type="hmac")
    for algorithm in ("sha1", "md5"):
        with pytest.raises(InvalidRequest, match="unsupported hash algorithm"):
            transit.write(f"hmac/k/{algorithm}", {"input": b64(b"m")})
