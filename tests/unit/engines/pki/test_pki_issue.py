"""``issue/:role``: keys made by the server, certificates checked with openssl and cryptography, lifetimes."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_private_key, load_pem_private_key
from pki_support import LIST, PATCH, READ, START, UPDATE, YEAR, load_cert

from strongroom.errors import InvalidRequest

HOUR = 3600


def test_issued_certificate_verifies_against_the_root_with_openssl(rooted, openssl) -> None:
    data = rooted.issue(common_name="www.example.com")
    assert set(data) == {"certificate", "issuing_ca", "ca_chain", "serial_number", "expiration", "private_key",
                         "private_key_type"}
    root = rooted.ca_pem()
    assert data["issuing_ca"] == root
    assert data["ca_chain"] == [root]
    result = openssl.verify(data["certificate"], root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": OK")


def test_the_private_key_matches_the_certificate(rooted) -> None:
    data = rooted.issue()
    assert data["private_key_type"] == "ec"
    assert data["private_key"].startswith("-----BEGIN EC PRIVATE KEY-----")
    key = load_pem_private_key(data["private_key"].encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.public_key() == load_cert(data["certificate"]).public_key()


def test_requested_sans_and_role_usages_show_in_openssl(rooted, openssl) -> None:
    rooted.role("svc", allowed_domains=["example.com"], allow_subdomains=True, allow_bare_domains=True,
                allowed_uri_sans=["spiffe://example.com/*"],
                code_signing_flag=True, key_usage=["DigitalSignature"], ext_key_usage=["TimeStamping"],
                organization=["Example"], ou=["Web"], ttl="2h")
    data = rooted.issue("svc", common_name="api.example.com", alt_names="web.example.com,ops@example.com",
                        ip_sans="192.0.2.7,2001:db8::1", uri_sans="spiffe://example.com/api")
    text = openssl.x509_text(data["certificate"])
    for san in ("DNS:api.example.com", "DNS:web.example.com", "email:ops@example.com", "IP Address:192.0.2.7",
                "IP Address:2001:DB8:0:0:0:0:0:1", "URI:spiffe://example.com/api"):
        assert san in text
    assert re.search(r"X509v3 Key Usage: critical\s+Digital Signature\n", text)
    assert re.search(r"Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication, "
                     r"Code Signing, Time Stamping", text)
    assert "O = Example, OU = Web, CN = api.example.com" in text
    assert "CA:TRUE" not in text
    cert = load_cert(data["certificate"])
    assert cert.not_valid_after_utc.timestamp() - START == 2 * HOUR
    assert "Not After : " in text


def test_flags_off_leave_no_extended_key_usage(rooted) -> None:
    rooted.role("plain", server_flag=False, client_flag=False)
    cert = load_cert(rooted.issue("plain")["certificate"])
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


def test_default_key_usage_is_vaults(rooted) -> None:
    usage = load_cert(rooted.issue()["certificate"]).extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.digital_signature, usage.key_agreement, usage.key_encipherment) == (True, True, True)
    assert not usage.key_cert_sign


@pytest.mark.parametrize(
    ("key_type", "key_bits", "kind", "size"),
    [("rsa", 2048, rsa.RSAPrivateKey, 2048), ("ec", 384, ec.EllipticCurvePrivateKey, 384),
     ("ed25519", 0, ed25519.Ed25519PrivateKey, 0)],
)
def test_role_key_type_decides_the_generated_key(rooted, openssl, key_type, key_bits, kind, size) -> None:
    rooted.role("k", key_type=key_type, key_bits=key_bits)
    data = rooted.issue("k")
    key = load_pem_private_key(data["private_key"].encode(), None)
    assert isinstance(key, kind)
    assert getattr(key, "key_size", 0) == size
    assert data["private_key_type"] == key_type
    assert openssl.verify(data["certificate"], rooted.ca_pem()).returncode == 0


def test_a_role_with_key_type_any_cannot_generate_keys(rooted) -> None:
    rooted.role("any", key_type="any")
    before = rooted.contents()
    error = rooted.fail(UPDATE, "issue/any", {"common_name": "www.example.com"}, InvalidRequest)
    assert "invalid key_type" in error.message
    assert rooted.contents() == before


def test_der_format_is_base64_der(rooted) -> None:
    data = rooted.issue(format="der")
    cert = x509.load_der_x509_certificate(base64.b64decode(data["certificate"]))
    assert cert.serial_number == int(data["serial_number"].replace(":", ""), 16)
    assert x509.load_der_x509_certificate(base64.b64decode(data["issuing_ca"]))
    key = load_der_private_key(base64.b64decode(data["private_key"]), None)
    assert key.public_key() == cert.public_key()


def test_pem_bundle_holds_key_certificate_and_chain(rooted) -> None:
    data = rooted.issue(format="pem_bundle")
    assert data["certificate"].startswith("-----BEGIN EC PRIVATE KEY-----")
    assert data["certificate"].count("-----BEGIN CERTIFICATE-----") == 2
    assert data["certificate"].endswith(rooted.ca_pem())


def test_pkcs8_private_key_format(rooted) -> None:
    data = rooted.issue(private_key_format="pkcs8")
    assert data["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_remove_roots_from_chain_drops_the_self_signed_root(rooted) -> None:
    assert rooted.issue(remove_roots_from_chain=True)["ca_chain"] == []


def test_issued_certificates_are_stored_and_listed(rooted) -> None:
    root_serial = load_cert(rooted.ca_pem()).serial_number
    serials = {rooted.issue()["serial_number"] for _ in range(3)}
    listed = set(rooted.ok(LIST, "certs")["keys"])
    assert serials < listed
    assert len(listed) == 4
    assert any(int(s.replace(":", ""), 16) == root_serial for s in listed)


def test_no_store_issues_without_recording(rooted) -> None:
    rooted.role("ephemeral", no_store=True, generate_lease=True)
    before = rooted.contents()
    response = rooted.call(UPDATE, "issue/ephemeral", {"common_name": "www.example.com"})
    assert response is not None
    assert response.data is not None
    assert response.secret is None  # no_store implies no lease, as in Vault
    assert rooted.contents() == before
    serial = response.data["serial_number"]
    assert serial not in rooted.ok(LIST, "certs")["keys"]


def test_generate_lease_carries_the_lease_terms(rooted) -> None:
    rooted.role("leased", generate_lease=True, ttl="3h")
    response = rooted.call(UPDATE, "issue/leased", {"common_name": "www.example.com"})
    assert response is not None
    assert response.secret is not None
    assert response.data is not None
    assert response.secret.ttl == 3 * HOUR
    assert response.secret.renewable is False
    assert response.secret.internal == {"serial_number": response.data["serial_number"]}


def test_without_generate_lease_there_is_no_lease(rooted) -> None:
    response = rooted.call(UPDATE, "issue/web", {"common_name": "www.example.com"})
    assert response is not None
    assert response.secret is None


# --- lifetimes -------------------------------------------------------------------------------


def _lifetime(data: dict) -> float:
    return load_cert(data["certificate"]).not_valid_after_utc.timestamp() - START


def test_lifetime_defaults_to_the_mount_default_ttl(rooted) -> None:
    assert _lifetime(rooted.issue()) == rooted.ctx.system.default_lease_ttl


def test_role_ttl_is_the_default_and_request_ttl_overrides_it(rooted) -> None:
    rooted.role("short", ttl="1h", max_ttl="24h")
    assert _lifetime(rooted.issue("short")) == HOUR
    assert _lifetime(rooted.issue("short", ttl="5h")) == 5 * HOUR
    assert _lifetime(rooted.issue("short", ttl="24h")) == 24 * HOUR


def test_a_requested_ttl_beyond_the_role_max_is_400_and_nothing_is_stored(rooted) -> None:
    rooted.role("short", max_ttl="24h")
    before = rooted.contents()
    error = rooted.fail(UPDATE, "issue/short", {"common_name": "www.example.com", "ttl": "25h"}, InvalidRequest)
    assert "beyond the maximum TTL allowed here (86400s)" in error.message
    assert rooted.contents() == before


def test_a_requested_not_after_beyond_the_max_is_400(rooted) -> None:
    rooted.role("short", max_ttl="24h")
    error = rooted.fail(UPDATE, "issue/short", {"common_name": "www.example.com", "not_after": "2030-01-01T00:00:00Z"},
                        InvalidRequest)
    assert "not_after is beyond the maximum TTL" in error.message


def test_not_after_within_the_max_sets_the_end(rooted) -> None:
    cert = load_cert(rooted.issue(not_after="2027-01-20T00:00:00Z")["certificate"])
    assert cert.not_valid_after_utc.isoformat() == "2027-01-20T00:00:00+00:00"


def test_the_mount_max_caps_a_role_max_that_is_larger(make_pki) -> None:
    pki = make_pki(max_ttl=48 * HOUR)
    pki.root(ttl="48h")
    pki.role("long", max_ttl="8760h")
    error = pki.fail(UPDATE, "issue/long", {"common_name": "www.example.com", "ttl": "49h"}, InvalidRequest)
    assert "(172800s)" in error.message


def test_a_default_ttl_beyond_the_mount_max_is_shortened_with_vaults_warning(make_pki) -> None:
    pki = make_pki(max_ttl=48 * HOUR)
    pki.root(ttl="48h")
    pki.role("long", ttl="100h")
    response = pki.call(UPDATE, "issue/long", {"common_name": "www.example.com"})
    assert response is not None
    assert response.data is not None
    assert _lifetime(response.data) == 48 * HOUR
    assert "longer than the permitted maximum" in response.warnings[0]


def test_a_leaf_outliving_the_ca_is_refused_by_default(make_pki) -> None:
    pki = make_pki()
    pki.root(ttl="10h")
    pki.role()
    before = pki.contents()
    error = pki.fail(UPDATE, "issue/web", {"common_name": "www.example.com", "ttl": "11h"}, InvalidRequest)
    assert "beyond the expiration of the CA certificate" in error.message
    assert pki.contents() == before


def test_truncate_ends_a_leaf_with_the_ca(make_pki, openssl) -> None:
    pki = make_pki()
    root = pki.root(ttl="10h")
    pki.role()
    data = pki.ok(UPDATE, "issuer/default", {"leaf_not_after_behavior": "truncate"})
    assert data["leaf_not_after_behavior"] == "truncate"
    leaf = pki.issue(ttl="11h")
    assert load_cert(leaf["certificate"]).not_valid_after_utc == load_cert(root["certificate"]).not_valid_after_utc
    assert openssl.verify(leaf["certificate"], root["certificate"]).returncode == 0


def test_permit_is_refused_as_a_leaf_behaviour(rooted) -> None:
    error = rooted.fail(UPDATE, "issuer/default", {"leaf_not_after_behavior": "permit"}, InvalidRequest)
    assert "permit is not supported" in error.message


def test_ttl_and_not_after_together_are_400(rooted) -> None:
    error = rooted.fail(UPDATE, "issue/web", {"common_name": "www.example.com", "ttl": "1h",
                                              "not_after": "2027-01-20T00:00:00Z"}, InvalidRequest)
    assert "not both" in error.message


def test_a_ttl_too_large_for_dates_is_a_clean_400(rooted) -> None:
    error = rooted.fail(UPDATE, "issue/web", {"common_name": "www.example.com", "ttl": 10**40}, InvalidRequest)
    assert "ttl" in error.message


def test_openssl_rejects_the_leaf_after_it_expires(rooted, openssl) -> None:
    rooted.role("short", ttl="1h")
    leaf = rooted.issue("short")
    assert openssl.verify(leaf["certificate"], rooted.ca_pem(), at=START + HOUR - 1).returncode == 0
    late = openssl.verify(leaf["certificate"], rooted.ca_pem(), at=START + HOUR + 1)
    assert late.returncode != 0
    assert "certificate has expired" in late.stdout + late.stderr


# --- the issuer and roles --------------------------------------------------------------------


def test_issue_without_a_ca_is_400(pki) -> None:
    pki.role()
    error = pki.fail(UPDATE, "issue/web", {"common_name": "www.example.com"}, InvalidRequest)
    assert "must be configured with a CA" in error.message
    assert set(pki.contents()) == {"role/web"}


def test_issue_under_an_unknown_role_is_400(rooted) -> None:
    error = rooted.fail(UPDATE, "issue/nope", {"common_name": "www.example.com"}, InvalidRequest)
    assert error.message == "unknown role: nope"


def test_issuer_reads_by_default_id_and_name(rooted) -> None:
    data = rooted.ok(READ, "issuer/default")
    assert data["certificate"] == rooted.ca_pem()
    assert data["ca_chain"] == [rooted.ca_pem()]
    assert rooted.ok(READ, f"issuer/{data['issuer_id']}") == data
    renamed = rooted.ok(PATCH, "issuer/default", {"issuer_name": "root-x1"})
    assert renamed["issuer_name"] == "root-x1"
    assert renamed["leaf_not_after_behavior"] == "err"
    assert rooted.ok(READ, "issuer/root-x1")["issuer_id"] == data["issuer_id"]
    assert "unable to find" in rooted.fail(READ, "issuer/other", error=InvalidRequest).message


def test_a_post_to_the_issuer_resets_elided_settings_like_vault(rooted) -> None:
    rooted.ok(UPDATE, "issuer/default", {"issuer_name": "root-x1", "leaf_not_after_behavior": "truncate"})
    data = rooted.ok(UPDATE, "issuer/default", {"issuer_name": "root-x1"})
    assert data["leaf_not_after_behavior"] == "err"


def test_a_year_long_leaf_fits_a_ten_year_root(rooted, openssl) -> None:
    rooted.role("year", max_ttl="8760h")
    leaf = rooted.issue("year", ttl="8760h")
    assert _lifetime(leaf) == YEAR
    assert openssl.verify(leaf["certificate"], rooted.ca_pem(), at=START + YEAR - 60).returncode == 0
