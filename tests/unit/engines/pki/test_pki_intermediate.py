"""An intermediate CA in a second mount: CSR, ``root/sign-intermediate``, ``intermediate/set-signed``,
and importing a CA bundle with ``config/ca``; chains checked with ``openssl verify -untrusted``."""

from __future__ import annotations

import datetime
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pki_support import PKI, READ, START, UPDATE, load_cert

from strongroom.errors import InvalidRequest

HOUR = 3600


def _chain(root_ttl: str = "87600h", **sign_fields: object) -> tuple[PKI, PKI, dict]:
    root = PKI()
    root.root(ttl=root_ttl, common_name="Example Root")
    inter = PKI()
    csr = inter.ok(UPDATE, "intermediate/generate/internal", {"common_name": "Example Intermediate", "key_type": "ec"})
    signed = root.ok(UPDATE, "root/sign-intermediate",
                     {"csr": csr["csr"], "common_name": "Example Intermediate", "ttl": "43800h", **sign_fields})
    inter.ok(UPDATE, "intermediate/set-signed", {"certificate": signed["certificate"] + "\n" + root.ca_pem()})
    inter.role()
    return root, inter, signed


def test_leaf_from_an_intermediate_verifies_with_root_and_untrusted_intermediate(openssl) -> None:
    root, inter, signed = _chain()
    leaf = inter.issue(common_name="www.example.com")
    assert leaf["issuing_ca"] == signed["certificate"]
    assert leaf["ca_chain"] == [signed["certificate"], root.ca_pem()]
    result = openssl.verify(leaf["certificate"], root.ca_pem(), untrusted=[signed["certificate"]])
    assert result.returncode == 0, result.stdout + result.stderr
    assert openssl.verify(leaf["certificate"], root.ca_pem()).returncode != 0  # the intermediate is needed


def test_intermediate_csr_and_response_shapes(pki) -> None:
    data = pki.ok(UPDATE, "intermediate/generate/exported",
                  {"common_name": "int.example.com", "key_type": "ec", "key_bits": 384, "organization": "Example"})
    assert set(data) == {"csr", "key_id", "key_name", "private_key", "private_key_type"}
    csr = x509.load_pem_x509_csr(data["csr"].encode())
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=int.example.com,O=Example"
    assert data["private_key_type"] == "ec"
    internal = PKI().ok(UPDATE, "intermediate/generate/internal", {"common_name": "int", "key_type": "ec"})
    assert "private_key" not in internal


def test_signed_intermediate_is_a_ca_with_the_requested_constraints(openssl) -> None:
    root, _, signed = _chain(max_path_length=0, permitted_dns_domains="example.com")
    text = openssl.x509_text(signed["certificate"])
    assert "CA:TRUE, pathlen:0" in text
    assert re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign", text)
    assert re.search(r"Permitted:\s+DNS:example.com", text)
    assert "Issuer: CN = Example Root" in text
    assert signed["issuing_ca"] == root.ca_pem()
    assert signed["ca_chain"] == [root.ca_pem()]


def test_name_constraints_bind_openssl(openssl) -> None:
    root, inter, signed = _chain(permitted_dns_domains="example.com")
    inter.role("any", allow_any_name=True)
    outside = inter.ok(UPDATE, "issue/any", {"common_name": "www.other.org"})
    result = openssl.verify(outside["certificate"], root.ca_pem(), untrusted=[signed["certificate"]])
    assert result.returncode != 0
    assert "permitted subtree violation" in result.stdout + result.stderr


def test_an_intermediate_with_pathlen_zero_cannot_sign_another_ca() -> None:
    _, inter, _ = _chain(max_path_length=0)
    sub = PKI()
    csr = sub.ok(UPDATE, "intermediate/generate/internal", {"common_name": "Sub", "key_type": "ec"})["csr"]
    error = inter.fail(UPDATE, "root/sign-intermediate", {"csr": csr, "common_name": "Sub"}, InvalidRequest)
    assert "max path length of 0" in error.message


def test_a_child_ca_gets_one_less_than_its_parents_path_length(openssl) -> None:
    _, inter, _ = _chain(max_path_length=3)
    sub = PKI()
    csr = sub.ok(UPDATE, "intermediate/generate/internal", {"common_name": "Sub", "key_type": "ec"})["csr"]
    signed = inter.ok(UPDATE, "root/sign-intermediate", {"csr": csr, "common_name": "Sub", "ttl": "24h"})
    assert "CA:TRUE, pathlen:2" in openssl.x509_text(signed["certificate"])


def test_sign_intermediate_truncates_to_the_parents_end() -> None:
    root = PKI()
    root.root(ttl="100h")
    csr = PKI().ok(UPDATE, "intermediate/generate/internal", {"common_name": "Int", "key_type": "ec"})["csr"]
    signed = root.ok(UPDATE, "root/sign-intermediate", {"csr": csr, "common_name": "Int", "ttl": "1000h"})
    assert load_cert(signed["certificate"]).not_valid_after_utc.timestamp() == START + 100 * HOUR


def test_use_csr_values_keeps_the_csrs_subject() -> None:
    root = PKI()
    root.root()
    csr = PKI().ok(UPDATE, "intermediate/generate/internal",
                   {"common_name": "From CSR", "organization": "CSR Org", "key_type": "ec"})["csr"]
    signed = root.ok(UPDATE, "root/sign-intermediate", {"csr": csr, "use_csr_values": True, "ttl": "24h"})
    assert load_cert(signed["certificate"]).subject.rfc4514_string() == "CN=From CSR,O=CSR Org"


def test_set_signed_without_a_pending_csr_is_400(pki) -> None:
    other = PKI()
    other.root()
    error = pki.fail(UPDATE, "intermediate/set-signed", {"certificate": other.ca_pem()}, InvalidRequest)
    assert "no pending intermediate key" in error.message
    assert pki.contents() == {}


def test_set_signed_with_a_certificate_for_another_key_is_400() -> None:
    inter = PKI()
    inter.ok(UPDATE, "intermediate/generate/internal", {"common_name": "Int", "key_type": "ec"})
    other = PKI()
    other.root()
    before = inter.contents()
    error = inter.fail(UPDATE, "intermediate/set-signed", {"certificate": other.ca_pem()}, InvalidRequest)
    assert "matches" in error.message
    assert inter.contents() == before


def test_set_signed_refuses_a_leaf_certificate() -> None:
    inter = PKI()
    csr = inter.ok(UPDATE, "intermediate/generate/internal", {"common_name": "int.example.com", "key_type": "ec"})
    root = PKI()
    root.root()
    root.role("any", allow_any_name=True)
    leaf = root.ok(UPDATE, "sign/any", {"csr": csr["csr"]})
    error = inter.fail(UPDATE, "intermediate/set-signed", {"certificate": leaf["certificate"]}, InvalidRequest)
    assert "not a CA certificate" in error.message


def test_set_signed_consumes_the_pending_key() -> None:
    _root, inter, signed = _chain()
    error = inter.fail(UPDATE, "intermediate/set-signed", {"certificate": signed["certificate"]}, InvalidRequest)
    assert "no pending intermediate key" in error.message
    assert inter.ok(READ, "cert/ca")["certificate"] == signed["certificate"]


def test_set_signed_answers_vaults_import_shape() -> None:
    root = PKI()
    root.root()
    inter = PKI()
    csr = inter.ok(UPDATE, "intermediate/generate/internal", {"common_name": "Int", "key_type": "ec"})
    signed = root.ok(UPDATE, "root/sign-intermediate", {"csr": csr["csr"], "common_name": "Int", "ttl": "24h"})
    data = inter.ok(UPDATE, "intermediate/set-signed", {"certificate": signed["certificate"]})
    (issuer_id,) = data["imported_issuers"]
    assert data["mapping"] == {issuer_id: csr["key_id"]}
    assert inter.ok(READ, "issuer/default")["issuer_id"] == issuer_id


# --- config/ca ---------------------------------------------------------------------------------


def _self_signed(common_name: str = "Imported Root", ca: bool = True) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.fromtimestamp(START, tz=datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=3650)))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    cert = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def test_an_imported_ca_issues_verifiable_certificates(pki, openssl) -> None:
    cert, key = _self_signed()
    data = pki.ok(UPDATE, "config/ca", {"pem_bundle": key + cert})
    assert len(data["imported_issuers"]) == 1
    assert len(data["imported_keys"]) == 1
    assert pki.ca_pem() == cert.strip()
    pki.role()
    leaf = pki.issue(ttl="1h")
    assert openssl.verify(leaf["certificate"], cert).returncode == 0


@pytest.mark.parametrize(
    ("bundle", "wording"),
    [
        (lambda cert, key: cert, "exactly one private key"),
        (lambda cert, key: key, "no certificate in the bundle matches"),
        (lambda cert, key: key + key + cert, "exactly one private key"),
        (lambda cert, key: "garbage", "holds no PEM blocks"),
        (lambda cert, key: key.replace("EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY") + cert, "encrypted private keys"),
        (lambda cert, key: key + cert.replace("MI", "AA", 1), "could not be parsed"),
        (lambda cert, key: key + cert + "-----BEGIN PGP MESSAGE-----\nAA\n-----END PGP MESSAGE-----\n", "unsupported"),
    ],
)
def test_bad_bundles_are_400_and_store_nothing(pki, bundle, wording) -> None:
    cert, key = _self_signed()
    error = pki.fail(UPDATE, "config/ca", {"pem_bundle": bundle(cert, key)}, InvalidRequest)
    assert wording in error.message
    assert "PRIVATE" not in error.message.replace("private key", "")
    assert pki.contents() == {}


def test_a_non_ca_certificate_cannot_be_imported_as_the_ca(pki) -> None:
    cert, key = _self_signed(ca=False)
    error = pki.fail(UPDATE, "config/ca", {"pem_bundle": key + cert}, InvalidRequest)
    assert "not a CA certificate" in error.message
    assert pki.contents() == {}


def test_importing_over_an_existing_ca_is_400(rooted) -> None:
    cert, key = _self_signed()
    before = rooted.contents()
    error = rooted.fail(UPDATE, "config/ca", {"pem_bundle": key + cert}, InvalidRequest)
    assert "already has a CA" in error.message
    assert rooted.contents() == before


def test_unrelated_certificates_in_a_bundle_are_ignored_with_a_warning(pki) -> None:
    cert, key = _self_signed()
    stranger, _ = _self_signed("Stranger")
    response = pki.call(UPDATE, "config/ca", {"pem_bundle": key + cert + stranger})
    assert response is not None
    assert "1 certificate(s) in the bundle are not in the CA's chain" in response.warnings[0]
    assert pki.ok(READ, "issuer/default")["ca_chain"] == [cert.strip()]
