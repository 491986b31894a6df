"""Under an auto seal: checking recovery shares, and getting the unseal key back from the seal.

Shared by the seal manager (``sys/unseal`` after ``sys/seal``), the key
ceremonies (generate-root and rekey with recovery keys) and seal migration.
As in Vault, recovery keys decrypt nothing: a quorum of them is compared with
the recovery key the seal keeps encrypted at ``core/recovery-key``.
"""

from __future__ import annotations

import secrets

from strongroom.crypto import rootkey, shamir
from strongroom.errors import DecryptionFailed, InvalidRequest
from strongroom.sdk.seal import RECOVERY_KEY_PATH, SEALED_UNSEAL_KEY_PATH, Seal, SealConfig
from strongroom.sdk.storage import StorageBackend

RECOVERY_KEY_SIZE = 32


def combine(shares: list[bytes], total: int) -> bytes:
    """The key ``shares`` rebuild (a single share is the key itself); b"" when they cannot be combined."""
    if total == 1:
        return shares[0]
    try:
        return shamir.combine(shares)
    except (InvalidRequest, ValueError):
        return b""


async def check_recovery_shares(
    physical: StorageBackend, seal: Seal, shares: list[bytes], config: SealConfig, refusal: str
) -> tuple[bytes, bytes]:
    """``(recovery key, version of its stored blob)`` if ``shares`` rebuild it; InvalidRequest(refusal) otherwise.

    Seal failures (HSM gone, damaged blob) propagate as the seal raised them.
    """
    blob, version = await physical.get_with_version(RECOVERY_KEY_PATH)
    if blob is None or version is None:
        raise DecryptionFailed()
    stored = await seal.decrypt(blob)
    given = combine(shares, config.recovery_shares)
    if not given or not secrets.compare_digest(given, stored):
        raise InvalidRequest(refusal)
    return stored, version


async def root_key_through_seal(physical: StorageBackend, seal: Seal) -> tuple[bytes, bytes]:
    """``(root key, version of the stored wrap)``: the seal decrypts the unseal key, which unwraps the root key."""
    blob = await physical.get(SEALED_UNSEAL_KEY_PATH)
    wrapped, version = await physical.get_with_version(rootkey.ROOT_KEY_PATH)
    if blob is None or wrapped is None or version is None:
        raise DecryptionFailed()
    unseal_key = await seal.decrypt(blob)
    return rootkey.unwrap_root_key(unseal_key, wrapped), version
