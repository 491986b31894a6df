"""``sign/:role`` and ``sign-verbatim``: callers' CSRs, proof of possession, the role's key and name rules."""

from __future__ import annotations

import base64
import textwrap

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from pki_support import LIST, UPDATE, load_cert, make_csr

from strongroom.errors import InvalidRequest


def test_a_signed_csr_verifies_and_keeps_the_callers_key(rooted, openssl) -> None:
    csr, key = make_csr("www.example.com", dns=["api.example.com"])
    data = rooted.ok(UPDATE, "sign/web", {"csr": csr, "common_name": "ignored.example.com"})
    assert "private_key" not in data
    cert = load_cert(data["certificate"])
    assert cert.public_key() == key.public_key()
    assert openssl.verify(data["certificate"], rooted.ca_pem()).returncode == 0
    text = openssl.x509_text(data["certificate"])
    assert "CN = www.example.com" in text  # use_csr_common_name defaults to true
    assert "DNS:api.example.com" in text
    assert "DNS:www.example.com" in text
    assert data["serial_number"] in rooted.ok(LIST, "certs")["keys"]


def test_a_csr_without_a_common_name_takes_the_requests(rooted) -> None:
    csr, _ = make_csr("", dns=["api.example.com"])
    cert = load_cert(rooted.ok(UPDATE, "sign/web", {"csr": csr, "common_name": "www.example.com"})["certificate"])
    assert cert.subject.rfc4514_string() == "CN=www.example.com"
    error = rooted.fail(UPDATE, "sign/web", {"csr": csr}, InvalidRequest)
    assert "common_name field is required" in error.message


def test_use_csr_common_name_false_takes_the_request_common_name(rooted) -> None:
    rooted.role("req-cn", use_csr_common_name=False, use_csr_sans=False)
    csr, _ = make_csr("csr.example.com", dns=["csr-san.example.com"])
    cert = load_cert(rooted.ok(UPDATE, "sign/req-cn", {"csr": csr, "common_name": "www.example.com"})["certificate"])
    assert cert.subject.rfc4514_string() == "CN=www.example.com"
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["www.example.com"]


def test_a_csr_for_a_forbidden_domain_is_400_and_nothing_is_stored(rooted) -> None:
    before = rooted.contents()
    for common_name, dns in (("www.evil.org", []), ("www.example.com", ["www.evil.org"])):
        csr, _ = make_csr(common_name, dns=dns)
        error = rooted.fail(UPDATE, "sign/web", {"csr": csr}, InvalidRequest)
        assert error.message == "a requested name is not allowed by this role"
    assert rooted.contents() == before


def test_a_malformed_csr_is_400(rooted) -> None:
    before = rooted.contents()
    for bad in ("", "not a csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
                rooted.ca_pem()):
        error = rooted.fail(UPDATE, "sign/web", {"csr": bad}, InvalidRequest)
        assert "csr" in error.message
        assert "AAAA" not in error.message
    assert rooted.contents() == before


def test_a_csr_whose_signature_does_not_verify_is_400(rooted) -> None:
    csr, _ = make_csr("www.example.com")
    parsed = x509.load_pem_x509_csr(csr.encode())
    der = bytearray(parsed.public_bytes(Encoding.DER))
    der[-3] ^= 0x01  # inside the signature value: the CSR still parses, the proof of possession fails
    body = "\n".join(textwrap.wrap(base64.b64encode(bytes(der)).decode(), 64))
    tampered = f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"
    assert not x509.load_pem_x509_csr(tampered.encode()).is_signature_valid
    before = rooted.contents()
    error = rooted.fail(UPDATE, "sign/web", {"csr": tampered}, InvalidRequest)
    assert error.message == "the csr's signature is invalid: it was not signed by the key it carries"
    assert rooted.contents() == before


@pytest.mark.parametrize(
    ("role_fields", "key", "wording"),
    [
        ({"key_type": "ec"}, lambda: rsa.generate_private_key(65537, 2048), "role requires keys of type ec"),
        ({"key_type": "ec", "key_bits": 256}, lambda: ec.generate_private_key(ec.SECP384R1()), "requires 256 bits"),
        ({"key_type": "rsa", "key_bits": 3072}, lambda: rsa.generate_private_key(65537, 2048), "too small"),
        ({"key_type": "any"}, lambda: rsa.generate_private_key(65537, 1024), "too small"),
        ({"key_type": "ec"}, lambda: ec.generate_private_key(ec.SECP256K1()), "unsupported elliptic curve"),
    ],
)
def test_csr_keys_must_fit_the_role(rooted, role_fields, key, wording) -> None:
    rooted.role("k", **role_fields)
    csr, _ = make_csr("www.example.com", key=key())
    before = rooted.contents()
    error = rooted.fail(UPDATE, "sign/k", {"csr": csr}, InvalidRequest)
    assert wording in error.message
    assert rooted.contents() == before


@pytest.mark.parametrize("key", [ed25519.Ed25519PrivateKey.generate,
                                 lambda: ec.generate_private_key(ec.SECP384R1()),
                                 lambda: rsa.generate_private_key(65537, 2048)])
def test_key_type_any_signs_every_family(rooted, openssl, key) -> None:
    rooted.role("any", key_type="any")
    csr, _ = make_csr("www.example.com", key=key())
    data = rooted.ok(UPDATE, "sign/any", {"csr": csr})
    assert openssl.verify(data["certificate"], rooted.ca_pem()).returncode == 0


def test_sign_verbatim_keeps_the_csrs_names_and_usages(rooted, openssl) -> None:
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    csr, key = make_csr("anything.internal", dns=["other.internal"], usage=usage,
                        eku=x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]))
    data = rooted.ok(UPDATE, "sign-verbatim", {"csr": csr, "ttl": "1h"})
    text = openssl.x509_text(data["certificate"])
    assert "CN = anything.internal" in text
    assert "DNS:other.internal" in text
    assert "Digital Signature, Non Repudiation" in text
    assert "Code Signing" in text
    assert openssl.verify(data["certificate"], rooted.ca_pem()).returncode == 0
    assert load_cert(data["certificate"]).public_key() == key.public_key()


def test_sign_verbatim_defaults_usages_when_the_csr_has_none(rooted, openssl) -> None:
    csr, _ = make_csr("anything.internal")
    data = rooted.ok(UPDATE, "sign-verbatim", {"csr": csr, "ext_key_usage": ["ServerAuth"]})
    text = openssl.x509_text(data["certificate"])
    assert "Digital Signature, Key Encipherment, Key Agreement" in text
    assert "TLS Web Server Authentication" in text


def test_sign_verbatim_refuses_a_ca_csr(rooted) -> None:
    csr, _ = make_csr("sub-ca", ca=x509.BasicConstraints(ca=True, path_length=None))
    before = rooted.contents()
    error = rooted.fail(UPDATE, "sign-verbatim", {"csr": csr}, InvalidRequest)
    assert "does not issue CA certificates" in error.message
    assert rooted.contents() == before


def test_sign_verbatim_with_a_role_takes_its_lifetime_and_storage(rooted) -> None:
    rooted.role("verbatim", ttl="2h", max_ttl="3h", no_store=True)
    csr, _ = make_csr("anything.internal")
    before = rooted.contents()
    data = rooted.ok(UPDATE, "sign-verbatim/verbatim", {"csr": csr})
    cert = load_cert(data["certificate"])
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() == 2 * 3600 + 30
    assert rooted.contents() == before
    rooted.fail(UPDATE, "sign-verbatim/verbatim", {"csr": csr, "ttl": "4h"}, InvalidRequest)
