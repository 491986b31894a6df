"""Creating a key: the rules on the creation options, and the first version's material."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from strongroom.errors import InvalidRequest

from . import material
from .keytypes import HMAC_DEFAULT_BYTES, HMAC_MAX_BYTES, HMAC_MIN_BYTES, Family, KeyType, spec
from .policy import KeyPolicy, KeyVersion

#: Vault's lower bound on automatic rotation (a shorter period would rotate on nearly every use).
MIN_AUTO_ROTATE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class CreateOptions:
    key_type: KeyType = KeyType.AES256_GCM96
    derived: bool = False
    convergent: bool = False
    exportable: bool = False
    allow_plaintext_backup: bool = False
    auto_rotate_period: int = 0
    #: Requested HMAC key size in bytes; 0 means "not given".
    key_size: int = 0


def check_auto_rotate_period(seconds: int) -> int:
    if seconds != 0 and seconds < MIN_AUTO_ROTATE_SECONDS:
        raise InvalidRequest("auto rotate period must be 0 to disable or at least an hour")
    return seconds


def validate(opts: CreateOptions) -> int:
    """Refuse inconsistent options (400, Vault's wording); return the HMAC key size to use (0 otherwise)."""
    info = spec(opts.key_type)
    if opts.derived and not info.derivation:
        raise InvalidRequest(f"key derivation and convergent encryption not supported for keys of type {opts.key_type}")
    if opts.convergent and not opts.derived:
        raise InvalidRequest("convergent encryption requires derivation to be enabled")
    if opts.convergent and not info.convergent:
        raise InvalidRequest(f"convergent encryption not supported for keys of type {opts.key_type}")
    check_auto_rotate_period(opts.auto_rotate_period)
    if info.family is not Family.HMAC:
        if opts.key_size:
            raise InvalidRequest(f"key_size is not valid for algorithm {opts.key_type}")
        return 0
    size = opts.key_size or HMAC_DEFAULT_BYTES
    if not HMAC_MIN_BYTES <= size <= HMAC_MAX_BYTES:
        raise InvalidRequest(f"invalid key_size: must be between {HMAC_MIN_BYTES} and {HMAC_MAX_BYTES} bytes")
    return size


async def new_version(
    key_type: KeyType, random_bytes: Callable[[int], bytes], now: float, key_size: int = 0
) -> KeyVersion:
    """Fresh material for a version. RSA and ECDSA generation runs off the event loop (RSA-4096 takes ~1 s)."""
    info = spec(key_type)
    if info.family in (Family.RSA, Family.ECDSA):
        key = await asyncio.to_thread(material.generate, key_type, random_bytes, key_size)
    else:
        key = material.generate(key_type, random_bytes, key_size)
    hmac_key = b"" if info.family is Family.HMAC else random_bytes(material.VERSION_HMAC_BYTES)
    return KeyVersion(material=key, hmac_key=hmac_key, created=now)


async def new_policy(name: str, opts: CreateOptions, random_bytes: Callable[[int], bytes], now: float) -> KeyPolicy:
    """A validated new key with version 1 (raises 400 for inconsistent options)."""
    key_size = validate(opts)
    first = await new_version(opts.key_type, random_bytes, now, key_size)
    return KeyPolicy(
        name=name,
        key_type=opts.key_type,
        versions={1: first},
        latest_version=1,
        derived=opts.derived,
        convergent=opts.convergent,
        exportable=opts.exportable,
        allow_plaintext_backup=opts.allow_plaintext_backup,
        auto_rotate_period=opts.auto_rotate_period,
        key_size=key_size,
    )
