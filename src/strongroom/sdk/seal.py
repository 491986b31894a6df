"""The seal seam: what protects the unseal key so a node can open its barrier.

With the ``shamir`` seal, operators hold the unseal key as shares and type them
in. An auto-unseal seal (PKCS#11, transit, cloud KMS) instead encrypts the
unseal key with a key it holds elsewhere, so the node unseals itself; operators
then hold *recovery* shares, which authorise privileged operations but do not
decrypt anything.

The seal configuration lives in plaintext at :data:`SEAL_CONFIG_PATH` in the
physical (untrusted) store, because it is needed before anything can be
decrypted. It holds no secret, and tampering with it cannot weaken the seal:
lowering the threshold only makes combined shares produce a wrong key, which
fails to unwrap the root key.
"""

from __future__ import annotations

import abc
import json
from dataclasses import asdict, dataclass

from strongroom.errors import InternalError

SEAL_CONFIG_PATH = "core/seal-config"
#: Under an auto seal: the unseal key and the recovery key, each encrypted by the seal (plaintext store).
SEALED_UNSEAL_KEY_PATH = "core/sealed-unseal-key"
RECOVERY_KEY_PATH = "core/recovery-key"
SHAMIR_SEAL_TYPE = "shamir"
MAX_SHARES = 255


class Seal(abc.ABC):
    """An auto-unseal mechanism.

    ``seal_type`` names it (``pkcs11``, ``transit``, ``awskms``, ...).
    ``recovery_keys`` is True when, with this seal in place, operators hold
    recovery shares instead of unseal shares.
    """

    seal_type: str
    recovery_keys: bool

    @abc.abstractmethod
    async def encrypt(self, plaintext: bytes) -> bytes:
        """Protect ``plaintext`` (the unseal key). The result is stored in untrusted storage."""

    @abc.abstractmethod
    async def decrypt(self, blob: bytes) -> bytes:
        """Reverse :meth:`encrypt`. Any failure raises :class:`strongroom.errors.DecryptionFailed`."""

    @abc.abstractmethod
    async def status(self) -> dict[str, object]:
        """Health and identity for ``sys/seal-status`` (key id, reachable, ...). Never key material."""


@dataclass(frozen=True, slots=True)
class SealConfig:
    """How the unseal key is protected and how many shares operators hold.

    * ``type``: ``"shamir"`` or the ``seal_type`` of an auto-unseal :class:`Seal`.
    * ``secret_shares`` / ``secret_threshold``: Shamir shares of the unseal key
      (for an auto seal Vault reports 1 / 1).
    * ``stored_shares``: how many of those shares the seal stores for
      itself (0 for shamir, 1 for an auto seal).
    * ``recovery_shares`` / ``recovery_threshold``: recovery shares under an
      auto seal; 0 / 0 for shamir.

    Construction validates ranges (``1 <= threshold <= shares <= 255`` for each
    pair in use) and raises ValueError; :meth:`from_json` maps every problem to
    InternalError because the stored copy is only ever damaged, never user input.
    """

    type: str
    secret_shares: int
    secret_threshold: int
    stored_shares: int = 0
    recovery_shares: int = 0
    recovery_threshold: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise ValueError("seal type must be a non-empty string")
        for name in ("secret_shares", "secret_threshold", "stored_shares",
                     "recovery_shares", "recovery_threshold"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= MAX_SHARES:
                raise ValueError(f"{name} must be an integer between 0 and {MAX_SHARES}")
        if not 1 <= self.secret_threshold <= self.secret_shares:
            raise ValueError("secret_threshold must be between 1 and secret_shares")
        if self.stored_shares > self.secret_shares:
            raise ValueError("stored_shares cannot exceed secret_shares")
        no_recovery = self.recovery_shares == self.recovery_threshold == 0
        if not (no_recovery or 1 <= self.recovery_threshold <= self.recovery_shares):
            raise ValueError("recovery_threshold must be between 1 and recovery_shares")
        if self.type == SHAMIR_SEAL_TYPE and (self.stored_shares or self.recovery_shares):
            raise ValueError("a shamir seal has neither stored shares nor recovery shares")

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> SealConfig:
        try:
            document = json.loads(data)
            # A non-object document fails the ** unpacking with TypeError, handled below.
            return cls(**document)
        except (ValueError, TypeError):
            raise InternalError("stored seal configuration is malformed") from None
