"""Seal migration: Shamir -> auto seal, auto seal -> Shamir, and one auto seal -> another.

As in Vault, the configuration names the new seal and keeps the old one as a
block marked ``disabled = "true"`` (Shamir needs no block). While the stored
seal type differs from the configured one the node does not unseal itself:
``sys/seal-status`` says ``migration: true`` and the operator unseals with
``migrate: true`` and a quorum of the keys of the *old* seal (unseal keys from
Shamir, recovery keys from an auto seal). The operators' keys do not change:

* Shamir -> auto: the old unseal key becomes the recovery key, so the old unseal
  shares are the recovery shares (same number, same threshold); a fresh unseal
  key, encrypted by the new seal, wraps the root key.
* auto -> Shamir: the recovery key becomes the unseal key (it wraps the root
  key), so the recovery shares are the unseal shares.
* auto -> auto: the unseal key and the recovery key are re-encrypted by the new seal.

Crash safety. Everything that can be slow or fail (combining shares, the old
seal's decryptions, the new seal's encryptions) happens before anything is
written, and the new key material, its seal configuration and the removal of
what the old seal needed are then written in ONE storage transaction: the
write-ahead record and the flip are the same atomic write, conditional on the
wrapped root key and the seal configuration not having changed since they were
read. A ``kill -9`` at any point leaves either the old store (unseals with the
old seal and its keys; the migration can simply be run again) or the migrated
one (unseals with the new seal), never a mix, so there is no half-done state to
detect or repair on start. Because the keys operators hold are the same before
and after, an answer lost to a crash loses nothing either. The root key and the
keyring are untouched: no data is re-encrypted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from strongroom.core.recovery import RECOVERY_KEY_SIZE, check_recovery_shares, combine, root_key_through_seal
from strongroom.crypto import rootkey
from strongroom.errors import DecryptionFailed, InvalidRequest
from strongroom.sdk.seal import (
    RECOVERY_KEY_PATH,
    SEAL_CONFIG_PATH,
    SEALED_UNSEAL_KEY_PATH,
    SHAMIR_SEAL_TYPE,
    Seal,
    SealConfig,
)
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.sdk.system import RandomBytes

log = logging.getLogger("strongroom.seal")

ROOT_KEY_KEY = rootkey.ROOT_KEY_PATH


@dataclass(frozen=True)
class Migration:
    """A pending migration: the store's seal (``old``, None for Shamir) to the configured one (``new``)."""

    old: Seal | None
    new: Seal | None

    @property
    def from_type(self) -> str:
        return self.old.seal_type if self.old else SHAMIR_SEAL_TYPE

    @property
    def to_type(self) -> str:
        return self.new.seal_type if self.new else SHAMIR_SEAL_TYPE

    def quorum(self, config: SealConfig) -> tuple[int, int]:
        """``(threshold, shares)`` of the keys that authorise it: the old seal's unseal or recovery keys."""
        if self.old is None:
            return config.secret_threshold, config.secret_shares
        return config.recovery_threshold, config.recovery_shares


def plan(config: SealConfig, active: Seal | None, disabled: Seal | None) -> Migration | None:
    """The migration the configuration asks for, None when the store already uses the configured seal.

    InvalidRequest when the store's seal is neither the configured one nor the disabled one.
    """
    configured = active.seal_type if active else SHAMIR_SEAL_TYPE
    if config.type == configured:
        return None
    if config.type == SHAMIR_SEAL_TYPE and disabled is None:
        return Migration(old=None, new=active)
    if disabled is not None and config.type == disabled.seal_type:
        return Migration(old=disabled, new=active)
    raise InvalidRequest(
        f"the store is sealed with {config.type!r} but this server is configured with {configured!r}; "
        f'to migrate, keep the old seal in the configuration with disabled = "true"'
    )


@dataclass(frozen=True)
class Migrated:
    """What the node needs after the commit: the root key (to unseal) and the stored configuration."""

    root_key: bytes
    config: SealConfig

    def __repr__(self) -> str:
        return f"Migrated(type={self.config.type!r})"


async def migrate(
    physical: StorageBackend,
    migration: Migration,
    config: SealConfig,
    shares: list[bytes],
    random_bytes: RandomBytes,
) -> Migrated:
    """Check ``shares`` against the old seal, then rewrite the key material for the new one in one transaction."""
    config_blob, config_version = await physical.get_with_version(SEAL_CONFIG_PATH)
    if config_blob is None or SealConfig.from_json(config_blob) != config:
        raise InvalidRequest("the seal configuration changed during the migration; start again")
    log.warning("seal migration from %s to %s: checking the keys given against the old seal",
                migration.from_type, migration.to_type)
    root_key, wrap_version, recovery_key = await _open_old(physical, migration, config, shares)
    threshold, total = migration.quorum(config)
    log.warning("seal migration from %s to %s: keys checked, writing them for the new seal",
                migration.from_type, migration.to_type)
    if migration.new is None:
        new_config = SealConfig(type=SHAMIR_SEAL_TYPE, secret_shares=total, secret_threshold=threshold)
        ops = [
            TxnOp(ROOT_KEY_KEY, rootkey.wrap_root_key(recovery_key, root_key, random_bytes)),
            TxnOp(SEALED_UNSEAL_KEY_PATH, None),
            TxnOp(RECOVERY_KEY_PATH, None),
        ]
    else:
        unseal_key = rootkey.generate_unseal_key(random_bytes)
        new_config = SealConfig(
            type=migration.new.seal_type, secret_shares=1, secret_threshold=1, stored_shares=1,
            recovery_shares=total, recovery_threshold=threshold,
        )
        ops = [
            TxnOp(ROOT_KEY_KEY, rootkey.wrap_root_key(unseal_key, root_key, random_bytes)),
            TxnOp(SEALED_UNSEAL_KEY_PATH, await migration.new.encrypt(unseal_key)),
            TxnOp(RECOVERY_KEY_PATH, await migration.new.encrypt(recovery_key)),
        ]
    # The flip: new key material and the configuration that says which seal reads it, in one
    # transaction, refused if another migration or a rekey got there first.
    await physical.transaction(
        [*ops, TxnOp(SEAL_CONFIG_PATH, new_config.to_json())],
        [Precondition(ROOT_KEY_KEY, wrap_version), Precondition(SEAL_CONFIG_PATH, config_version)],
    )
    log.warning("seal migration from %s to %s committed", migration.from_type, migration.to_type)
    return Migrated(root_key, new_config)


async def _open_old(
    physical: StorageBackend, migration: Migration, config: SealConfig, shares: list[bytes]
) -> tuple[bytes, bytes, bytes]:
    """``(root key, version of its wrap, the recovery key to keep)`` through the old seal and ``shares``."""
    if migration.old is not None:
        recovery_key, _ = await check_recovery_shares(
            physical, migration.old, shares, config,
            "unable to migrate: the recovery keys given do not reconstruct the key",
        )
        root_key, version = await root_key_through_seal(physical, migration.old)
        return root_key, version, recovery_key
    refused = InvalidRequest("unable to migrate: the unseal keys given do not reconstruct the key")
    unseal_key = combine(shares, config.secret_shares)
    wrapped, wrap_version = await physical.get_with_version(ROOT_KEY_KEY)
    if wrapped is None or wrap_version is None or len(unseal_key) != RECOVERY_KEY_SIZE:
        raise refused
    try:
        root_key = rootkey.unwrap_root_key(unseal_key, wrapped)
    except DecryptionFailed:
        raise refused from None
    return root_key, wrap_version, unseal_key
