"""A named transit key: its versions and the rules about which version may do what (pure, no I/O).

Vault calls this record a "policy". Versions are numbered from 1. The rules:

* ``latest_version`` is the newest version; new ciphertexts, signatures and
  HMACs use it unless the caller names an older one.
* ``min_encryption_version`` (0 means "latest only by default, any allowed"):
  the oldest version that may produce new output.
* ``min_decryption_version`` (at least 1): the oldest version whose output may
  still be decrypted or verified.
* ``min_available_version`` (0 before any trim): versions below it were
  trimmed and their material is gone.

Records are immutable; every change returns a new record (``dataclasses.replace``),
which keeps read-modify-write retries honest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from strongroom.errors import InvalidRequest

from .keytypes import Family, KeyType, Spec, spec


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """The material of one version. ``repr`` never shows key bytes."""

    material: bytes = field(repr=False)
    #: The per-version HMAC key (empty for HMAC-type keys, whose material is the HMAC key).
    hmac_key: bytes = field(repr=False)
    #: Creation time, seconds since the epoch, from the injected clock.
    created: float = 0.0


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a backup or restore happened, and the latest version at that time."""

    time: float
    version: int


@dataclass(frozen=True)
class KeyPolicy:
    name: str
    key_type: KeyType
    versions: Mapping[int, KeyVersion] = field(repr=False)
    latest_version: int
    derived: bool = False
    convergent: bool = False
    exportable: bool = False
    allow_plaintext_backup: bool = False
    deletion_allowed: bool = False
    min_decryption_version: int = 1
    min_encryption_version: int = 0
    min_available_version: int = 0
    #: Seconds; 0 disables automatic rotation.
    auto_rotate_period: int = 0
    #: Bytes of an HMAC-type key; 0 for other types.
    key_size: int = 0
    backup_info: Stamp | None = None
    restore_info: Stamp | None = None
    #: Loaded key objects per version (a cache; never compared, never shown, fresh for every record).
    objects: dict[int, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def spec(self) -> Spec:
        return spec(self.key_type)

    def version(self, number: int) -> KeyVersion | None:
        return self.versions.get(number)

    def mac_key(self, number: int) -> bytes | None:
        """The HMAC key of version ``number`` (the material itself for HMAC-type keys)."""
        entry = self.versions.get(number)
        if entry is None:
            return None
        return entry.material if self.spec.family is Family.HMAC else entry.hmac_key

    def output_version(self, requested: int) -> int:
        """The version that produces new output for a request naming ``requested`` (0: the default).

        Vault's wording for the two refusals, both 400. A version below
        ``min_decryption_version`` is refused too: its output could never be used.
        """
        if requested < 0:
            raise InvalidRequest("invalid key version: must be positive")
        if requested == 0:
            return self.latest_version
        if requested > self.latest_version:
            raise InvalidRequest("requested version for encryption is higher than the latest key version")
        if requested < self.min_encryption_version or requested < self.min_decryption_version:
            raise InvalidRequest("requested version for encryption is less than the minimum encryption key version")
        if requested not in self.versions:
            raise InvalidRequest("requested version for encryption does not exist")
        return requested

    def readable(self, number: int) -> bool:
        """May output of version ``number`` still be decrypted or verified?"""
        return number >= self.min_decryption_version and number in self.versions

    def with_new_version(self, entry: KeyVersion) -> KeyPolicy:
        """The key after a rotation: ``entry`` becomes version ``latest_version + 1``."""
        number = self.latest_version + 1
        return replace(self, versions={**self.versions, number: entry}, latest_version=number)

    def rotation_due(self, now: float) -> bool:
        """Has the latest version outlived ``auto_rotate_period``? Never when the period is 0."""
        if self.auto_rotate_period <= 0:
            return False
        latest = self.versions.get(self.latest_version)
        return latest is None or now >= latest.created + self.auto_rotate_period
