"""The ``awskms`` seal: an AWS KMS key (or a KMS-compatible endpoint) wraps the unseal key.

Blob format (stored in untrusted storage, so versioned)::

    b"SRA" | version (1 byte, 1) | key ARN length (2 bytes, big-endian) | key ARN (ASCII) | KMS CiphertextBlob

The key ARN is the one KMS reported for the Encrypt call. Decrypt names it
(``KeyId``), so a blob is only ever opened by the key that made it, even after
``kms_key_id`` (or the alias it names) moves to another key; KMS keeps every
backing key of a rotated key, so a rotation needs nothing from us.

Every Encrypt and Decrypt carries :data:`ENCRYPTION_CONTEXT`, which KMS binds
to the ciphertext: the blob cannot be decrypted by a caller that does not
name this purpose, and a KMS ciphertext made for another purpose does not
decrypt here. Integrity comes from KMS (its ciphertext is authenticated); a
changed header, ARN or ciphertext is the one opaque
:class:`strongroom.errors.DecryptionFailed`.

Before each use the key is looked up (DescribeKey, a permission Vault's seal
needs too): an unknown key, a disabled key, a key pending deletion and a key
that is not a symmetric encryption key are reported by name instead of as a
bare refusal. Failure modes (unreachable endpoint, timeouts, rejected
credentials, access denied, throttling) raise :class:`SealUnavailable` with a
reason that names the key and the AWS error code, never a credential and never
the server's message text.

boto3 blocks, so every call runs in a worker thread with connect and read
timeouts, at most two attempts, and an overall deadline. botocore logs request
bodies (which hold the base64 plaintext) at DEBUG: its loggers are held at
WARNING whatever the server's log level.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions

from strongroom.errors import DecryptionFailed, InternalError, InvalidRequest
from strongroom.sdk.egress import EgressPolicy, check_url, split_url
from strongroom.sdk.seal import Seal

SEAL_TYPE = "awskms"
MAGIC = b"SRA"
VERSION = 1
HEADER = MAGIC + bytes([VERSION])
ARN_LENGTH_BYTES = 2
#: Bound to every ciphertext: only a caller naming this purpose can decrypt the blob.
ENCRYPTION_CONTEXT = {"strongroom:purpose": "auto-unseal"}
DEFAULT_REGION = "us-east-1"
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 2
#: Above the worst case of MAX_ATTEMPTS x (connect + read) plus back-off.
CALL_DEADLINE_SECONDS = 40.0
#: A KMS-compatible endpoint is operator configuration; it may sit on this host or the internal network.
EGRESS_POLICY = EgressPolicy(allow_loopback=True, allow_link_local=False, allow_private=True)
#: As in Vault, these override ``kms_key_id`` from the file (first one set wins).
KEY_ID_ENVIRONMENT = ("AWSKMS_WRAPPER_KEY_ID", "VAULT_AWSKMS_SEAL_KEY_ID")
#: As in Vault, this overrides ``endpoint`` from the file.
ENDPOINT_ENVIRONMENT = "AWS_KMS_ENDPOINT"
#: Used only when the file has no ``region`` (the file is the more specific source, as in Vault).
REGION_ENVIRONMENT = ("AWS_REGION", "AWS_DEFAULT_REGION")
#: Standard AWS credential variables, used when the file gives no ``access_key``.
CREDENTIAL_ENVIRONMENT = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_KNOWN = {"region", "kms_key_id", "endpoint", "access_key", "secret_key", "session_token"}
#: Vault options for other credential sources; refused by name rather than silently ignored.
_NOT_BUILT = {"shared_creds_filename", "shared_creds_profile", "role_arn", "role_session_name",
              "web_identity_token_file"}
_REGION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_KEY_ID = re.compile(r"^[\x21-\x7e]{1,2048}$")
_ARN = re.compile(r"^arn:[a-z0-9-]+:kms:[a-z0-9-]*:[0-9]*:key/[A-Za-z0-9-]+$")
_CREDENTIAL_CODES = {
    "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
    "IncompleteSignature", "ExpiredTokenException", "ExpiredToken", "MissingAuthenticationToken", "AuthFailure",
}
_KEY_STATE_CODES = {"DisabledException", "KMSInvalidStateException", "KeyUnavailableException"}
_CIPHERTEXT_CODES = {"InvalidCiphertextException", "IncorrectKeyException"}
_QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")

T = TypeVar("T")


class SealUnavailable(InternalError):
    """KMS cannot be used right now (unreachable, refused credentials, unknown or disabled key)."""


@dataclass(frozen=True)
class AwsKmsOptions:
    """The ``seal "awskms"`` block with the environment applied. Credentials are hidden from ``repr``.

    An empty ``access_key`` means boto3's default credential chain (environment,
    shared files, container or instance roles).
    """

    kms_key_id: str
    region: str = DEFAULT_REGION
    endpoint: str = ""
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    session_token: str = field(default="", repr=False)

    @staticmethod
    def from_block(options: Mapping[str, str]) -> AwsKmsOptions:
        """Validate a block (after the environment is applied); ValueError names the problem, never a secret."""
        not_built = sorted(set(options) & _NOT_BUILT)
        if not_built:
            raise ValueError(f"seal \"awskms\": {', '.join(not_built)} not supported (give access_key/secret_key "
                             "or the standard AWS credential environment)")
        unknown = sorted(set(options) - _KNOWN)
        if unknown:
            raise ValueError(f"seal \"awskms\": unknown option(s) {', '.join(unknown)}")
        key_id = str(options.get("kms_key_id", "")).strip()
        if not key_id:
            raise ValueError('seal "awskms": kms_key_id is required (or VAULT_AWSKMS_SEAL_KEY_ID)')
        if not _KEY_ID.match(key_id):
            raise ValueError('seal "awskms": kms_key_id must be a key id, key ARN, alias name or alias ARN')
        region = str(options.get("region") or DEFAULT_REGION).strip()
        if not _REGION.match(region):
            raise ValueError('seal "awskms": region is not a valid AWS region name')
        endpoint = str(options.get("endpoint", "")).strip().rstrip("/")
        if endpoint:
            try:
                split_url(endpoint)
            except InvalidRequest as exc:
                raise ValueError(f'seal "awskms": endpoint: {exc}') from None
        access_key, secret_key = options.get("access_key", ""), options.get("secret_key", "")
        if bool(access_key) != bool(secret_key):
            raise ValueError('seal "awskms": give both access_key and secret_key, or neither')
        session_token = options.get("session_token", "")
        if session_token and not access_key:
            raise ValueError('seal "awskms": session_token needs access_key and secret_key')
        return AwsKmsOptions(kms_key_id=key_id, region=region, endpoint=endpoint, access_key=access_key,
                             secret_key=secret_key, session_token=session_token)


def _error_code(exc: botocore.exceptions.ClientError) -> str:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    if code.isdigit():
        # An endpoint that answers a JSON-protocol call with an XML error (as moto's IAM check does).
        match = re.search(r"<Code>(\w+)</Code>", str(error.get("Message", "")))
        if match:
            return match.group(1)
        return f"HTTP{code}"
    return code or "UnknownError"


class AwsKmsSeal(Seal):
    """A :class:`strongroom.sdk.seal.Seal` backed by one symmetric AWS KMS key."""

    seal_type = SEAL_TYPE
    recovery_keys = True

    def __init__(self, options: AwsKmsOptions) -> None:
        self._options = options
        self._lock = threading.Lock()
        self._client: Any = None
        self.key_arn = ""
        self.last_error = ""

    def __repr__(self) -> str:
        opts = self._options
        return f"AwsKmsSeal(kms_key_id={opts.kms_key_id!r}, region={opts.region!r}, endpoint={opts.endpoint!r})"

    # -- blocking part (worker thread) --------------------------------------------------------

    def _kms(self) -> Any:
        with self._lock:
            if self._client is None:
                opts = self._options
                session = boto3.session.Session(
                    aws_access_key_id=opts.access_key or None, aws_secret_access_key=opts.secret_key or None,
                    aws_session_token=opts.session_token or None, region_name=opts.region,
                )
                config = botocore.config.Config(
                    connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
                    retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                )
                self._client = session.client("kms", endpoint_url=opts.endpoint or None, config=config)
            return self._client

    def _usable_key(self, key_id: str) -> str:
        """DescribeKey: the key's ARN if it can encrypt and decrypt now, else SealUnavailable naming why."""
        metadata = self._kms().describe_key(KeyId=key_id)["KeyMetadata"]
        state, arn = str(metadata.get("KeyState", "")), str(metadata.get("Arn", ""))
        if state != "Enabled":
            raise self._fail(f"the KMS key {key_id!r} cannot be used: its state is {state or 'unknown'}")
        if metadata.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT" or \
                metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            raise self._fail(f"the KMS key {key_id!r} is not a symmetric encryption key (SYMMETRIC_DEFAULT)")
        if not _ARN.match(arn):
            raise self._fail("DescribeKey answered without a key ARN")
        return arn

    def _encrypt_blocking(self, plaintext: bytes) -> tuple[bytes, str]:
        arn = self._usable_key(self._options.kms_key_id)
        answer = self._kms().encrypt(KeyId=arn, Plaintext=plaintext, EncryptionContext=ENCRYPTION_CONTEXT)
        used, ciphertext = str(answer.get("KeyId", "")), answer.get("CiphertextBlob")
        if not _ARN.match(used) or not isinstance(ciphertext, bytes) or not ciphertext:
            raise self._fail("the Encrypt answer has no ciphertext or key ARN")
        return ciphertext, used

    def _decrypt_blocking(self, arn: str, ciphertext: bytes) -> bytes:
        self._usable_key(arn)
        answer = self._kms().decrypt(CiphertextBlob=ciphertext, KeyId=arn, EncryptionContext=ENCRYPTION_CONTEXT)
        plaintext = answer.get("Plaintext")
        if answer.get("KeyId") != arn or not isinstance(plaintext, bytes):
            raise DecryptionFailed()
        return plaintext

    # -- async wrapper and error mapping ------------------------------------------------------

    def _fail(self, problem: str) -> SealUnavailable:
        self.last_error = f"awskms seal: {problem}"
        return SealUnavailable(self.last_error)

    def _where(self) -> str:
        return self._options.endpoint or f"the AWS KMS endpoint of region {self._options.region}"

    def _explain(self, exc: Exception, key_id: str, decrypting: bool) -> InternalError:
        if isinstance(exc, botocore.exceptions.ClientError):
            code = _error_code(exc)
            if decrypting and code in _CIPHERTEXT_CODES:
                return DecryptionFailed()
            if code == "NotFoundException":
                return self._fail(f"the KMS key {key_id!r} does not exist (NotFoundException)")
            if code in _KEY_STATE_CODES:
                return self._fail(f"the KMS key {key_id!r} cannot be used: disabled or pending deletion ({code})")
            if code in _CREDENTIAL_CODES:
                return self._fail(f"AWS rejected the credentials ({code})")
            if code == "AccessDeniedException":
                # On Decrypt KMS-compatible endpoints also answer this for a ciphertext made by another key.
                also = ", or the stored ciphertext names another key" if decrypting else ""
                return self._fail(f"access denied to the KMS key {key_id!r} (AccessDeniedException): the "
                                  f"credentials need kms:Encrypt, kms:Decrypt and kms:DescribeKey on it{also}")
            return self._fail(f"KMS refused the request ({code})")
        if isinstance(exc, botocore.exceptions.ConnectTimeoutError | botocore.exceptions.ReadTimeoutError):
            return self._fail(f"{self._where()}: timed out ({type(exc).__name__})")
        if isinstance(exc, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError):
            return self._fail(f"cannot reach {self._where()} ({type(exc).__name__})")
        if isinstance(exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError):
            return self._fail("no AWS credentials found (give access_key and secret_key, or AWS_ACCESS_KEY_ID "
                              "and AWS_SECRET_ACCESS_KEY)")
        # Only the class name: botocore's messages can quote request parameters, the plaintext among them.
        return self._fail(f"the KMS call failed ({type(exc).__name__})")

    async def _call(self, work: Callable[[], T], key_id: str, decrypting: bool = False) -> T:
        if self._options.endpoint:
            try:
                await check_url(self._options.endpoint, EGRESS_POLICY)
            except InvalidRequest as exc:
                raise self._fail(str(exc)) from None
        try:
            result = await asyncio.wait_for(asyncio.to_thread(work), CALL_DEADLINE_SECONDS)
        except (SealUnavailable, DecryptionFailed) as exc:
            if isinstance(exc, DecryptionFailed):
                self.last_error = ""
            raise
        except TimeoutError:
            raise self._fail(f"{self._where()}: no answer within {CALL_DEADLINE_SECONDS:.0f} s") from None
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            mapped = self._explain(exc, key_id, decrypting)
            if isinstance(mapped, DecryptionFailed):
                self.last_error = ""
            raise mapped from None
        self.last_error = ""
        return result

    # -- the Seal contract --------------------------------------------------------------------

    async def encrypt(self, plaintext: bytes) -> bytes:
        ciphertext, arn = await self._call(lambda: self._encrypt_blocking(plaintext), self._options.kms_key_id)
        self.key_arn = arn
        encoded = arn.encode("ascii")
        return HEADER + len(encoded).to_bytes(ARN_LENGTH_BYTES, "big") + encoded + ciphertext

    async def decrypt(self, blob: bytes) -> bytes:
        start = len(HEADER) + ARN_LENGTH_BYTES
        if len(blob) <= start or blob[: len(HEADER)] != HEADER:
            raise DecryptionFailed()
        arn_end = start + int.from_bytes(blob[len(HEADER):start], "big")
        try:
            arn = blob[start:arn_end].decode("ascii")
        except UnicodeDecodeError:
            raise DecryptionFailed() from None
        ciphertext = blob[arn_end:]
        if not _ARN.match(arn) or not ciphertext:
            raise DecryptionFailed()
        plaintext = await self._call(lambda: self._decrypt_blocking(arn, ciphertext), arn, decrypting=True)
        self.key_arn = arn
        return plaintext

    async def status(self) -> dict[str, object]:
        opts = self._options
        return {"type": SEAL_TYPE, "region": opts.region, "kms_key_id": opts.kms_key_id,
                "endpoint": opts.endpoint, "key_arn": self.key_arn, "last_error": self.last_error}


def apply_environment(options: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The block with Vault's environment variables applied (see the constants above for precedence)."""
    merged = dict(options)
    key_id = next((environ[name] for name in KEY_ID_ENVIRONMENT if environ.get(name)), "")
    if key_id:
        merged["kms_key_id"] = key_id
    if environ.get(ENDPOINT_ENVIRONMENT):
        merged["endpoint"] = environ[ENDPOINT_ENVIRONMENT]
    if not merged.get("region"):
        region = next((environ[name] for name in REGION_ENVIRONMENT if environ.get(name)), "")
        if region:
            merged["region"] = region
    if not merged.get("access_key") and not merged.get("secret_key"):
        access, secret, token = (environ.get(name, "") for name in CREDENTIAL_ENVIRONMENT)
        if access and secret:
            merged.update(access_key=access, secret_key=secret, session_token=token or merged.get("session_token", ""))
    return merged


def build(options: Mapping[str, str], random_bytes: object = None,
          environ: Mapping[str, str] | None = None) -> AwsKmsSeal:
    """The composition root's entry point: validate the block and build the seal (no call to KMS yet).

    ``environ`` defaults to the process environment. ``random_bytes`` is unused:
    KMS draws its own nonces.
    """
    for name in _QUIET_LOGGERS:
        # botocore's DEBUG output includes request bodies, i.e. the base64 unseal key.
        logging.getLogger(name).setLevel(logging.WARNING)
    env = os.environ if environ is None else environ
    return AwsKmsSeal(AwsKmsOptions.from_block(apply_environment(options, env)))

