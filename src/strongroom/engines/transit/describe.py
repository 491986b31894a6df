"""The JSON a key read (and a key write) answers with, in Vault's shape. Never includes private material."""

from __future__ import annotations

import datetime
from typing import Any

from .keytypes import Family
from .policy import KeyPolicy, Stamp
from .signing import public_key_for


def rfc3339(seconds: float) -> str:
    """UTC time as Go's ``time.RFC3339Nano`` renders it (microsecond precision, trailing zeros dropped)."""
    stamp = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.microsecond:
        text += "." + f"{stamp.microsecond:06d}".rstrip("0")
    return text + "Z"


def _stamp(stamp: Stamp | None) -> dict[str, Any] | None:
    return None if stamp is None else {"time": rfc3339(stamp.time), "version": stamp.version}


def describe(policy: KeyPolicy, context: bytes = b"") -> dict[str, Any]:
    """``data`` of ``GET keys/:name``. ``context`` derives the public keys of a derived Ed25519 key."""
    info = policy.spec
    data: dict[str, Any] = {
        "name": policy.name,
        "type": policy.key_type.value,
        "derived": policy.derived,
        "deletion_allowed": policy.deletion_allowed,
        "min_available_version": policy.min_available_version,
        "min_decryption_version": policy.min_decryption_version,
        "min_encryption_version": policy.min_encryption_version,
        "latest_version": policy.latest_version,
        "exportable": policy.exportable,
        "allow_plaintext_backup": policy.allow_plaintext_backup,
        "supports_encryption": info.encryption,
        "supports_decryption": info.encryption,
        "supports_derivation": info.derivation,
        "supports_signing": info.signing,
        "auto_rotate_period": policy.auto_rotate_period,
        "imported_key": False,
    }
    if policy.key_size:
        data["key_size"] = policy.key_size
    if policy.backup_info is not None:
        data["backup_info"] = _stamp(policy.backup_info)
    if policy.restore_info is not None:
        data["restore_info"] = _stamp(policy.restore_info)
    if policy.derived:
        data["kdf"] = "hkdf_sha256"
        data["convergent_encryption"] = policy.convergent
        if policy.convergent:
            # Vault numbers its convergent schemes 1-3; 2 and up derive the nonce server-side, as ours
            # does (with Strongroom's own construction, docs/transit.md), so clients never send one.
            data["convergent_encryption_version"] = 3
    if not info.asymmetric:
        data["keys"] = {str(n): int(entry.created) for n, entry in sorted(policy.versions.items())}
        return data
    keys: dict[str, Any] = {}
    for number, entry in sorted(policy.versions.items()):
        keys[str(number)] = {
            "name": _version_name(policy),
            "public_key": _public_key(policy, number, context),
            "certificate_chain": "",
            "creation_time": rfc3339(entry.created),
        }
    data["keys"] = keys
    return data


def _version_name(policy: KeyPolicy) -> str:
    info = policy.spec
    if info.family is Family.ECDSA:
        return info.curve
    if info.family is Family.ED25519:
        return "ed25519"
    return policy.key_type.value


def _public_key(policy: KeyPolicy, number: int, context: bytes) -> str:
    if policy.derived:
        # A derived Ed25519 key has one public key per context; without one there is nothing to show.
        return public_key_for(policy, number, context) if context else ""
    return public_key_for(policy, number, b"")
