"""Root CA generation (``root/generate/:type``) and ``DELETE root``, checked with openssl and cryptography."""

from __future__ import annotations

import asyncio
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pki_support import DELETE, LIST, PKI, READ, START, UPDATE, YEAR, YieldingStorage, load_cert

from strongroom.engines.pki.issuer import IssuerStore
from strongroom.errors import InvalidRequest
from strongroom.sdk.logical import Request

SERIAL = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){0,19}$")


def test_internal_root_answers_the_certificate_and_never_the_key(pki, openssl) -> None:
    data = pki.root(common_name="root.example.com")
    assert set(data) == {"certificate", "issuing_ca", "serial_number", "expiration", "issuer_id", "issuer_name",
                         "key_id", "key_name"}
    cert = load_cert(data["certificate"])
    assert data["issuing_ca"] == data["certificate"]
    assert not data["certificate"].endswith("\n")
    assert SERIAL.match(data["serial_number"])
    assert int(data["serial_number"].replace(":", ""), 16) == cert.serial_number
    assert data["expiration"] == int(START) + 10 * YEAR
    assert openssl.verify(data["certificate"], data["certificate"]).returncode == 0


def test_exported_root_returns_the_private_key_once(pki) -> None:
    data = pki.ok(UPDATE, "root/generate/exported", {"common_name": "Root", "key_type": "rsa", "ttl": "24h"})
    assert data["private_key_type"] == "rsa"
    assert data["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    key = load_pem_private_key(data["private_key"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    assert key.public_key().public_numbers() == load_cert(data["certificate"]).public_key().public_numbers()
    for path in ("ca/pem", "cert/ca", "issuer/default"):
        response = pki.call(READ, path)
        assert response is not None
        assert "PRIVATE KEY" not in repr(response)


@pytest.mark.parametrize(
    ("key_type", "key_bits", "kind", "size"),
    [("rsa", 0, rsa.RSAPublicKey, 2048), ("rsa", 3072, rsa.RSAPublicKey, 3072),
     ("ec", 0, ec.EllipticCurvePublicKey, 256), ("ec", 384, ec.EllipticCurvePublicKey, 384),
     ("ec", 521, ec.EllipticCurvePublicKey, 521),
     ("ed25519", 0, ed25519.Ed25519PublicKey, 0)],
)
def test_root_key_types_and_sizes(make_pki, openssl, key_type, key_bits, kind, size) -> None:
    pki = make_pki()
    data = pki.root(key_type=key_type, key_bits=key_bits)
    key = load_cert(data["certificate"]).public_key()
    assert isinstance(key, kind)
    assert getattr(key, "key_size", 0) == size
    assert openssl.verify(data["certificate"], data["certificate"]).returncode == 0


@pytest.mark.parametrize(
    ("fields", "wording"),
    [
        ({"key_type": "dsa"}, "invalid key_type"),
        ({"key_type": "rsa", "key_bits": 1024}, "invalid key_bits for key_type rsa"),
        ({"key_type": "ec", "key_bits": 255}, "invalid key_bits for key_type ec"),
        ({"key_type": "any"}, "invalid key_type"),
        ({"common_name": ""}, "common_name field is required"),
        ({"ttl": "87601h"}, "beyond the maximum TTL"),
        ({"ttl": "1h", "not_after": "2030-01-01T00:00:00Z"}, "not both"),
        ({"not_after": "next tuesday"}, "invalid not_after"),
        ({"max_path_length": -2}, "invalid max_path_length"),
        ({"key_usage": ["Sorcery"]}, "invalid key_usage"),
        ({"ip_sans": ["10.0.0.300"]}, "invalid IP address"),
        ({"uri_sans": ["no-scheme"]}, "invalid URI"),
        ({"format": "pfx"}, "invalid format"),
        ({"issuer_name": "default"}, "invalid issuer_name"),
        ({"country": ["Nowhere"]}, "invalid subject"),
    ],
)
def test_bad_root_requests_are_400_and_store_nothing(pki, fields, wording) -> None:
    error = pki.fail(UPDATE, "root/generate/internal", {"common_name": "Root", "key_type": "ec", **fields},
                     InvalidRequest)
    assert wording in error.message
    assert pki.contents() == {}


def test_an_unknown_generation_type_is_400(pki) -> None:
    error = pki.fail(UPDATE, "root/generate/kms", {"common_name": "Root"}, InvalidRequest)
    assert "internal or exported" in error.message
    assert pki.contents() == {}


def test_root_extensions_show_in_openssl(pki, openssl) -> None:
    data = pki.root(
        common_name="root.example.com", alt_names="ca.example.com,ops@example.com", ip_sans="10.1.2.3",
        uri_sans="spiffe://example.com/ca", max_path_length=2, permitted_dns_domains="example.com",
        organization="Example Org", ou="PKI", country="NL", locality="Delft", province="ZH",
    )
    text = openssl.x509_text(data["certificate"])
    assert "CA:TRUE, pathlen:2" in text
    assert re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign", text)
    assert "DNS:root.example.com" in text
    assert "DNS:ca.example.com" in text
    assert "email:ops@example.com" in text
    assert "IP Address:10.1.2.3" in text
    assert "URI:spiffe://example.com/ca" in text
    assert re.search(r"Permitted:\s+DNS:example.com", text)
    assert "C = NL, ST = ZH, L = Delft, O = Example Org, OU = PKI, CN = root.example.com" in text
    assert "Subject Key Identifier" in text


def test_a_common_name_that_is_not_a_host_name_stays_out_of_the_sans(pki) -> None:
    cert = load_cert(pki.root(common_name="Example Root CA")["certificate"])
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_exclude_cn_from_sans_keeps_a_host_name_out(pki) -> None:
    cert = load_cert(pki.root(common_name="root.example.com", exclude_cn_from_sans=True)["certificate"])
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_validity_follows_ttl_and_is_backdated_30_seconds(pki) -> None:
    cert = load_cert(pki.root(ttl="48h")["certificate"])
    assert cert.not_valid_before_utc.timestamp() == START - 30
    assert cert.not_valid_after_utc.timestamp() == START + 48 * 3600


def test_not_after_sets_an_absolute_end(pki) -> None:
    cert = load_cert(pki.root(ttl=0, not_after="2028-01-01T00:00:00Z")["certificate"])
    assert cert.not_valid_after_utc.isoformat() == "2028-01-01T00:00:00+00:00"


def test_root_without_ttl_takes_the_mount_default(make_pki) -> None:
    pki = make_pki()
    cert = load_cert(pki.ok(UPDATE, "root/generate/internal", {"common_name": "Root", "key_type": "ec"})["certificate"])
    assert cert.not_valid_after_utc.timestamp() == START + pki.ctx.system.default_lease_ttl


def test_generating_over_an_existing_root_warns_and_changes_nothing(pki) -> None:
    first = pki.root()
    before = pki.contents()
    response = pki.call(UPDATE, "root/generate/exported", {"common_name": "Another", "key_type": "ec"})
    assert response is not None
    assert response.data is None
    assert "Refusing to generate over an existing CA" in response.warnings[0]
    assert pki.contents() == before
    assert pki.ca_pem() == first["certificate"]


def test_root_is_listed_among_certs_and_readable_by_serial(pki) -> None:
    data = pki.root()
    assert pki.ok(LIST, "certs")["keys"] == [data["serial_number"]]
    assert pki.ok(READ, f"cert/{data['serial_number']}")["certificate"] == data["certificate"]


def test_delete_root_removes_the_ca_and_a_new_one_can_be_generated(pki) -> None:
    first = pki.root()
    assert pki.call(DELETE, "root") is None
    response = pki.call(READ, "ca/pem")
    assert response is not None
    assert response.raw is not None
    assert (response.raw.status, response.raw.body) == (204, b"")
    second = pki.root(common_name="Second Root")
    assert second["serial_number"] != first["serial_number"]
    assert load_cert(pki.ca_pem()).subject.rfc4514_string() == "CN=Second Root"


def test_delete_root_needs_sudo(pki) -> None:
    assert pki.backend.sudo_paths() == ("root",)


def test_signature_bits_choose_the_rsa_hash(pki) -> None:
    cert = load_cert(pki.root(key_type="rsa", signature_bits=384)["certificate"])
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha384"


def test_two_workers_racing_to_create_a_root_install_exactly_one(monkeypatch) -> None:
    pki = PKI(YieldingStorage())
    other = PKI(pki.storage)  # a second backend instance over the same storage, as another worker
    attempts: list[str] = []
    install = IssuerStore.install

    async def counted(*args, **kwargs):
        attempts.append("install")
        return await install(*args, **kwargs)

    monkeypatch.setattr(IssuerStore, "install", staticmethod(counted))

    async def race() -> list:
        def request(common_name: str) -> Request:
            return Request(operation=UPDATE, path="root/generate/internal", storage=pki.storage,
                           data={"common_name": common_name, "key_type": "ec"})

        return await asyncio.gather(pki.backend.handle(request("First")), other.backend.handle(request("Second")))

    answers = asyncio.run(race())
    winners = [a for a in answers if a.data is not None]
    refused = [a for a in answers if a.data is None]
    assert len(winners) == 1
    assert len(refused) == 1
    assert "Refusing to generate over an existing CA" in refused[0].warnings[0]
    assert pki.ca_pem() == winners[0].data["certificate"]
    assert len(pki.ok(LIST, "certs")["keys"]) == 1
    assert attempts == ["install", "install"]  # both got past the first check: the conditional write decided
