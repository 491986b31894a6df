"""hvac's transit API (``client.secrets.transit``) against a real dev server process."""

from __future__ import annotations

import base64
import hashlib

import httpx
import hvac
import hvac.exceptions
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tests.compat.hvac_support import token_with_policy, unique

DECRYPT_FAILED = "invalid ciphertext: could not decrypt"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def mount(root: hvac.Client) -> str:
    path = unique("transit")
    root.sys.enable_secrets_engine("transit", path=path)
    return path


def test_keys_are_created_read_listed_configured_rotated_and_deleted(root: hvac.Client, mount: str) -> None:
    transit = root.secrets.transit
    created = transit.create_key("orders", mount_point=mount)
    assert created["data"]["type"] == "aes256-gcm96"
    transit.create_key("signer", key_type="ecdsa-p256", mount_point=mount)
    assert transit.list_keys(mount_point=mount)["data"]["keys"] == ["orders", "signer"]
    key = transit.read_key("orders", mount_point=mount)["data"]
    assert key["latest_version"] == 1
    assert key["supports_encryption"] is True
    assert key["keys"]["1"] > 0
    transit.rotate_key("orders", mount_point=mount)
    transit.update_key_configuration("orders", min_decryption_version=2, auto_rotate_period="2h",
                                     mount_point=mount)
    key = transit.read_key("orders", mount_point=mount)["data"]
    assert (key["latest_version"], key["min_decryption_version"], key["auto_rotate_period"]) == (2, 2, 7200)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="deletion is not allowed"):
        transit.delete_key("orders", mount_point=mount)
    transit.update_key_configuration("orders", deletion_allowed=True, mount_point=mount)
    transit.delete_key("orders", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidPath):
        transit.read_key("orders", mount_point=mount)


def test_encrypt_decrypt_and_rewrap_single_and_batch(root: hvac.Client, mount: str) -> None:
    transit = root.secrets.transit
    transit.create_key("k", mount_point=mount)
    ciphertext = transit.encrypt_data("k", plaintext=b64(b"card 4111"), mount_point=mount)["data"]["ciphertext"]
    assert ciphertext.startswith("vault:v1:")
    assert transit.decrypt_data("k", ciphertext=ciphertext, mount_point=mount)["data"]["plaintext"] == b64(b"card 4111")

    batch = [{"plaintext": b64(b"row-%d" % i), "reference": str(i)} for i in range(100)]
    sealed = transit.encrypt_data("k", batch_input=batch, mount_point=mount)["data"]["batch_results"]
    assert [item["reference"] for item in sealed] == [str(i) for i in range(100)]
    opened = transit.decrypt_data("k", batch_input=[{"ciphertext": s["ciphertext"]} for s in sealed],
                                  mount_point=mount)["data"]["batch_results"]
    assert [base64.b64decode(item["plaintext"]) for item in opened] == [b"row-%d" % i for i in range(100)]

    transit.rotate_key("k", mount_point=mount)
    rewrapped = transit.rewrap_data("k", ciphertext=ciphertext, mount_point=mount)["data"]
    assert rewrapped["ciphertext"].startswith("vault:v2:")
    assert rewrapped["key_version"] == 2
    assert transit.decrypt_data("k", ciphertext=rewrapped["ciphertext"], mount_point=mount)["data"]["plaintext"] == (
        b64(b"card 4111")
    )


def test_a_tampered_ciphertext_is_the_one_opaque_400(root: hvac.Client, mount: str) -> None:
    transit = root.secrets.transit
    transit.create_key("k", mount_point=mount)
    ciphertext = transit.encrypt_data("k", plaintext=b64(b"x"), mount_point=mount)["data"]["ciphertext"]
    body = bytearray(base64.b64decode(ciphertext.split(":")[2]))
    body[-1] ^= 0x01
    for bad in ("vault:v1:" + b64(bytes(body)), "vault:v7:" + ciphertext.split(":")[2], "not a ciphertext"):
        with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
            transit.decrypt_data("k", ciphertext=bad, mount_point=mount)
        assert caught.value.errors == [DECRYPT_FAILED]


def test_a_batch_with_a_failed_item_answers_400_with_every_result(root: hvac.Client, mount: str) -> None:
    root.secrets.transit.create_key("k", mount_point=mount)
    good = root.secrets.transit.encrypt_data("k", plaintext=b64(b"ok"), mount_point=mount)["data"]["ciphertext"]
    body = {"batch_input": [{"ciphertext": good}, {"ciphertext": "junk", "reference": "r2"}]}
    headers = {"X-Vault-Token": root.token}
    answer = httpx.post(f"{root.url}/v1/{mount}/decrypt/k", json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["data"]["batch_results"] == [
        {"plaintext": b64(b"ok"), "reference": ""}, {"error": DECRYPT_FAILED, "reference": "r2"},
    ]
    body["partial_failure_response_code"] = 207  # type: ignore[assignment]
    assert httpx.post(f"{root.url}/v1/{mount}/decrypt/k", json=body, headers=headers).status_code == 207


def test_a_caller_nonce_on_a_non_convergent_key_is_400(root: hvac.Client, mount: str) -> None:
    root.secrets.transit.create_key("k", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="a nonce may not be supplied"):
        root.secrets.transit.encrypt_data("k", plaintext=b64(b"x"), nonce=b64(b"\x00" * 12), mount_point=mount)


def test_derived_convergent_keys_are_deterministic_per_context(root: hvac.Client, mount: str) -> None:
    transit = root.secrets.transit
    transit.create_key("ssn", derived=True, convergent_encryption=True, mount_point=mount)
    first = transit.encrypt_data("ssn", plaintext=b64(b"078-05-1120"), context=b64(b"t1"), mount_point=mount)
    again = transit.encrypt_data("ssn", plaintext=b64(b"078-05-1120"), context=b64(b"t1"), mount_point=mount)
    other = transit.encrypt_data("ssn", plaintext=b64(b"078-05-1120"), context=b64(b"t2"), mount_point=mount)
    assert first["data"]["ciphertext"] == again["data"]["ciphertext"] != other["data"]["ciphertext"]
    assert transit.read_key("ssn", mount_point=mount)["data"]["convergent_encryption"] is True


def test_encrypt_creates_a_missing_key_only_with_the_create_capability(root: hvac.Client, mount: str) -> None:
    rules = f'path "{mount}/encrypt/*" {{ capabilities = ["update"] }}'
    update_only = token_with_policy(root, unique("transit-update"), rules)
    # Vault's existence check makes a write to a missing key a "create": without that capability, 403.
    with pytest.raises(hvac.exceptions.Forbidden):
        update_only.secrets.transit.encrypt_data("fresh", plaintext=b64(b"x"), mount_point=mount)
    root.secrets.transit.create_key("existing", mount_point=mount)
    assert update_only.secrets.transit.encrypt_data("existing", plaintext=b64(b"x"), mount_point=mount)
    creator = token_with_policy(root, unique("transit-create"),
                                f'path "{mount}/encrypt/*" {{ capabilities = ["create", "update"] }}')
    creator.secrets.transit.encrypt_data("fresh", plaintext=b64(b"x"), mount_point=mount)
    assert root.secrets.transit.read_key("fresh", mount_point=mount)["data"]["type"] == "aes256-gcm96"


def test_datakeys_random_bytes_hashes_and_hmacs(root: hvac.Client, mount: str) -> None:
    transit = root.secrets.transit
    transit.create_key("k", exportable=True, mount_point=mount)
    datakey = transit.generate_data_key("k", key_type="plaintext", bits=512, mount_point=mount)["data"]
    assert len(base64.b64decode(datakey["plaintext"])) == 64
    opened = transit.decrypt_data("k", ciphertext=datakey["ciphertext"], mount_point=mount)["data"]["plaintext"]
    assert opened == datakey["plaintext"]
    assert "plaintext" not in transit.generate_data_key("k", key_type="wrapped", mount_point=mount)["data"]
    random = transit.generate_random_bytes(n_bytes=48, output_format="hex", mount_point=mount)["data"]
    assert len(bytes.fromhex(random["random_bytes"])) == 48
    digest = transit.hash_data(b64(b"abc"), algorithm="sha2-512", mount_point=mount)["data"]["sum"]
    assert digest == hashlib.sha512(b"abc").hexdigest()
    mac = transit.generate_hmac("k", b64(b"abc"), algorithm="sha2-256", mount_point=mount)["data"]["hmac"]
    verified = transit.verify_signed_data("k", b64(b"abc"), hmac=mac, hash_algorithm="sha2-256", mount_point=mount)
    assert verified["data"]["valid"] is True


def test_signatures_verify_on_the_server_and_with_cryptography(root: hvac.Client, mount: str) -> None:
    transit = root.secrets.transit
    transit.create_key("rsa", key_type="rsa-2048", mount_point=mount)
    transit.create_key("ec", key_type="ecdsa-p256", mount_point=mount)
    transit.create_key("ed", key_type="ed25519", mount_point=mount)
    data = b64(b"release 1.2.3")
    for name, options in (
        ("rsa", {"signature_algorithm": "pss"}),
        ("rsa", {"signature_algorithm": "pkcs1v15", "hash_algorithm": "sha2-512"}),
        ("ec", {"marshaling_algorithm": "jws"}),
        ("ed", {}),
    ):
        signature = transit.sign_data(name, hash_input=data, mount_point=mount, **options)["data"]["signature"]
        verified = transit.verify_signed_data(name, data, signature=signature, mount_point=mount, **options)
        assert verified["data"]["valid"] is True
        tampered = transit.verify_signed_data(name, b64(b"release 1.2.4"), signature=signature, mount_point=mount,
                                              **options)
        assert tampered["data"]["valid"] is False

    pem = transit.read_key("rsa", mount_point=mount)["data"]["keys"]["1"]["public_key"]
    public = serialization.load_pem_public_key(pem.encode())
    assert isinstance(public, rsa.RSAPublicKey)
    signature = transit.sign_data("rsa", hash_input=data, mount_point=mount)["data"]["signature"]
    public.verify(base64.b64decode(signature.split(":")[2]), b"release 1.2.3",
                  padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO), hashes.SHA256())
    ec_pem = transit.read_key("ec", mount_point=mount)["data"]["keys"]["1"]["public_key"]
    ec_public = serialization.load_pem_public_key(ec_pem.encode())
    assert isinstance(ec_public, ec.EllipticCurvePublicKey)
    ec_signature = transit.sign_data("ec", hash_input=data, mount_point=mount)["data"]["signature"]
    ec_public.verify(base64.b64decode(ec_signature.split(":")[2]), b"release 1.2.3", ec.ECDSA(hashes.SHA256()))


def test_batch_signing(root: hvac.Client, mount: str) -> None:
    transit = root.secrets.transit
    transit.create_key("ed", key_type="ed25519", derived=True, mount_point=mount)
    batch = [{"input": b64(b"a"), "context": b64(b"device-1")}, {"input": b64(b"b"), "context": b64(b"device-2")}]
    results = transit.sign_data("ed", batch_input=batch, mount_point=mount)["data"]["batch_results"]
    assert len(results) == 2
    assert results[0]["publickey"] != results[1]["publickey"]


def test_export_backup_restore_and_trim(root: hvac.Client, mount: str) -> None:
    transit = root.secrets.transit
    transit.create_key("k", exportable=True, allow_plaintext_backup=True, mount_point=mount)
    ciphertext = transit.encrypt_data("k", plaintext=b64(b"kept"), mount_point=mount)["data"]["ciphertext"]
    key = base64.b64decode(transit.export_key("k", key_type="encryption-key", version="1",
                                              mount_point=mount)["data"]["keys"]["1"])
    body = base64.b64decode(ciphertext.split(":")[2])
    assert AESGCM(key).decrypt(body[:12], body[12:], None) == b"kept"

    backup = transit.backup_key("k", mount_point=mount)["data"]["backup"]
    transit.restore_key(backup, name="copy", mount_point=mount)
    assert transit.decrypt_data("copy", ciphertext=ciphertext, mount_point=mount)["data"]["plaintext"] == b64(b"kept")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="already exists"):
        transit.restore_key(backup, name="copy", mount_point=mount)

    for _ in range(3):
        transit.rotate_key("k", mount_point=mount)
    transit.update_key_configuration("k", min_decryption_version=3, min_encryption_version=4, mount_point=mount)
    trimmed = transit.trim_key("k", min_version=3, mount_point=mount)["data"]
    assert sorted(trimmed["keys"]) == ["3", "4"]
    with pytest.raises(hvac.exceptions.InvalidRequest, match=DECRYPT_FAILED):
        transit.decrypt_data("k", ciphertext=ciphertext, mount_point=mount)
