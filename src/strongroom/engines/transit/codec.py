"""The one serial form of a key, shared by storage and by ``backup``/``restore``.

A key is a JSON object (field names below). Key bytes are standard base64.
:func:`policy_from_dict` is strict: every field must have its exact JSON type,
the version numbers must be exactly ``max(1, min_available_version)..latest_version``,
the minimums must be consistent, and every version's material must be valid
for the key type (asymmetric keys are loaded to prove it). That makes it the
parser for untrusted input (``restore``), not only for our own entries. It
raises :class:`MalformedKey`, which never carries any part of the input.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, TypeGuard

import orjson

from . import material as keymaterial
from .keytypes import HMAC_MAX_BYTES, HMAC_MIN_BYTES, Family, KeyType, spec
from .policy import KeyPolicy, KeyVersion, Stamp

#: Vault's key-name rule: word characters, '-', '.', '@'; starts and ends with a word character.
NAME_PATTERN = r"[A-Za-z0-9_](?:[A-Za-z0-9_.@-]{0,254}[A-Za-z0-9_])?"
_NAME = re.compile(NAME_PATTERN)
_VERSION_KEY = re.compile(r"[1-9][0-9]{0,8}")
#: Upper bound on versions in one key, so a restored blob cannot demand unbounded work.
MAX_VERSIONS = 100_000


class MalformedKey(ValueError):
    """A serialised key failed validation. The message names the rule, never the input."""


def valid_name(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def policy_to_dict(policy: KeyPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "type": policy.key_type.value,
        "derived": policy.derived,
        "convergent": policy.convergent,
        "exportable": policy.exportable,
        "allow_plaintext_backup": policy.allow_plaintext_backup,
        "deletion_allowed": policy.deletion_allowed,
        "min_decryption_version": policy.min_decryption_version,
        "min_encryption_version": policy.min_encryption_version,
        "min_available_version": policy.min_available_version,
        "latest_version": policy.latest_version,
        "auto_rotate_period": policy.auto_rotate_period,
        "key_size": policy.key_size,
        "versions": {
            str(number): {
                "key": _b64(entry.material),
                "hmac_key": _b64(entry.hmac_key),
                "created": entry.created,
            }
            for number, entry in sorted(policy.versions.items())
        },
        "backup_info": _stamp_to_dict(policy.backup_info),
        "restore_info": _stamp_to_dict(policy.restore_info),
    }


def encode_policy(policy: KeyPolicy) -> bytes:
    return orjson.dumps(policy_to_dict(policy))


def decode_policy(raw: bytes) -> KeyPolicy:
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedKey("not JSON") from None
    return policy_from_dict(parsed)


def policy_from_dict(obj: object) -> KeyPolicy:
    """Validate and build a key from its serial form; :class:`MalformedKey` on any violation."""
    if not isinstance(obj, dict):
        raise MalformedKey("a key is a JSON object")
    name = obj.get("name")
    if not valid_name(name):
        raise MalformedKey("invalid key name")
    raw_type = obj.get("type")
    try:
        key_type = KeyType(str(raw_type))
    except ValueError:
        raise MalformedKey("unknown key type") from None
    info = spec(key_type)
    flags = {k: _bool(obj, k) for k in ("derived", "convergent", "exportable", "allow_plaintext_backup",
                                        "deletion_allowed")}
    if flags["derived"] and not info.derivation:
        raise MalformedKey("derivation is not supported by the key type")
    if flags["convergent"] and not (flags["derived"] and info.convergent):
        raise MalformedKey("convergent encryption needs a derived AEAD key")
    numbers = {k: _int(obj, k) for k in ("min_decryption_version", "min_encryption_version",
                                          "min_available_version", "latest_version", "auto_rotate_period",
                                          "key_size")}
    _check_numbers(numbers, key_type)
    versions = _versions(obj.get("versions"), key_type, numbers)
    return KeyPolicy(
        name=name,
        key_type=key_type,
        versions=versions,
        latest_version=numbers["latest_version"],
        derived=flags["derived"],
        convergent=flags["convergent"],
        exportable=flags["exportable"],
        allow_plaintext_backup=flags["allow_plaintext_backup"],
        deletion_allowed=flags["deletion_allowed"],
        min_decryption_version=numbers["min_decryption_version"],
        min_encryption_version=numbers["min_encryption_version"],
        min_available_version=numbers["min_available_version"],
        auto_rotate_period=numbers["auto_rotate_period"],
        key_size=numbers["key_size"],
        backup_info=_stamp(obj.get("backup_info")),
        restore_info=_stamp(obj.get("restore_info")),
    )


def _check_numbers(n: dict[str, int], key_type: KeyType) -> None:
    latest = n["latest_version"]
    if not 1 <= latest <= 10**9:
        raise MalformedKey("latest_version out of range")
    if not 1 <= n["min_decryption_version"] <= latest:
        raise MalformedKey("min_decryption_version out of range")
    if not 0 <= n["min_encryption_version"] <= latest:
        raise MalformedKey("min_encryption_version out of range")
    if not 0 <= n["min_available_version"] <= n["min_decryption_version"]:
        raise MalformedKey("min_available_version out of range")
    if n["auto_rotate_period"] < 0:
        raise MalformedKey("negative auto_rotate_period")
    is_hmac = spec(key_type).family is Family.HMAC
    if is_hmac and not HMAC_MIN_BYTES <= n["key_size"] <= HMAC_MAX_BYTES:
        raise MalformedKey("key_size out of range")
    if not is_hmac and n["key_size"] != 0:
        raise MalformedKey("key_size applies to HMAC keys only")


def _versions(raw: object, key_type: KeyType, n: dict[str, int]) -> dict[int, KeyVersion]:
    if not isinstance(raw, dict):
        raise MalformedKey("versions must be an object")
    first = max(1, n["min_available_version"])
    expected = n["latest_version"] - first + 1
    if expected > MAX_VERSIONS or len(raw) != expected:
        raise MalformedKey("versions do not match latest_version and min_available_version")
    versions: dict[int, KeyVersion] = {}
    is_hmac = spec(key_type).family is Family.HMAC
    for key, entry in raw.items():
        if not isinstance(key, str) or not _VERSION_KEY.fullmatch(key):
            raise MalformedKey("a version number is invalid")
        number = int(key)
        if not first <= number <= n["latest_version"]:
            raise MalformedKey("a version number is out of range")
        if not isinstance(entry, dict):
            raise MalformedKey("a version must be an object")
        key_bytes = _bytes(entry, "key")
        hmac_key = _bytes(entry, "hmac_key")
        created = entry.get("created")
        if isinstance(created, bool) or not isinstance(created, (int, float)) or not 0 <= created < 1e11:
            raise MalformedKey("a version's creation time is invalid")
        if (is_hmac and hmac_key) or (not is_hmac and len(hmac_key) != keymaterial.VERSION_HMAC_BYTES):
            raise MalformedKey("a version's HMAC key is invalid")
        try:
            keymaterial.check(key_type, key_bytes, n["key_size"])
        except keymaterial.MaterialError:
            raise MalformedKey("a version's key material does not fit the key type") from None
        versions[number] = KeyVersion(material=key_bytes, hmac_key=hmac_key, created=float(created))
    return versions


def _bool(obj: dict[str, Any], name: str) -> bool:
    value = obj.get(name)
    if not isinstance(value, bool):
        raise MalformedKey(f"{name} must be a boolean")
    return value


def _int(obj: dict[str, Any], name: str) -> int:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedKey(f"{name} must be an integer")
    return value


def _bytes(obj: dict[str, Any], name: str) -> bytes:
    value = obj.get(name)
    if not isinstance(value, str):
        raise MalformedKey(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedKey(f"{name} must be a base64 string") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _stamp_to_dict(stamp: Stamp | None) -> dict[str, Any] | None:
    return None if stamp is None else {"time": stamp.time, "version": stamp.version}


def _stamp(raw: object) -> Stamp | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise MalformedKey("backup_info and restore_info must be objects")
    time, version = raw.get("time"), raw.get("version")
    if isinstance(time, bool) or not isinstance(time, (int, float)) or not 0 <= time < 1e11:
        raise MalformedKey("a stamp's time is invalid")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise MalformedKey("a stamp's version is invalid")
    return Stamp(time=float(time), version=version)
