"""What the authority publishes (raw and JSON), roles and config/urls, and the mount's special paths."""

from __future__ import annotations

import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pki_support import DELETE, LIST, PATCH, READ, UPDATE, load_cert

from strongroom.errors import InvalidRequest, NotFound, UnsupportedOperation


def _raw(pki, path: str) -> tuple[int, str, bytes]:
    response = pki.call(READ, path)
    assert response is not None
    assert response.raw is not None
    return response.raw.status, response.raw.content_type, response.raw.body


def test_raw_ca_endpoints_use_vaults_content_types_and_no_trailing_newline(rooted) -> None:
    status, kind, pem = _raw(rooted, "ca/pem")
    assert (status, kind) == (200, "application/pem-certificate-chain")
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert not pem.endswith(b"\n")
    status, kind, der = _raw(rooted, "ca")
    assert (status, kind) == (200, "application/pkix-cert")
    assert x509.load_der_x509_certificate(der) == load_cert(pem.decode())
    status, kind, chain = _raw(rooted, "ca_chain")
    assert (status, kind, chain) == (200, "application/pkix-cert", pem)
    assert _raw(rooted, "crl/pem")[1] == "application/x-pem-file"


@pytest.mark.parametrize("path", ["ca", "ca/pem", "ca_chain", "crl", "crl/pem"])
def test_raw_endpoints_answer_204_without_a_ca(pki, path) -> None:
    status, _, body = _raw(pki, path)
    assert (status, body) == (204, b"")


def test_cert_special_serials_answer_json(rooted) -> None:
    ca = rooted.ca_pem()
    assert rooted.ok(READ, "cert/ca") == {"certificate": ca, "revocation_time": 0, "revocation_time_rfc3339": ""}
    chain = rooted.ok(READ, "cert/ca_chain")
    assert chain["certificate"] == chain["ca_chain"] == ca
    crl = rooted.ok(READ, "cert/crl")["certificate"]
    assert crl.startswith("-----BEGIN X509 CRL-----")
    assert x509.load_pem_x509_crl(crl.encode()).issuer == load_cert(ca).subject


def test_cert_raw_paths(rooted) -> None:
    leaf = rooted.issue()
    serial = leaf["serial_number"]
    status, kind, der = _raw(rooted, f"cert/{serial}/raw")
    assert (status, kind) == (200, "application/pkix-cert")
    assert x509.load_der_x509_certificate(der) == load_cert(leaf["certificate"])
    status, kind, pem = _raw(rooted, f"cert/{serial.replace(':', '-')}/raw/pem")
    assert (status, kind, pem.decode()) == (200, "application/pem-certificate-chain", leaf["certificate"])
    assert _raw(rooted, "cert/ca/raw")[2] == load_cert(rooted.ca_pem()).public_bytes(Encoding.DER)


@pytest.mark.parametrize("serial", ["01:02", "not-a-serial", "zz"])
def test_unknown_or_malformed_serials_are_404(rooted, serial) -> None:
    with pytest.raises(NotFound):
        rooted.call(READ, f"cert/{serial}")


def test_empty_listings_are_404(pki) -> None:
    for path in ("certs", "certs/revoked", "roles"):
        with pytest.raises(NotFound):
            pki.call(LIST, path)


def test_unsupported_operations_are_405(rooted) -> None:
    for op, path in ((DELETE, "ca/pem"), (UPDATE, "crl"), (LIST, "issue/web"), (READ, "revoke")):
        with pytest.raises(UnsupportedOperation):
            rooted.call(op, path)


def test_public_paths_are_exactly_vaults(pki) -> None:
    patterns = pki.backend.unauthenticated_paths()
    public = ["ca", "ca/pem", "ca_chain", "crl", "crl/pem", "cert/ca", "cert/01:02", "cert/01:02/raw/pem"]
    private = ["certs", "certs/revoked", "roles/web", "issue/web", "revoke", "root/generate/internal", "tidy",
               "config/urls", "issuer/default", "crl/rotate", "cert", "cert/"]
    for path in public:
        assert any(re.fullmatch(p, path) for p in patterns), path
    for path in private:
        assert not any(re.fullmatch(p, path) for p in patterns), path


# --- roles -------------------------------------------------------------------------------------


def test_role_write_answers_the_role_with_vaults_defaults(pki) -> None:
    data = pki.ok(UPDATE, "roles/web", {"allowed_domains": "example.com,example.org", "ttl": "1h", "max_ttl": "2h"})
    assert data["allowed_domains"] == ["example.com", "example.org"]
    assert (data["ttl"], data["max_ttl"], data["not_before_duration"]) == (3600, 7200, 30)
    assert (data["key_type"], data["key_bits"]) == ("rsa", 2048)
    assert data["key_usage"] == ["DigitalSignature", "KeyAgreement", "KeyEncipherment"]
    assert (data["allow_localhost"], data["enforce_hostnames"], data["allow_ip_sans"]) == (True, True, True)
    assert (data["server_flag"], data["client_flag"], data["code_signing_flag"]) == (True, True, False)
    assert (data["no_store"], data["generate_lease"], data["require_cn"]) == (False, False, True)
    assert pki.ok(READ, "roles/web") == data
    assert pki.ok(LIST, "roles")["keys"] == ["web"]


def test_a_post_replaces_the_role_and_a_patch_amends_it(pki) -> None:
    pki.ok(UPDATE, "roles/web", {"allowed_domains": "example.com", "allow_subdomains": True, "ttl": "1h"})
    patched = pki.ok(PATCH, "roles/web", {"allow_bare_domains": True})
    assert (patched["allow_subdomains"], patched["allow_bare_domains"], patched["ttl"]) == (True, True, 3600)
    replaced = pki.ok(UPDATE, "roles/web", {"allow_bare_domains": True})
    assert (replaced["allowed_domains"], replaced["allow_subdomains"], replaced["ttl"]) == ([], False, 0)
    with pytest.raises(NotFound):
        pki.call(PATCH, "roles/missing", {"ttl": "1h"})


def test_role_delete(pki) -> None:
    pki.ok(UPDATE, "roles/web", {})
    assert pki.call(DELETE, "roles/web") is None
    with pytest.raises(NotFound):
        pki.call(READ, "roles/web")


@pytest.mark.parametrize(
    ("fields", "wording"),
    [
        ({"key_type": "dsa"}, "invalid key_type"),
        ({"key_type": "ec", "key_bits": 2048}, "invalid key_bits for key_type ec"),
        ({"ttl": "2h", "max_ttl": "1h"}, '"ttl" value must be less than "max_ttl" value'),
        ({"key_usage": ["DigitalSignature", "Teleport"]}, "invalid key_usage"),
        ({"ext_key_usage": ["ServerAuth", "Flying"]}, "invalid ext_key_usage"),
        ({"ext_key_usage_oids": ["1.2.x"]}, "invalid ext_key_usage_oids"),
        ({"signature_bits": 128}, "invalid signature_bits"),
        ({"ttl": "banana"}, "invalid value for 'ttl'"),
        ({"max_ttl": 10**40}, "longer than 1000 years"),
    ],
)
def test_bad_roles_are_400_and_not_stored(pki, fields, wording) -> None:
    error = pki.fail(UPDATE, "roles/web", fields, InvalidRequest)
    assert wording in error.message
    assert pki.contents() == {}


def test_role_names_follow_vaults_pattern(pki) -> None:
    pki.ok(UPDATE, "roles/web-1.prod_x", {})
    for bad in ("roles/-web", "roles/web/extra", "roles/web."):
        with pytest.raises(NotFound):
            pki.call(UPDATE, bad, {})


def test_extra_ext_key_usage_oids_reach_the_certificate(rooted, openssl) -> None:
    rooted.role("oid", server_flag=False, client_flag=False, ext_key_usage_oids=["1.3.6.1.4.1.99999.1"])
    text = openssl.x509_text(rooted.issue("oid")["certificate"])
    assert "1.3.6.1.4.1.99999.1" in text


# --- config/urls ----------------------------------------------------------------------------------


def test_config_urls_are_embedded_in_issued_certificates(rooted, openssl) -> None:
    assert rooted.ok(READ, "config/urls") == {"issuing_certificates": [], "crl_distribution_points": [],
                                              "ocsp_servers": []}
    rooted.ok(UPDATE, "config/urls", {"issuing_certificates": "http://pki.example.com/v1/pki/ca",
                                      "crl_distribution_points": ["http://pki.example.com/v1/pki/crl"],
                                      "ocsp_servers": "http://ocsp.example.com"})
    rooted.ok(UPDATE, "config/urls", {"ocsp_servers": "http://ocsp2.example.com"})  # the others stay
    text = openssl.x509_text(rooted.issue()["certificate"])
    assert "CA Issuers - URI:http://pki.example.com/v1/pki/ca" in text
    assert "OCSP - URI:http://ocsp2.example.com" in text
    assert re.search(r"CRL Distribution Points:\s+Full Name:\s+URI:http://pki.example.com/v1/pki/crl", text)


def test_config_urls_must_be_absolute(pki) -> None:
    error = pki.fail(UPDATE, "config/urls", {"ocsp_servers": "ocsp.example.com"}, InvalidRequest)
    assert "invalid ocsp_servers" in error.message
    assert pki.contents() == {}
