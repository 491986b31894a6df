"""The awskms seal in process, against moto's KMS emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import botocore.exceptions
import pytest

from strongroom.errors import DecryptionFailed
from strongroom.seals import awskms
from strongroom.seals.awskms import ENCRYPTION_CONTEXT, AwsKmsOptions, AwsKmsSeal, SealUnavailable
from strongroom.server.seal_setup import build_seal
from tests.seals.kms_emulator import ACCESS_KEY, REGION, SECRET_KEY, KmsEmulator, server_env
from tests.support.server import free_port

UNSEAL_KEY = bytes(range(32))


def make_seal(kms: KmsEmulator, key_id: str, **overrides: str) -> AwsKmsSeal:
    block = {"region": REGION, "kms_key_id": key_id, "endpoint": kms.endpoint, **overrides}
    return awskms.build(block, environ=server_env())


def encrypt(seal: AwsKmsSeal, plaintext: bytes = UNSEAL_KEY) -> bytes:
    return asyncio.run(seal.encrypt(plaintext))


def decrypt(seal: AwsKmsSeal, blob: bytes) -> bytes:
    return asyncio.run(seal.decrypt(blob))


def unavailable(seal: AwsKmsSeal, blob: bytes | None = None) -> str:
    call = (lambda: encrypt(seal)) if blob is None else (lambda: decrypt(seal, blob))
    with pytest.raises(SealUnavailable) as caught:
        call()
    assert seal.last_error == str(caught.value)
    return str(caught.value)


def test_round_trip_records_the_key_arn_and_binds_the_encryption_context(kms: KmsEmulator) -> None:
    key = kms.create_key()
    seal = make_seal(kms, key["KeyId"])
    blob = encrypt(seal)
    arn = key["Arn"].encode()
    assert blob.startswith(b"SRA\x01" + len(arn).to_bytes(2, "big") + arn)
    assert UNSEAL_KEY not in blob
    assert decrypt(seal, blob) == UNSEAL_KEY
    status = asyncio.run(seal.status())
    assert status == {"type": "awskms", "region": REGION, "kms_key_id": key["KeyId"], "endpoint": kms.endpoint,
                      "key_arn": key["Arn"], "last_error": ""}
    # KMS refuses the ciphertext to anyone who does not name the purpose it was bound to.
    ciphertext = blob[4 + 2 + len(arn):]
    client = kms.client()
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.decrypt(CiphertextBlob=ciphertext, KeyId=key["Arn"])
    assert caught.value.response["Error"]["Code"] == "InvalidCiphertextException"
    assert client.decrypt(CiphertextBlob=ciphertext, KeyId=key["Arn"],
                          EncryptionContext=ENCRYPTION_CONTEXT)["Plaintext"] == UNSEAL_KEY


def test_a_ciphertext_made_for_another_purpose_does_not_decrypt(kms: KmsEmulator) -> None:
    key = kms.create_key()
    other = kms.client().encrypt(KeyId=key["Arn"], Plaintext=UNSEAL_KEY, EncryptionContext={"purpose": "other"})
    arn = key["Arn"].encode()
    blob = b"SRA\x01" + len(arn).to_bytes(2, "big") + arn + other["CiphertextBlob"]
    with pytest.raises(DecryptionFailed):
        decrypt(make_seal(kms, key["KeyId"]), blob)


def test_every_changed_byte_truncation_or_header_is_one_opaque_error(kms: KmsEmulator) -> None:
    key = kms.create_key()
    seal = make_seal(kms, key["KeyId"])
    blob = encrypt(seal)
    arn_end = 6 + len(key["Arn"])
    # Magic, version, the high length byte, the ARN's first character, and positions across the KMS ciphertext.
    for position in (0, 3, 4, 6, arn_end + 40, arn_end + 60, len(blob) - 20, len(blob) - 1):
        changed = bytearray(blob)
        changed[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            decrypt(seal, bytes(changed))
    # A changed key id inside the recorded ARN names a key that does not exist: said so, nothing decrypts.
    changed = bytearray(blob)
    changed[arn_end - 1] ^= 0x01
    with pytest.raises(SealUnavailable, match="does not exist"):
        decrypt(seal, bytes(changed))
    # moto starts its ciphertext with the key id (real KMS has its own format): a change there is refused by name.
    changed = bytearray(blob)
    changed[arn_end] ^= 0x01
    with pytest.raises(SealUnavailable, match="or the stored ciphertext names another key"):
        decrypt(seal, bytes(changed))
    for cut in (0, 3, 6, arn_end, len(blob) - 1):
        with pytest.raises(DecryptionFailed):
            decrypt(seal, blob[:cut])
    assert seal.last_error == ""
    assert decrypt(seal, blob) == UNSEAL_KEY


def test_a_blob_names_its_key_so_another_key_cannot_open_it(kms: KmsEmulator) -> None:
    first, second = kms.create_key(), kms.create_key()
    blob = encrypt(make_seal(kms, first["KeyId"]))
    ciphertext = blob[6 + len(first["Arn"]):]
    arn = second["Arn"].encode()
    relabelled = b"SRA\x01" + len(arn).to_bytes(2, "big") + arn + ciphertext
    with pytest.raises((DecryptionFailed, SealUnavailable)):
        decrypt(make_seal(kms, second["KeyId"]), relabelled)


def test_after_a_rotation_or_a_moved_alias_old_blobs_still_decrypt(kms: KmsEmulator) -> None:
    client = kms.client()
    first, second = kms.create_key(), kms.create_key()
    alias = f"alias/strongroom-{first['KeyId'][:8]}"
    client.create_alias(AliasName=alias, TargetKeyId=first["KeyId"])
    seal = make_seal(kms, alias)
    old = encrypt(seal)
    assert seal.key_arn == first["Arn"]
    client.rotate_key_on_demand(KeyId=first["KeyId"])
    assert len(client.list_key_rotations(KeyId=first["KeyId"])["Rotations"]) == 1
    assert decrypt(seal, old) == UNSEAL_KEY
    # Manual rotation: the alias now names a new key. New blobs use it, old ones keep theirs.
    client.update_alias(AliasName=alias, TargetKeyId=second["KeyId"])
    new = encrypt(seal)
    assert second["Arn"].encode() in new
    assert decrypt(seal, old) == decrypt(seal, new) == UNSEAL_KEY


def test_an_unknown_key_id_or_alias_is_named(kms: KmsEmulator) -> None:
    missing = "11111111-2222-3333-4444-555555555555"
    assert "does not exist (NotFoundException)" in unavailable(make_seal(kms, missing))
    reason = unavailable(make_seal(kms, "alias/no-such-alias"))
    assert reason == "awskms seal: the KMS key 'alias/no-such-alias' does not exist (NotFoundException)"


def test_a_disabled_key_is_reported_for_both_directions_and_works_again_once_enabled(kms: KmsEmulator) -> None:
    key = kms.create_key()
    seal = make_seal(kms, key["KeyId"])
    blob = encrypt(seal)
    kms.client().disable_key(KeyId=key["KeyId"])
    assert unavailable(seal) == f"awskms seal: the KMS key {key['KeyId']!r} cannot be used: its state is Disabled"
    assert unavailable(seal, blob) == f"awskms seal: the KMS key {key['Arn']!r} cannot be used: its state is Disabled"
    kms.client().enable_key(KeyId=key["KeyId"])
    assert decrypt(seal, blob) == UNSEAL_KEY
    assert seal.last_error == ""


def test_a_key_pending_deletion_or_an_asymmetric_key_is_refused(kms: KmsEmulator) -> None:
    doomed = kms.create_key()
    kms.client().schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    assert "its state is PendingDeletion" in unavailable(make_seal(kms, doomed["KeyId"]))
    signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")
    assert "is not a symmetric encryption key" in unavailable(make_seal(kms, signing["KeyId"]))


def test_credentials_the_endpoint_rejects_are_named_and_never_shown(kms: KmsEmulator) -> None:
    key = kms.create_key()
    seal = make_seal(kms, key["KeyId"], access_key="AKIAWRONGWRONGWRONG1", secret_key="wrong-secret-canary")
    kms.set_auth(True)
    try:
        reason = unavailable(seal)
    finally:
        kms.set_auth(False)
    assert reason == "awskms seal: AWS rejected the credentials (InvalidClientTokenId)"
    assert "wrong-secret-canary" not in repr(seal) + str(asyncio.run(seal.status()))


def test_an_unreachable_endpoint_is_named(kms: KmsEmulator) -> None:
    key = kms.create_key()
    endpoint = f"http://127.0.0.1:{free_port()}"
    reason = unavailable(make_seal(kms, key["KeyId"], endpoint=endpoint))
    assert reason == f"awskms seal: cannot reach {endpoint} (EndpointConnectionError)"


def test_a_stopped_emulator_is_reported_then_used_again_when_it_is_back(kms: KmsEmulator) -> None:
    key = kms.create_key()
    seal = make_seal(kms, key["KeyId"])
    blob = encrypt(seal)
    kms.stop()
    try:
        assert "cannot reach" in unavailable(seal, blob)
    finally:
        kms.start()
    assert decrypt(seal, blob) == UNSEAL_KEY


def test_link_local_and_metadata_endpoints_are_refused_before_any_connection(kms: KmsEmulator) -> None:
    for host in ("169.254.169.254", "169.254.10.10"):
        reason = unavailable(make_seal(kms, "alias/x", endpoint=f"http://{host}"))
        assert reason.startswith(f"awskms seal: egress to '{host}' refused")


def test_configuration_is_validated_and_never_echoes_a_secret() -> None:
    env: dict[str, str] = {}
    good = {"kms_key_id": "alias/strongroom", "region": "eu-west-1"}
    bad: list[tuple[dict[str, str], str]] = [
        ({}, "kms_key_id is required"),
        ({**good, "colour": "blue"}, "unknown option(s) colour"),
        ({**good, "role_arn": "arn:aws:iam::1:role/x"}, "role_arn not supported"),
        ({**good, "access_key": "AKIA1"}, "give both access_key and secret_key"),
        ({**good, "secret_key": "sekrit-canary"}, "give both access_key and secret_key"),
        ({**good, "session_token": "token-canary"}, "session_token needs access_key"),
        ({**good, "endpoint": "ftp://kms.internal"}, "endpoint: URL scheme must be one of"),
        ({**good, "endpoint": "http://user:pw@kms.internal"}, "endpoint: URL must not carry user info"),
        ({**good, "region": "Not A Region"}, "region is not a valid AWS region name"),
        ({**good, "kms_key_id": "has space"}, "kms_key_id must be a key id"),
    ]
    for block, message in bad:
        with pytest.raises(ValueError, match="seal \"awskms\"") as caught:
            awskms.build(block, environ=env)
        assert message in str(caught.value)
        assert "canary" not in str(caught.value)


def test_the_environment_fills_in_as_vault_reads_it() -> None:
    env = {"VAULT_AWSKMS_SEAL_KEY_ID": "alias/from-env", "AWS_KMS_ENDPOINT": "http://127.0.0.1:9",
           "AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "ap-south-1",
           "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": "tok-canary"}
    seal = awskms.build({"kms_key_id": "alias/from-file", "endpoint": "http://127.0.0.1:8"}, environ=env)
    options: AwsKmsOptions = seal._options
    # The key id and endpoint variables override the file; the region variable only fills a gap.
    assert (options.kms_key_id, options.endpoint, options.region) == ("alias/from-env", "http://127.0.0.1:9",
                                                                      "eu-central-1")
    assert (options.access_key, options.secret_key, options.session_token) == (ACCESS_KEY, SECRET_KEY, "tok-canary")
    assert SECRET_KEY not in repr(seal) + repr(options)
    assert "tok-canary" not in repr(options)
    in_file = awskms.build({"kms_key_id": "k", "region": "us-west-2"}, environ={"AWS_DEFAULT_REGION": "ap-south-1"})
    assert in_file._options.region == "us-west-2"
    assert awskms.build({"kms_key_id": "k"}, environ={"AWS_DEFAULT_REGION": "ap-south-1"})._options.region == \
        "ap-south-1"
    assert awskms.build({"kms_key_id": "k"}, environ={})._options.region == "us-east-1"
    # Credentials in the file win over the environment's.
    filed = awskms.build({"kms_key_id": "k", "access_key": "AKIAFILE", "secret_key": "file-secret"}, environ=env)
    assert (filed._options.access_key, filed._options.session_token) == ("AKIAFILE", "")


def test_the_server_builds_it_from_a_seal_block() -> None:
    from strongroom.config.model import SealConfig as SealBlock

    seal: Any = build_seal((SealBlock(type="awskms", options={"kms_key_id": "alias/strongroom"}),))
    assert isinstance(seal, AwsKmsSeal)
    assert (seal.seal_type, seal.recovery_keys) == ("awskms", True)


def test_an_endpoint_that_never_answers_times_out_by_name(kms: KmsEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # A listening socket that is never accepted from: connections open, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setattr(awskms, "READ_TIMEOUT_SECONDS", 1)
        reason = unavailable(make_seal(kms, "alias/x", endpoint=endpoint))
        assert reason == f"awskms seal: {endpoint}: timed out (ReadTimeoutError)"
        # The overall deadline holds even if botocore's own timeouts are longer. (asyncio.run still waits
        # for the abandoned worker thread when it closes, so keep botocore's timeout short here too.)
        monkeypatch.setattr(awskms, "READ_TIMEOUT_SECONDS", 3)
        monkeypatch.setattr(awskms, "CALL_DEADLINE_SECONDS", 1.0)
        reason = unavailable(make_seal(kms, "alias/x", endpoint=endpoint))
        assert reason == f"awskms seal: {endpoint}: no answer within 1 s"


def test_no_credentials_anywhere_is_named(kms: KmsEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    # No shared files, and never the instance metadata service (nothing of ours is there).
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    key = kms.create_key()
    seal = awskms.build({"kms_key_id": key["KeyId"], "region": REGION, "endpoint": kms.endpoint}, environ={})
    assert unavailable(seal).startswith("awskms seal: no AWS credentials found")


@pytest.mark.parametrize(
    ("code", "decrypting", "reason"),
    [
        # Answers real KMS gives that moto's emulator never does: mapped from botocore's own error objects.
        ("DisabledException", False, "key 'k' cannot be used: disabled or pending deletion (DisabledException)"),
        ("KMSInvalidStateException", True, "cannot be used: disabled or pending deletion (KMSInvalidStateException)"),
        ("UnrecognizedClientException", False, "AWS rejected the credentials (UnrecognizedClientException)"),
        ("ExpiredTokenException", True, "AWS rejected the credentials (ExpiredTokenException)"),
        ("AccessDeniedException", False, "kms:DescribeKey on it"),
        ("ThrottlingException", False, "KMS refused the request (ThrottlingException)"),
        ("IncorrectKeyException", True, None),
        ("InvalidCiphertextException", True, None),
    ],
)
def test_kms_error_codes_map_to_named_reasons_or_the_opaque_error(code: str, decrypting: bool,
                                                                  reason: str | None) -> None:
    seal = awskms.build({"kms_key_id": "k"}, environ={})
    error = botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "service text that is never shown"}}, "Decrypt" if decrypting else "Encrypt"
    )
    mapped = seal._explain(error, "k", decrypting)
    if reason is None:
        assert isinstance(mapped, DecryptionFailed)
    else:
        assert isinstance(mapped, SealUnavailable)
        assert reason in str(mapped)
        assert "service text" not in str(mapped)
