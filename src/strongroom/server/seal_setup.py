"""Building the node's auto-unseal seal from the configuration's ``seal "type" { ... }`` blocks.

Seal types are registered here by name, built-ins exactly like a plug-in would
be. Only the process that owns the seal state (the supervisor, or the single
process) builds one: a PKCS#11 session does not survive a fork.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from strongroom.config.model import SealConfig as SealBlock
from strongroom.errors import ConfigError
from strongroom.sdk.seal import SHAMIR_SEAL_TYPE, Seal
from strongroom.sdk.system import RandomBytes

SealFactory = Callable[[Mapping[str, str], RandomBytes], Seal]


def _pkcs11(options: Mapping[str, str], random_bytes: RandomBytes) -> Seal:
    # Imported on use: the PKCS#11 binding is only loaded on nodes that configure it.
    from strongroom.seals import pkcs11

    return pkcs11.build(options, random_bytes)


def _transit(options: Mapping[str, str], random_bytes: RandomBytes) -> Seal:
    from strongroom.seals import transit

    return transit.build(options, random_bytes)


def _awskms(options: Mapping[str, str], random_bytes: RandomBytes) -> Seal:
    # boto3 takes a while to import: only nodes that configure this seal pay for it.
    from strongroom.seals import awskms

    return awskms.build(options, random_bytes)


SEAL_TYPES: dict[str, SealFactory] = {"pkcs11": _pkcs11, "transit": _transit, "awskms": _awskms}


def build_seal(blocks: tuple[SealBlock, ...], random_bytes: RandomBytes = os.urandom) -> Seal | None:
    """The configured auto seal, or None for shamir. Raises ConfigError for a block that cannot work.

    Building validates the block only; the seal reaches its key service on first
    use, so an unreachable HSM leaves the server up and sealed (it says why)
    instead of failing the configuration.
    """
    if not blocks:
        return None
    if len(blocks) > 1:
        raise ConfigError("only one seal block is supported (seal migration is not supported)")
    block = blocks[0]
    if block.options.get("disabled", "").lower() in ("true", "1"):
        raise ConfigError("seal migration (disabled = true) is not supported")
    if block.type == SHAMIR_SEAL_TYPE:
        return None
    factory = SEAL_TYPES.get(block.type)
    if factory is None:
        raise ConfigError(f"unknown seal type {block.type!r} (supported: {', '.join(sorted(SEAL_TYPES))})")
    try:
        return factory(block.options, random_bytes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
