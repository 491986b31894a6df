"""The rules of ``keys/:name/config`` and ``keys/:name/trim`` as pure functions on a key record.

Both raise :class:`InvalidRequest` (400) with Vault's wording when a change is
refused, and return the changed record otherwise. ``exportable`` and
``allow_plaintext_backup`` only ever go from false to true.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from strongroom.errors import InvalidRequest

from .creation import check_auto_rotate_period
from .policy import KeyPolicy


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """The fields a config request carried (None: not given)."""

    min_decryption_version: int | None = None
    min_encryption_version: int | None = None
    deletion_allowed: bool | None = None
    exportable: bool | None = None
    allow_plaintext_backup: bool | None = None
    auto_rotate_period: int | None = None


def apply_config(policy: KeyPolicy, change: ConfigChange, warnings: list[str]) -> KeyPolicy:
    """``policy`` with ``change`` applied; refusals are 400s; notes for the caller go to ``warnings``."""
    updated = policy
    if change.min_decryption_version is not None:
        wanted = change.min_decryption_version
        if wanted < 0:
            raise InvalidRequest("min decryption version cannot be negative")
        if wanted == 0:
            wanted = 1
            warnings.append("transit key numbering starts at 1; forcing minimum to 1")
        if wanted > policy.latest_version:
            raise InvalidRequest(
                f"cannot set min decryption version of {wanted}, latest key version is {policy.latest_version}"
            )
        if wanted < policy.min_available_version:
            raise InvalidRequest(
                f"cannot set min decryption version of {wanted} below min available version "
                f"of {policy.min_available_version}: those versions were trimmed"
            )
        updated = replace(updated, min_decryption_version=wanted)
    if change.min_encryption_version is not None:
        wanted = change.min_encryption_version
        if wanted < 0:
            raise InvalidRequest("min encryption version cannot be negative")
        if wanted > policy.latest_version:
            raise InvalidRequest(
                f"cannot set min encryption version of {wanted}, latest key version is {policy.latest_version}"
            )
        updated = replace(updated, min_encryption_version=wanted)
    if 0 < updated.min_encryption_version < updated.min_decryption_version:
        raise InvalidRequest("min encryption version should not be less than min decryption version")
    if change.deletion_allowed is not None:
        updated = replace(updated, deletion_allowed=change.deletion_allowed)
    if change.exportable is not None:
        if policy.exportable and not change.exportable:
            raise InvalidRequest("exportable cannot be disabled after being enabled")
        updated = replace(updated, exportable=change.exportable)
    if change.allow_plaintext_backup is not None:
        if policy.allow_plaintext_backup and not change.allow_plaintext_backup:
            raise InvalidRequest("allow_plaintext_backup cannot be disabled after being enabled")
        updated = replace(updated, allow_plaintext_backup=change.allow_plaintext_backup)
    if change.auto_rotate_period is not None:
        updated = replace(updated, auto_rotate_period=check_auto_rotate_period(change.auto_rotate_period))
    return updated


def trim(policy: KeyPolicy, min_available: int) -> KeyPolicy:
    """Forget every version below ``min_available`` for good (Vault's rules on when that is allowed)."""
    if min_available <= 0:
        raise InvalidRequest("minimum available version should be positive")
    if policy.min_encryption_version == 0:
        raise InvalidRequest("minimum encryption version should not be zero when trimming")
    if min_available > policy.min_encryption_version:
        raise InvalidRequest("minimum available version cannot be greater than minimum encryption version")
    if min_available > policy.min_decryption_version:
        raise InvalidRequest("minimum available version cannot be greater than minimum decryption version")
    if min_available < policy.min_available_version:
        raise InvalidRequest("minimum available version cannot be decremented")
    kept = {number: entry for number, entry in policy.versions.items() if number >= min_available}
    return replace(policy, versions=kept, min_available_version=min_available)
