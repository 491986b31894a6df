"""Known-answer tests: our output checked by independent code written here from the documented formats.

* ciphertexts: ``vault:v<N>:base64(nonce(12) || ciphertext || tag(16))`` opened with ``cryptography``'s
  AEADs directly, given the exported key (derived keys: HKDF-SHA256, no salt, info = context; convergent
  keys: the nonce recomputed from docs/transit.md), and ciphertexts made here decrypt on the server;
* signatures verified with the real ``openssl`` command and with ``cryptography``, and signatures made by
  ``openssl`` with the exported key verified by the server;
* HMACs and hashes against the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from transit_harness import Transit, b64, unb64


def split_envelope(text: str) -> tuple[int, bytes]:
    """Independent parse of the documented envelope."""
    tag, version, body = text.split(":")
    assert tag == "vault"
    assert version.startswith("v")
    return int(version[1:]), base64.b64decode(body, validate=True)


def exported(transit: Transit, name: str, kind: str = "encryption-key", version: str = "1") -> str:
    value: str = transit.read(f"export/{kind}/{name}/{version}")["keys"][version]
    return value


def hkdf_sha256(ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


@pytest.mark.parametrize(("key_type", "aead", "size"), [
    ("aes256-gcm96", AESGCM, 32), ("aes128-gcm96", AESGCM, 16), ("chacha20-poly1305", ChaCha20Poly1305, 32),
])
def test_ciphertexts_open_with_the_exported_key_and_the_documented_layout(
    transit: Transit, key_type: str, aead: type[AESGCM] | type[ChaCha20Poly1305], size: int
) -> None:
    transit.create("k", type=key_type, exportable=True)
    key = unb64(exported(transit, "k"))
    assert len(key) == size
    plaintext = os.urandom(1024)
    version, body = split_envelope(transit.encrypt("k", plaintext, associated_data=b64(b"row-1")))
    assert version == 1
    assert len(body) == 12 + len(plaintext) + 16
    assert aead(key).decrypt(body[:12], body[12:], b"row-1") == plaintext


def test_ciphertexts_made_independently_decrypt_on_the_server(transit: Transit) -> None:
    transit.create("k", exportable=True)
    key = unb64(exported(transit, "k"))
    nonce = os.urandom(12)
    ours = "vault:v1:" + b64(nonce + AESGCM(key).encrypt(nonce, b"made elsewhere", None))
    assert transit.decrypt("k", ours) == b"made elsewhere"


def test_derived_keys_are_hkdf_sha256_of_the_version_key_with_the_context_as_info(transit: Transit) -> None:
    transit.create("k", derived=True, exportable=True)
    key = unb64(exported(transit, "k"))
    _, body = split_envelope(transit.encrypt("k", b"tenant data", context=b64(b"tenant-7")))
    derived = hkdf_sha256(key, b"tenant-7", 32)
    assert AESGCM(derived).decrypt(body[:12], body[12:], None) == b"tenant data"


def test_convergent_nonces_follow_the_documented_construction(transit: Transit) -> None:
    transit.create("k", derived=True, convergent_encryption=True, exportable=True)
    key = unb64(exported(transit, "k"))
    context, ad, plaintext = b"tenant-7", b"column:ssn", b"078-05-1120"
    _, body = split_envelope(transit.encrypt("k", plaintext, context=b64(context), associated_data=b64(ad)))
    nonce_key = hkdf_sha256(key, b"strongroom/transit/convergent-nonce\x00" + context, 32)
    message = len(ad).to_bytes(8, "big") + ad + plaintext
    expected_nonce = hmac.new(nonce_key, message, hashlib.sha256).digest()[:12]
    assert body[:12] == expected_nonce
    assert AESGCM(hkdf_sha256(key, context, 32)).decrypt(expected_nonce, body[12:], ad) == plaintext


def test_rsa_ciphertexts_are_oaep_sha256_under_the_exported_key(transit: Transit) -> None:
    transit.create("k", type="rsa-2048", exportable=True)
    pem = exported(transit, "k")
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    _, body = split_envelope(transit.encrypt("k", b"wrapped"))
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    assert private.decrypt(body, oaep) == b"wrapped"
    ours = "vault:v1:" + b64(private.public_key().encrypt(b"made elsewhere", oaep))
    assert transit.decrypt("k", ours) == b"made elsewhere"


def test_hmacs_match_the_standard_library_with_the_exported_hmac_key(transit: Transit) -> None:
    for key_type in ("aes256-gcm96", "hmac", "ed25519"):
        transit.create(key_type, type=key_type, exportable=True)
        key = unb64(exported(transit, key_type, "hmac-key"))
        for algorithm, name in (("sha2-256", "sha256"), ("sha2-512", "sha512"), ("sha3-256", "sha3_256")):
            answer = transit.write(f"hmac/{key_type}/{algorithm}", {"input": b64(b"message")})["hmac"]
            version, mac = split_envelope(answer)
            assert version == 1
            assert mac == hmac.new(key, b"message", name).digest()


@pytest.mark.parametrize(("algorithm", "name"), [
    ("sha2-224", "sha224"), ("sha2-256", "sha256"), ("sha2-384", "sha384"), ("sha2-512", "sha512"),
    ("sha3-224", "sha3_224"), ("sha3-256", "sha3_256"), ("sha3-384", "sha3_384"), ("sha3-512", "sha3_512"),
])
def test_hash_matches_hashlib(transit: Transit, algorithm: str, name: str) -> None:
    data = os.urandom(333)
    assert transit.write(f"hash/{algorithm}", {"input": b64(data)})["sum"] == hashlib.new(name, data).hexdigest()
    as_base64 = transit.write("hash", {"input": b64(data), "algorithm": algorithm, "format": "base64"})["sum"]
    assert unb64(as_base64) == hashlib.new(name, data).digest()


# --- signatures checked with the real openssl command -------------------------------------------------------

def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False, timeout=30)


def public_pem(transit: Transit, name: str) -> bytes:
    text = transit.read(f"keys/{name}")["keys"]["1"]["public_key"]
    if text.startswith("-----BEGIN"):
        return str(text).encode()
    public = ed25519.Ed25519PublicKey.from_public_bytes(unb64(text))
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def signature_of(transit: Transit, name: str, data: bytes, **fields: object) -> bytes:
    version, raw = split_envelope(transit.write(f"sign/{name}", {"input": b64(data), **fields})["signature"])
    assert version == 1
    return raw


@pytest.mark.parametrize(("key_type", "hash_algorithm", "digest", "sigopts"), [
    ("ecdsa-p256", "sha2-256", "-sha256", []),
    ("ecdsa-p384", "sha2-384", "-sha384", []),
    ("ecdsa-p521", "sha2-512", "-sha512", []),
    ("ecdsa-p256", "sha3-256", "-sha3-256", []),
    ("rsa-2048", "sha2-256", "-sha256", ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:auto"]),
    ("rsa-2048", "sha1", "-sha1", ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:auto"]),
])
def test_signatures_verify_with_openssl_dgst(
    transit: Transit, tmp_path: Path, key_type: str, hash_algorithm: str, digest: str, sigopts: list[str]
) -> None:
    transit.create("k", type=key_type)
    data = os.urandom(700)
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "pub.pem").write_bytes(public_pem(transit, "k"))
    (tmp_path / "sig").write_bytes(signature_of(transit, "k", data, hash_algorithm=hash_algorithm))
    args = ["dgst", digest, "-verify", str(tmp_path / "pub.pem"), *sigopts, "-signature", str(tmp_path / "sig")]
    result = openssl(*args, str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout
    (tmp_path / "data").write_bytes(data + b"!")
    assert openssl(*args, str(tmp_path / "data")).returncode != 0


@pytest.mark.parametrize(("hash_algorithm", "digest"), [("sha2-512", "-sha512"), ("sha2-256", "-sha256")])
def test_rsa_pkcs1v15_signatures_verify_with_openssl(
    transit: Transit, tmp_path: Path, hash_algorithm: str, digest: str
) -> None:
    transit.create("k", type="rsa-3072")
    (tmp_path / "data").write_bytes(b"pay 100 to bob")
    (tmp_path / "pub.pem").write_bytes(public_pem(transit, "k"))
    raw = signature_of(transit, "k", b"pay 100 to bob", hash_algorithm=hash_algorithm, signature_algorithm="pkcs1v15")
    (tmp_path / "sig").write_bytes(raw)
    result = openssl("dgst", digest, "-verify", str(tmp_path / "pub.pem"), "-signature", str(tmp_path / "sig"),
                     str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr


def test_rsa_pss_with_the_hash_length_salt_verifies_with_openssl(transit: Transit, tmp_path: Path) -> None:
    transit.create("k", type="rsa-2048")
    (tmp_path / "data").write_bytes(b"x")
    (tmp_path / "pub.pem").write_bytes(public_pem(transit, "k"))
    (tmp_path / "sig").write_bytes(signature_of(transit, "k", b"x", salt_length="hash"))
    result = openssl("dgst", "-sha256", "-verify", str(tmp_path / "pub.pem"), "-sigopt", "rsa_padding_mode:pss",
                     "-sigopt", "rsa_pss_saltlen:digest", "-signature", str(tmp_path / "sig"), str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr


def test_ed25519_signatures_verify_with_openssl_pkeyutl(transit: Transit, tmp_path: Path) -> None:
    transit.create("k", type="ed25519")
    data = b"release-v1.2.3.tar.gz digest"
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "pub.pem").write_bytes(public_pem(transit, "k"))
    (tmp_path / "sig").write_bytes(signature_of(transit, "k", data))
    result = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
                     "-in", str(tmp_path / "data"), "-sigfile", str(tmp_path / "sig"))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Signature Verified Successfully" in result.stdout


def test_prehashed_ecdsa_signs_the_given_digest(transit: Transit, tmp_path: Path) -> None:
    transit.create("k", type="ecdsa-p256")
    data = b"a large file"
    raw = signature_of(transit, "k", hashlib.sha256(data).digest(), prehashed=True)
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "pub.pem").write_bytes(public_pem(transit, "k"))
    (tmp_path / "sig").write_bytes(raw)
    result = openssl("dgst", "-sha256", "-verify", str(tmp_path / "pub.pem"), "-signature", str(tmp_path / "sig"),
                     str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr


def test_jws_marshalled_ecdsa_is_fixed_width_r_and_s(transit: Transit) -> None:
    transit.create("k", type="ecdsa-p384")
    answer = transit.write("sign/k/sha2-384", {"input": b64(b"jwt body"), "marshaling_algorithm": "jws"})
    body = answer["signature"].split(":")[2]
    assert "=" not in body
    assert "+" not in body
    assert "/" not in body
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert len(raw) == 96
    public = serialization.load_pem_public_key(public_pem(transit, "k"))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    der = utils.encode_dss_signature(int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big"))
    public.verify(der, b"jwt body", ec.ECDSA(hashes.SHA384()))


def test_signatures_made_by_openssl_with_the_exported_key_verify_on_the_server(
    transit: Transit, tmp_path: Path
) -> None:
    transit.create("ec", type="ecdsa-p256", exportable=True)
    transit.create("ed", type="ed25519", exportable=True)
    (tmp_path / "data").write_bytes(b"signed elsewhere")
    ec_pem = exported(transit, "ec", "signing-key")
    assert ec_pem.startswith("-----BEGIN EC PRIVATE KEY-----")
    (tmp_path / "ec.pem").write_text(ec_pem + "\n")
    signed = openssl("dgst", "-sha256", "-sign", str(tmp_path / "ec.pem"), "-out", str(tmp_path / "ec.sig"),
                     str(tmp_path / "data"))
    assert signed.returncode == 0, signed.stderr
    ec_signature = "vault:v1:" + b64((tmp_path / "ec.sig").read_bytes())
    assert transit.write("verify/ec", {"input": b64(b"signed elsewhere"), "signature": ec_signature})["valid"]

    ed_raw = unb64(exported(transit, "ed", "signing-key"))
    assert len(ed_raw) == 64
    seed = ed25519.Ed25519PrivateKey.from_private_bytes(ed_raw[:32])
    assert seed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == ed_raw[32:]
    pem = seed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    (tmp_path / "ed.pem").write_bytes(pem)
    signed = openssl("pkeyutl", "-sign", "-inkey", str(tmp_path / "ed.pem"), "-rawin", "-in", str(tmp_path / "data"),
                     "-out", str(tmp_path / "ed.sig"))
    assert signed.returncode == 0, signed.stderr
    ed_signature = "vault:v1:" + b64((tmp_path / "ed.sig").read_bytes())
    assert transit.write("verify/ed", {"input": b64(b"signed elsewhere"), "signature": ed_signature})["valid"]


def test_derived_ed25519_signs_with_hkdf_of_the_seed_and_reports_its_public_key(transit: Transit) -> None:
    transit.create("k", type="ed25519", derived=True, exportable=True)
    seed = unb64(exported(transit, "k", "signing-key"))[:32]
    answer = transit.write("sign/k", {"input": b64(b"m"), "context": b64(b"device-9")})
    derived = ed25519.Ed25519PrivateKey.from_private_bytes(hkdf_sha256(seed, b"device-9", 32))
    public_raw = derived.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert unb64(answer["publickey"]) == public_raw
    derived.public_key().verify(split_envelope(answer["signature"])[1], b"m")


def test_signatures_verify_with_cryptography_too(transit: Transit) -> None:
    transit.create("k", type="rsa-4096")
    public = serialization.load_pem_public_key(public_pem(transit, "k"))
    assert isinstance(public, rsa.RSAPublicKey)
    raw = signature_of(transit, "k", b"m", hash_algorithm="sha2-384")
    public.verify(raw, b"m", padding.PSS(padding.MGF1(hashes.SHA384()), padding.PSS.AUTO), hashes.SHA384())
