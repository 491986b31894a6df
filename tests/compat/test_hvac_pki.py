"""hvac's PKI API (``client.secrets.pki``) against a real dev server process, checked with openssl."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import httpx
import hvac
import hvac.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.compat.hvac_support import unique


@pytest.fixture
def pki(root: hvac.Client) -> str:
    """A fresh pki mount (ten-year max TTL) with an EC root and a role ``web`` for example.com subdomains."""
    mount = unique("pki")
    root.sys.enable_secrets_engine("pki", path=mount)
    root.sys.tune_mount_configuration(mount, max_lease_ttl="87600h")
    root.secrets.pki.generate_root("internal", "Compat Root", {"key_type": "ec", "ttl": "87600h"}, mount_point=mount)
    root.secrets.pki.create_or_update_role(
        "web", {"allowed_domains": ["example.com"], "allow_subdomains": True, "key_type": "ec", "max_ttl": "72h"},
        mount_point=mount,
    )
    return mount


def _verify(tmp_path: Path, leaf: str, root: str, untrusted: Sequence[str] = (), crl: str | None = None) -> str:
    files = {"leaf.pem": leaf, "root.pem": root, "untrusted.pem": "\n".join(untrusted) + "\n", "crl.pem": crl or ""}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    args = ["openssl", "verify", "-CAfile", str(tmp_path / "root.pem")]
    if untrusted:
        args += ["-untrusted", str(tmp_path / "untrusted.pem")]
    if crl is not None:
        args += ["-crl_check", "-CRLfile", str(tmp_path / "crl.pem")]
    result = subprocess.run([*args, str(tmp_path / "leaf.pem")], capture_output=True, text=True, timeout=30,
                            check=False)
    return result.stdout + result.stderr


def test_generate_root_answers_vaults_fields(root: hvac.Client) -> None:
    mount = unique("pki")
    root.sys.enable_secrets_engine("pki", path=mount)
    answer = root.secrets.pki.generate_root("exported", "Exported Root", {"key_type": "ec"}, mount_point=mount)
    data = answer["data"]
    assert {"certificate", "issuing_ca", "serial_number", "expiration", "issuer_id", "private_key",
            "private_key_type"} <= set(data)
    assert data["private_key_type"] == "ec"
    assert answer["lease_id"] == ""
    assert root.secrets.pki.read_ca_certificate(mount_point=mount) == data["certificate"]


def test_issue_and_verify_with_openssl(root: hvac.Client, pki: str, tmp_path: Path) -> None:
    issued = root.secrets.pki.generate_certificate(
        "web", "www.example.com", {"alt_names": "api.example.com", "ip_sans": "127.0.0.1", "ttl": "1h"},
        mount_point=pki,
    )["data"]
    ca = root.secrets.pki.read_ca_certificate(mount_point=pki)
    assert issued["issuing_ca"] == ca
    assert issued["ca_chain"] == [ca]
    assert _verify(tmp_path, issued["certificate"], ca).strip().endswith("OK")
    cert = x509.load_pem_x509_certificate(issued["certificate"].encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["www.example.com", "api.example.com"]
    assert issued["serial_number"] in root.secrets.pki.list_certificates(mount_point=pki)["data"]["keys"]
    fetched = root.secrets.pki.read_certificate(issued["serial_number"], mount_point=pki)["data"]
    assert fetched["certificate"] == issued["certificate"]
    assert fetched["revocation_time"] == 0


def test_roles_round_trip(root: hvac.Client, pki: str) -> None:
    role = root.secrets.pki.read_role("web", mount_point=pki)["data"]
    assert role["allowed_domains"] == ["example.com"]
    assert role["max_ttl"] == 72 * 3600
    assert "web" in root.secrets.pki.list_roles(mount_point=pki)["data"]["keys"]
    root.secrets.pki.delete_role("web", mount_point=pki)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.pki.read_role("web", mount_point=pki)


def test_forbidden_names_and_long_ttls_are_400(root: hvac.Client, pki: str) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest, match="not allowed by this role"):
        root.secrets.pki.generate_certificate("web", "www.evil.org", mount_point=pki)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="beyond the maximum TTL"):
        root.secrets.pki.generate_certificate("web", "www.example.com", {"ttl": "73h"}, mount_point=pki)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid key_type"):
        root.secrets.pki.create_or_update_role("bad", {"key_type": "dsa"}, mount_point=pki)


def test_sign_a_csr(root: hvac.Client, pki: str, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svc.example.com")]))
           .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    signed = root.secrets.pki.sign_certificate("web", csr, "svc.example.com", mount_point=pki)["data"]
    assert x509.load_pem_x509_certificate(signed["certificate"].encode()).public_key() == key.public_key()
    assert _verify(tmp_path, signed["certificate"], signed["issuing_ca"]).strip().endswith("OK")
    verbatim = root.secrets.pki.sign_verbatim(csr, mount_point=pki)["data"]
    assert _verify(tmp_path, verbatim["certificate"], signed["issuing_ca"]).strip().endswith("OK")


def test_intermediate_chain_through_two_mounts(root: hvac.Client, pki: str, tmp_path: Path) -> None:
    inter = unique("pki-int")
    root.sys.enable_secrets_engine("pki", path=inter)
    root.sys.tune_mount_configuration(inter, max_lease_ttl="43800h")
    csr = root.secrets.pki.generate_intermediate("internal", "Compat Intermediate", {"key_type": "ec"},
                                                 mount_point=inter)["data"]["csr"]
    signed = root.secrets.pki.sign_intermediate(csr, "Compat Intermediate", {"ttl": "43800h"},
                                                mount_point=pki)["data"]
    chain = signed["certificate"] + "\n" + signed["issuing_ca"]
    imported = root.secrets.pki.set_signed_intermediate(chain, mount_point=inter)
    assert imported["data"]["imported_issuers"]
    root.secrets.pki.create_or_update_role("web", {"allowed_domains": ["example.com"], "allow_subdomains": True,
                                                   "key_type": "ec"}, mount_point=inter)
    leaf = root.secrets.pki.generate_certificate("web", "www.example.com", {"ttl": "1h"}, mount_point=inter)["data"]
    ca = root.secrets.pki.read_ca_certificate(mount_point=pki)
    assert leaf["ca_chain"] == [signed["certificate"], ca]
    assert _verify(tmp_path, leaf["certificate"], ca, untrusted=[signed["certificate"]]).strip().endswith("OK")
    assert root.secrets.pki.read_ca_certificate_chain(mount_point=inter) == chain
    issuer = root.secrets.pki.read_issuer("default", mount_point=inter)["data"]
    assert issuer["ca_chain"] == [signed["certificate"], ca]


def test_revoke_and_read_the_crl(root: hvac.Client, pki: str, tmp_path: Path) -> None:
    revoked = root.secrets.pki.generate_certificate("web", "old.example.com", {"ttl": "1h"}, mount_point=pki)["data"]
    kept = root.secrets.pki.generate_certificate("web", "new.example.com", {"ttl": "1h"}, mount_point=pki)["data"]
    answer = root.secrets.pki.revoke_certificate(revoked["serial_number"], mount_point=pki)["data"]
    assert answer["revocation_time"] > 0
    crl_pem = root.secrets.pki.read_crl(mount_point=pki)
    crl = x509.load_pem_x509_crl(crl_pem.encode())
    ca = root.secrets.pki.read_ca_certificate(mount_point=pki)
    assert crl.is_signature_valid(x509.load_pem_x509_certificate(ca.encode()).public_key())
    serial = int(revoked["serial_number"].replace(":", ""), 16)
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert "certificate revoked" in _verify(tmp_path, revoked["certificate"], ca, crl=crl_pem)
    assert _verify(tmp_path, kept["certificate"], ca, crl=crl_pem).strip().endswith("OK")
    assert root.secrets.pki.rotate_crl(mount_point=pki)["data"] == {"success": True}
    listed = root.adapter.list(f"/v1/{pki}/certs/revoked")["data"]["keys"]
    assert listed == [revoked["serial_number"]]
    with pytest.raises(hvac.exceptions.InvalidRequest, match="not found"):
        root.secrets.pki.revoke_certificate("01:02:03", mount_point=pki)


def test_public_paths_answer_without_a_token(root: hvac.Client, pki: str) -> None:
    ca = root.secrets.pki.read_ca_certificate(mount_point=pki)
    for path, content_type in (("ca/pem", "application/pem-certificate-chain"), ("ca", "application/pkix-cert"),
                               ("crl", "application/pkix-crl"), ("ca_chain", "application/pkix-cert")):
        response = httpx.get(f"{root.url}/v1/{pki}/{path}", timeout=10)
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
    assert httpx.get(f"{root.url}/v1/{pki}/ca/pem", timeout=10).text == ca
    assert httpx.get(f"{root.url}/v1/{pki}/cert/ca", timeout=10).json()["data"]["certificate"] == ca
    listing = httpx.request("LIST", f"{root.url}/v1/{pki}/certs", timeout=10)
    assert listing.status_code == 403
    issue = httpx.post(f"{root.url}/v1/{pki}/issue/web", json={"common_name": "www.example.com"}, timeout=10)
    assert issue.status_code == 403


def test_urls_config_and_tidy(root: hvac.Client, pki: str) -> None:
    root.secrets.pki.set_urls({"issuing_certificates": [f"{root.url}/v1/{pki}/ca"],
                               "crl_distribution_points": [f"{root.url}/v1/{pki}/crl"]}, mount_point=pki)
    assert root.secrets.pki.read_urls(mount_point=pki)["data"]["issuing_certificates"] == [f"{root.url}/v1/{pki}/ca"]
    leaf = root.secrets.pki.generate_certificate("web", "www.example.com", {"ttl": "1h"}, mount_point=pki)["data"]
    cert = x509.load_pem_x509_certificate(leaf["certificate"].encode())
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == f"{root.url}/v1/{pki}/crl"
    tidied = root.secrets.pki.tidy({"tidy_cert_store": True, "safety_buffer": "1h"}, mount_point=pki)
    assert tidied.status_code == 202
    status = root.adapter.get(f"/v1/{pki}/tidy-status")["data"]
    assert (status["state"], status["cert_store_deleted_count"]) == ("Finished", 0)


def test_submit_ca_information_imports_a_bundle(root: hvac.Client, tmp_path: Path) -> None:
    source = unique("pki-src")
    root.sys.enable_secrets_engine("pki", path=source)
    exported = root.secrets.pki.generate_root("exported", "Portable Root", {"key_type": "ec"},
                                              mount_point=source)["data"]
    target = unique("pki-dst")
    root.sys.enable_secrets_engine("pki", path=target)
    root.secrets.pki.submit_ca_information(exported["private_key"] + "\n" + exported["certificate"],
                                           mount_point=target)
    assert root.secrets.pki.read_ca_certificate(mount_point=target) == exported["certificate"]
    root.secrets.pki.create_or_update_role("any", {"allow_any_name": True, "key_type": "ec"}, mount_point=target)
    leaf = root.secrets.pki.generate_certificate("any", "host.internal", {"ttl": "1h"}, mount_point=target)["data"]
    assert _verify(tmp_path, leaf["certificate"], exported["certificate"]).strip().endswith("OK")
