"""The key types a transit key can have, and what each one is able to do.

The names are Vault's (``type`` when creating a key). Capabilities follow
Vault's ``supports_*`` flags: AEAD keys encrypt and support derivation and
convergent encryption; Ed25519 signs and supports derivation; ECDSA signs;
RSA encrypts (OAEP) and signs; HMAC keys only compute and verify HMACs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from strongroom.errors import InvalidRequest


class KeyType(enum.StrEnum):
    AES128_GCM96 = "aes128-gcm96"
    AES256_GCM96 = "aes256-gcm96"
    CHACHA20_POLY1305 = "chacha20-poly1305"
    ED25519 = "ed25519"
    ECDSA_P256 = "ecdsa-p256"
    ECDSA_P384 = "ecdsa-p384"
    ECDSA_P521 = "ecdsa-p521"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"
    RSA_4096 = "rsa-4096"
    HMAC = "hmac"


class Family(enum.Enum):
    """How the key material is used: one code path per family."""

    AEAD = "aead"
    ED25519 = "ed25519"
    ECDSA = "ecdsa"
    RSA = "rsa"
    HMAC = "hmac"


@dataclass(frozen=True, slots=True)
class Spec:
    """What one key type is and can do."""

    family: Family
    encryption: bool
    signing: bool
    derivation: bool
    #: Length of an AEAD key in bytes (0 for other families).
    aead_bytes: int = 0
    #: Curve name as Vault reports it in a key read (``P-256``), for ECDSA.
    curve: str = ""
    #: Modulus size, for RSA.
    rsa_bits: int = 0

    @property
    def asymmetric(self) -> bool:
        return self.family in (Family.ED25519, Family.ECDSA, Family.RSA)

    @property
    def convergent(self) -> bool:
        """Convergent encryption needs a deterministic AEAD: only the AEAD family offers one."""
        return self.family is Family.AEAD


SPECS: dict[KeyType, Spec] = {
    KeyType.AES128_GCM96: Spec(Family.AEAD, True, False, True, aead_bytes=16),
    KeyType.AES256_GCM96: Spec(Family.AEAD, True, False, True, aead_bytes=32),
    KeyType.CHACHA20_POLY1305: Spec(Family.AEAD, True, False, True, aead_bytes=32),
    KeyType.ED25519: Spec(Family.ED25519, False, True, True),
    KeyType.ECDSA_P256: Spec(Family.ECDSA, False, True, False, curve="P-256"),
    KeyType.ECDSA_P384: Spec(Family.ECDSA, False, True, False, curve="P-384"),
    KeyType.ECDSA_P521: Spec(Family.ECDSA, False, True, False, curve="P-521"),
    KeyType.RSA_2048: Spec(Family.RSA, True, True, False, rsa_bits=2048),
    KeyType.RSA_3072: Spec(Family.RSA, True, True, False, rsa_bits=3072),
    KeyType.RSA_4096: Spec(Family.RSA, True, True, False, rsa_bits=4096),
    KeyType.HMAC: Spec(Family.HMAC, False, False, False),
}

#: HMAC keys: ``key_size`` in bytes, Vault's bounds and default.
HMAC_MIN_BYTES = 32
HMAC_MAX_BYTES = 512
HMAC_DEFAULT_BYTES = 32

_SUPPORTED = ", ".join(t.value for t in KeyType)


def parse_key_type(raw: object) -> KeyType:
    """The key type named ``raw``, or 400. The message lists the valid names and never repeats the input."""
    if isinstance(raw, str):
        try:
            return KeyType(raw.strip().lower())
        except ValueError:
            pass
    raise InvalidRequest(f"unknown key type: supported types are {_SUPPORTED}")


def spec(key_type: KeyType) -> Spec:
    return SPECS[key_type]
