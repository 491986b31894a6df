"""Building the node's auto-unseal seal from the configuration's ``seal "type" { ... }`` blocks.

Seal types are registered here by name, built-ins exactly like a plug-in would
be. Only the process that owns the seal state (the supervisor, or the single
process) builds one: a PKCS#11 session does not survive a fork.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class NodeSeals:
    """The configured seal (``active``, None for shamir) and, during a seal migration, the old one.

    ``disabled`` is the seal the store was sealed with before the migration: a
    block marked ``disabled = "true"``, or None. Seal migration is Vault's: the
    configuration names the new seal and keeps the old one, disabled.
    """

    active: Seal | None = None
    disabled: Seal | None = None


def build_seal(blocks: tuple[SealBlock, ...], random_bytes: RandomBytes = os.urandom) -> Seal | None:
    """The configured (enabled) auto seal, or None for shamir. See :func:`build_seals`."""
    return build_seals(blocks, random_bytes).active


def build_seals(blocks: tuple[SealBlock, ...], random_bytes: RandomBytes = os.urandom) -> NodeSeals:
    """The configured seals. Raises ConfigError for blocks that cannot work.

    At most two blocks: one enabled (or none, meaning shamir) and one marked
    ``disabled = "true"`` (the old seal of a migration). Building validates the
    blocks only; a seal reaches its key service on first use, so an unreachable
    HSM leaves the server up and sealed (it says why) instead of failing the
    configuration.
    """
    enabled = [block for block in blocks if not _disabled(block)]
    disabled = [block for block in blocks if _disabled(block)]
    if len(enabled) > 1 or len(disabled) > 1:
        raise ConfigError(
            "at most two seal blocks: the seal in use and, for a seal migration, the old one with disabled = \"true\""
        )
    if disabled and enabled and disabled[0].type == enabled[0].type:
        raise ConfigError(f"seal migration between two {enabled[0].type!r} seals is not supported")
    return NodeSeals(
        active=_build(enabled[0], random_bytes) if enabled else None,
        disabled=_build(disabled[0], random_bytes) if disabled else None,
    )


def _disabled(block: SealBlock) -> bool:
    value = block.options.get("disabled", "false").strip().lower()
    if value not in ("true", "1", "false", "0", ""):
        raise ConfigError(f"seal {block.type!r}: disabled must be true or false")
    return value in ("true", "1")


def _build(block: SealBlock, random_bytes: RandomBytes) -> Seal | None:
    if block.type == SHAMIR_SEAL_TYPE:
        return None
    factory = SEAL_TYPES.get(block.type)
    if factory is None:
        raise ConfigError(f"unknown seal type {block.type!r} (supported: {', '.join(sorted(SEAL_TYPES))})")
    options = {name: value for name, value in block.options.items() if name != "disabled"}
    try:
        return factory(options, random_bytes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
