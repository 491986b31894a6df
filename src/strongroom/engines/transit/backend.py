"""The ``transit`` secrets engine: Vault's encryption-as-a-service paths, declared as data. See docs/transit.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from strongroom.sdk.fields import Field, FieldType
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, Operation

from .codec import NAME_PATTERN
from .crypt import CryptHandlers
from .engine import Engine
from .keys import KeyHandlers
from .portability import PortabilityHandlers
from .rotation import rotate_due_keys
from .sign import SignHandlers
from .tools import ToolHandlers

R, U, D, L = Operation.READ, Operation.UPDATE, Operation.DELETE, Operation.LIST
NAME = f"(?P<name>{NAME_PATTERN})"
ALGORITHM = "(?:/(?P<urlalgorithm>[^/]+))?"

_S = FieldType.STRING
_B = FieldType.BOOL
_I = FieldType.INT


def _f(kind: FieldType, default: object = None, description: str = "") -> Field:
    return Field(kind, default=default, description=description)


_BATCH: Mapping[str, Field] = {
    "batch_input": _f(FieldType.ANY, description="Items to process, each answered on its own."),
    "partial_failure_response_code": _f(_I, description="Status when some, not all, items fail (default 400)."),
}
_CRYPT: Mapping[str, Field] = {
    **_BATCH,
    "plaintext": _f(_S, description="Base64 plaintext."),
    "ciphertext": _f(_S, description="A vault:v<N>:... ciphertext."),
    "context": _f(_S, "", "Base64 context for key derivation (derived keys)."),
    "associated_data": _f(_S, "", "Base64 data authenticated with the ciphertext (AEAD keys)."),
    "nonce": _f(_S, "", "Refused unless the key is convergent (then ignored)."),
    "key_version": _f(_I, 0, "Version to encrypt with; 0: the latest."),
    "reference": _f(_S, "", "Echoed in batch results."),
}
_SIGN: Mapping[str, Field] = {
    **_BATCH,
    "input": _f(_S, description="Base64 data."),
    "context": _f(_S, "", "Base64 context (derived Ed25519 keys)."),
    "key_version": _f(_I, 0, "Version to sign with; 0: the latest."),
    "hash_algorithm": _f(_S, "", "sha1, sha2-224/256/384/512, sha3-224/256/384/512."),
    "algorithm": _f(_S, "", "Older name of hash_algorithm."),
    "prehashed": _f(_B, False, "The input is already a digest."),
    "signature_algorithm": _f(_S, "", "RSA: pss (default) or pkcs1v15."),
    "marshaling_algorithm": _f(_S, "", "ECDSA: asn1 (default) or jws."),
    "salt_length": _f(_S, "auto", "RSA-PSS: auto, hash or a number of bytes."),
    "signature": _f(_S, description="A signature to verify."),
    "hmac": _f(_S, description="An HMAC to verify."),
    "reference": _f(_S, "", "Echoed in batch results."),
    "urlalgorithm": _f(_S, "", "The hash algorithm, from the URL."),
}
_CREATE: Mapping[str, Field] = {
    "type": _f(_S, "aes256-gcm96", "Key type."),
    "derived": _f(_B, False, "Derive a key per context (HKDF-SHA256)."),
    "convergent_encryption": _f(_B, False, "Deterministic encryption (needs derived)."),
    "exportable": _f(_B, False, "Allow export of the key material (one-way)."),
    "allow_plaintext_backup": _f(_B, False, "Allow plaintext backups (one-way)."),
    "auto_rotate_period": _f(FieldType.DURATION, 0, "Rotate automatically this often; 0 disables (min 1h)."),
    "key_size": _f(_I, 0, "HMAC keys: bytes (32-512, default 32)."),
    "context": _f(_S, "", "Read: base64 context to derive Ed25519 public keys."),
}
_CONFIG: Mapping[str, Field] = {
    "min_decryption_version": _f(_I, description="Oldest version that may still decrypt or verify."),
    "min_encryption_version": _f(_I, description="Oldest version that may encrypt or sign; 0: any."),
    "deletion_allowed": _f(_B, description="Allow deleting the key."),
    "exportable": _f(_B, description="Allow export (cannot be undone)."),
    "allow_plaintext_backup": _f(_B, description="Allow plaintext backup (cannot be undone)."),
    "auto_rotate_period": _f(FieldType.DURATION, description="Rotation period; 0 disables (min 1h)."),
}

_HASH: Mapping[str, Field] = {
    "input": _f(_S, description="Base64 data."),
    "algorithm": _f(_S, "", "sha2-224/256/384/512 or sha3-224/256/384/512 (default sha2-256)."),
    "urlalgorithm": _f(_S, "", "The algorithm, from the URL."),
    "format": _f(_S, "hex", "hex or base64."),
}
_RANDOM: Mapping[str, Field] = {
    "bytes": _f(_I, 32, "How many bytes (1-131072)."),
    "urlbytes": _f(_S, "", "How many bytes, from the URL."),
    "format": _f(_S, "base64", "base64 or hex."),
    "source": _f(_S, "platform", "platform or all."),
}


class TransitBackend(FrameworkBackend):
    """Vault's transit engine. Keys live in the mount's storage view; nothing else is persisted."""

    type_name = "transit"
    kind = "secret"

    def __init__(self, ctx: BackendContext) -> None:
        super().__init__(ctx)
        self.engine = Engine(ctx)
        self.keys = KeyHandlers(self.engine)
        self.crypt = CryptHandlers(self.engine)
        self.signer = SignHandlers(self.engine)
        self.tools = ToolHandlers(self.engine)
        self.portability = PortabilityHandlers(self.engine)

    async def cleanup(self) -> None:
        self.engine.forget()

    async def rotate_due_keys(self) -> list[str]:
        """Rotate every key whose ``auto_rotate_period`` ran out (for a periodic job; see rotation.py)."""
        return await rotate_due_keys(self.engine.store(), self.engine.now)

    def paths(self) -> Sequence[Path]:
        k, c, s, t, p = self.keys, self.crypt, self.signer, self.tools, self.portability
        return [
            Path("keys/?", {L: k.list}, help="List key names."),
            Path(f"keys/{NAME}", {R: k.read, U: k.create, D: k.delete}, fields=_CREATE,
                 help="Create, read and delete a named key."),
            Path(f"keys/{NAME}/config", {U: k.config}, fields=_CONFIG, help="Tune a key."),
            Path(f"keys/{NAME}/rotate", {U: k.rotate}, help="Add a new version to a key."),
            Path(f"keys/{NAME}/trim", {U: k.trim},
                 fields={"min_available_version": Field(_I, required=True, description="Oldest version to keep.")},
                 help="Delete the material of old versions for good."),
            Path(f"encrypt/{NAME}", {U: c.encrypt}, existence=c.encrypt_exists,
                 fields={**_CRYPT, "type": _f(_S, "aes256-gcm96", "Type of a key created by this call."),
                         "convergent_encryption": _f(_B, False, "Convergence of a key created by this call.")},
                 help="Encrypt with a key (creates it with the create capability)."),
            Path(f"decrypt/{NAME}", {U: c.decrypt}, fields=_CRYPT, help="Decrypt with a key."),
            Path(f"rewrap/{NAME}", {U: c.rewrap}, fields=_CRYPT, help="Re-encrypt with the latest version."),
            Path(f"datakey/(?P<plaintext>[^/]+)/{NAME}", {U: c.datakey},
                 fields={**_CRYPT, "bits": _f(_I, 256, "128, 256 or 512.")},
                 help="Generate a data key encrypted with a key."),
            Path(f"sign/{NAME}{ALGORITHM}", {U: s.sign}, fields=_SIGN, help="Sign data."),
            Path(f"verify/{NAME}{ALGORITHM}", {U: s.verify}, fields=_SIGN, help="Verify a signature or HMAC."),
            Path(f"hmac/{NAME}{ALGORITHM}", {U: s.hmac}, fields=_SIGN, help="HMAC data with a key."),
            Path("hash" + ALGORITHM, {U: t.hash},
                 fields=_HASH, help="Hash data."),
            Path("random(?:/(?P<urlbytes>[0-9]+))?", {U: t.random},
                 fields=_RANDOM,
                 help="Random bytes."),
            Path("random/(?P<source>[^/]+)(?:/(?P<urlbytes>[^/]+))?", {U: t.random},
                 fields=_RANDOM, help="Random bytes from a source."),
            Path(f"export/(?P<type>[^/]+)/{NAME}(?:/(?P<version>[^/]+))?", {R: p.export},
                 fields={"version": _f(_S, "", "A version number or 'latest'; absent: every version.")},
                 help="Export key material (exportable keys)."),
            Path(f"backup/{NAME}", {R: p.backup}, help="Plaintext backup of a key."),
            Path(f"restore(?:/{NAME})?", {U: p.restore},
                 fields={"backup": Field(_S, required=True, description="The output of backup/."),
                         "name": _f(_S, "", "Name of the restored key."), "force": _f(_B, False, "Overwrite.")},
                 help="Restore a key from a backup."),
        ]
