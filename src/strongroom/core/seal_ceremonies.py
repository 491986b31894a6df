"""The key ceremonies: generate-root, rekey, and (under an auto seal) rekey of the recovery key.

:class:`KeyCeremonies` belongs to the node's :class:`~strongroom.core.seal.LocalSealManager`
(in the supervisor in multi-process mode, so progress is the node's, whichever
worker a share arrives through). It keeps progress in memory only.

Rules, as in Vault: both ceremonies need an initialised and *unsealed* node
(503 ``Vault is sealed`` otherwise). Shares are checked by combining them and
unwrapping the stored root key; a quorum that does not reconstruct the unseal
key is a 400 and the progress starts over (the attempt and its nonce stay).

Crash safety of rekey: the new wrap of the root key (``core/root-key``) and the
new seal configuration (``core/seal-config``) are written in ONE storage
transaction, conditional on the wrap not having changed since the shares were
checked. A kill at any point therefore leaves a store that unseals with either
the old shares or the new ones. The root key and the keyring are untouched.

Under an auto seal (as in Vault) the shares are *recovery* keys, checked
against the recovery key the seal keeps encrypted (:mod:`strongroom.core.recovery`):

* generate-root takes a quorum of recovery keys;
* ``sys/rekey`` rekeys the *stored* unseal key: nobody holds its shares
  (1 share, threshold 1, stored by the seal), the answer carries no keys, and
  the new unseal key is encrypted by the seal before the one transaction that
  writes it and the new wrap of the root key;
* ``sys/rekey-recovery-key`` replaces the recovery shares: the new recovery key
  is encrypted by the seal and written with the new seal configuration in one
  transaction, conditional on the old recovery key blob being unchanged.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from strongroom.core.generate_root import RootGeneration
from strongroom.core.key_ceremony import ShareCollector, new_nonce
from strongroom.core.recovery import RECOVERY_KEY_SIZE, check_recovery_shares, root_key_through_seal
from strongroom.core.rekey import PendingRekey, Rekey
from strongroom.crypto import rootkey, shamir
from strongroom.crypto.barrier import Barrier
from strongroom.errors import DecryptionFailed, InvalidRequest, Sealed
from strongroom.sdk.seal import (
    RECOVERY_KEY_PATH,
    SEAL_CONFIG_PATH,
    SEALED_UNSEAL_KEY_PATH,
    SHAMIR_SEAL_TYPE,
    Seal,
    SealConfig,
)
from strongroom.sdk.storage import Precondition, TxnOp
from strongroom.sdk.system import RandomBytes

log = logging.getLogger("strongroom.seal")

SEAL_CONFIG_KEY = SEAL_CONFIG_PATH
ROOT_KEY_KEY = rootkey.ROOT_KEY_PATH

ConfigSource = Callable[[], Awaitable[SealConfig | None]]
ConfigSink = Callable[[SealConfig], None]
MintRootToken = Callable[[Barrier, str | None], Awaitable[str]]
ShareDecoder = Callable[[str], bytes]


class KeyCeremonies:
    """generate-root and rekey over one barrier and its physical store.

    ``seal_config`` reads the current configuration; ``config_changed`` tells
    the owner a rekey stored a new one; ``decode_share`` turns hex/base64 text
    into bytes (InvalidRequest otherwise).
    """

    def __init__(
        self,
        barrier: Barrier,
        *,
        seal_config: ConfigSource,
        config_changed: ConfigSink,
        mint_root_token: MintRootToken,
        decode_share: ShareDecoder,
        random_bytes: RandomBytes,
        auto_seal: Seal | None = None,
    ) -> None:
        self.barrier = barrier
        self.physical = barrier.physical
        self._seal_config = seal_config
        self._config_changed = config_changed
        self._mint_root_token = mint_root_token
        self._decode_share = decode_share
        self._random = random_bytes
        self._auto = auto_seal
        self.root_generation = RootGeneration(random_bytes)
        self.rekey = Rekey(random_bytes)
        self.recovery_rekey = Rekey(random_bytes)
        # Completing a ceremony awaits storage; one at a time keeps two quorums
        # (through two workers) from interleaving.
        self._lock = asyncio.Lock()

    def forget(self) -> None:
        """Drop all progress (on seal): a ceremony belongs to one unsealed period."""
        self.root_generation = RootGeneration(self._random)
        self.rekey = Rekey(self._random)
        self.recovery_rekey = Rekey(self._random)

    async def _unsealed_config(self) -> SealConfig:
        config = await self._seal_config()
        if config is None:
            raise InvalidRequest("server is not yet initialized")
        if self.barrier.sealed:
            raise Sealed()
        return config

    def _quorum(self, config: SealConfig) -> int:
        """How many shares a ceremony takes: recovery keys under an auto seal, unseal keys otherwise."""
        return config.recovery_threshold if self._auto is not None else config.secret_threshold

    def _machine(self, recovery: bool) -> Rekey:
        if recovery and self._auto is None:
            raise InvalidRequest("recovery keys exist only under an auto-unseal seal; this node uses shamir")
        return self.recovery_rekey if recovery else self.rekey

    # -- generate-root ---------------------------------------------------------------------------

    async def generate_root_status(self) -> dict[str, Any]:
        config = await self._unsealed_config()
        return self.root_generation.status(self._quorum(config))

    async def generate_root_start(self, otp: str | None, pgp_key: str | None) -> dict[str, Any]:
        config = await self._unsealed_config()
        answer = self.root_generation.start(otp, pgp_key, self._quorum(config))
        log.info("root token generation started")
        return answer

    async def generate_root_cancel(self, nonce: str | None) -> None:
        await self._unsealed_config()
        self.root_generation.cancel(nonce)

    async def generate_root_update(self, key: str | None, nonce: str | None) -> dict[str, Any]:
        async with self._lock:
            config = await self._unsealed_config()
            share = self._share(key)
            required = self._quorum(config)
            shares = self.root_generation.add_share(share, nonce, required)
            if shares is None:
                return self.root_generation.status(required)
            await self._recover_root_key(shares, config)
            token = await self._mint_root_token(self.barrier, None)
            log.warning("a new root token was generated from a quorum of %s keys",
                        "recovery" if self._auto is not None else "unseal")
            return self.root_generation.complete(token, required)

    # -- rekey (``recovery``: sys/rekey-recovery-key) ----------------------------------------------

    async def rekey_status(self, recovery: bool = False) -> dict[str, Any]:
        config = await self._unsealed_config()
        return self._machine(recovery).status(self._quorum(config))

    async def rekey_start(
        self, secret_shares: int, secret_threshold: int, require_verification: bool = False, recovery: bool = False
    ) -> dict[str, Any]:
        config = await self._unsealed_config()
        machine = self._machine(recovery)
        if self._auto is not None and not recovery:
            # As in Vault: the unseal key of an auto seal is stored by the seal, one share of it.
            if require_verification:
                raise InvalidRequest("requiring verification not supported when rekeying the barrier key "
                                     "with recovery keys")
            if (secret_shares, secret_threshold) != (1, 1):
                log.warning("auto seal: the stored unseal key is one share; rekeying with 1 share, threshold 1")
            secret_shares = secret_threshold = 1
        answer = machine.start(secret_shares, secret_threshold, self._quorum(config), require_verification)
        log.info("%s rekey started: %d shares, threshold %d", "recovery key" if recovery else "unseal key",
                 secret_shares, secret_threshold)
        return answer

    async def rekey_cancel(self, nonce: str | None, recovery: bool = False) -> None:
        await self._unsealed_config()
        self._machine(recovery).cancel(nonce)

    async def rekey_update(self, key: str | None, nonce: str | None, recovery: bool = False) -> dict[str, Any]:
        async with self._lock:
            config = await self._unsealed_config()
            machine = self._machine(recovery)
            share = self._share(key)
            required = self._quorum(config)
            taken = machine.add_share(share, nonce, required)
            if taken is None:
                return machine.status(required)
            secret_shares, secret_threshold, shares = taken
            if recovery:
                _, version = await self._check_recovery(shares, config)
                root_key = b""  # the root key's wrap does not change
            else:
                root_key, version = await self._recover_root_key(shares, config)
            new_key = rootkey.generate_unseal_key(self._random)
            if self._auto is not None and not recovery:
                await self._commit_stored(root_key, version, new_key)
                return machine.complete([])  # the seal stores the only share: nobody is handed a key
            if secret_shares == 1:
                keys = [new_key]
            else:
                keys = shamir.split(new_key, secret_shares, secret_threshold, self._random)
            if machine.needs_verification:
                pending = PendingRekey(root_key, new_key, version, ShareCollector(new_nonce(self._random)))
                log.info("rekey awaiting verification of the new keys; the old keys still work")
                return machine.complete(keys, pending)
            await self._commit_new_key(
                recovery, old=root_key, version=version, new_key=new_key, shares=secret_shares,
                threshold=secret_threshold,
            )
            return machine.complete(keys)

    async def rekey_verify_status(self, recovery: bool = False) -> dict[str, Any]:
        await self._unsealed_config()
        return self._machine(recovery).verify_status()

    async def rekey_verify_cancel(self, nonce: str | None, recovery: bool = False) -> dict[str, Any]:
        await self._unsealed_config()
        return self._machine(recovery).verify_restart(nonce)

    async def rekey_verify_update(
        self, key: str | None, nonce: str | None, recovery: bool = False
    ) -> dict[str, Any]:
        async with self._lock:
            await self._unsealed_config()
            machine = self._machine(recovery)
            share = self._share(key)
            taken = machine.verify_add_share(share, nonce)
            if taken is None:
                return machine.verify_status()
            pending, shares = taken
            status = machine.verify_status()
            try:
                combined = shares[0] if status["n"] == 1 else shamir.combine(shares)
            except (InvalidRequest, ValueError):
                combined = b""
            if not hmac.compare_digest(combined, pending.new_unseal_key):
                what = "recovery" if recovery else "unseal"
                raise InvalidRequest(f"the keys given do not reconstruct the new {what} key")
            await self._commit_new_key(
                recovery, old=pending.root_key, version=pending.wrap_version, new_key=pending.new_unseal_key,
                shares=status["n"], threshold=status["t"],
            )
            return machine.verified()

    # -- crypto ----------------------------------------------------------------------------------

    def _share(self, key: str | None) -> bytes:
        if not isinstance(key, str) or not key:
            raise InvalidRequest("'key' must be specified in request body as JSON")
        return self._decode_share(key)

    async def _check_recovery(self, shares: list[bytes], config: SealConfig) -> tuple[bytes, bytes]:
        assert self._auto is not None
        return await check_recovery_shares(
            self.physical, self._auto, shares, config, "the recovery keys given do not reconstruct the recovery key"
        )

    async def _recover_root_key(self, shares: list[bytes], config: SealConfig) -> tuple[bytes, bytes]:
        """``(root_key, version of the stored wrap)`` if ``shares`` rebuild the unseal key (under an auto
        seal: the recovery key, and the seal decrypts the unseal key); else 400."""
        if self._auto is not None:
            await self._check_recovery(shares, config)
            return await root_key_through_seal(self.physical, self._auto)
        refused = InvalidRequest("the unseal keys given do not reconstruct the unseal key")
        blob, version = await self.physical.get_with_version(ROOT_KEY_KEY)
        if blob is None or version is None:
            raise refused
        try:
            unseal_key = shares[0] if config.secret_shares == 1 else shamir.combine(shares)
            return rootkey.unwrap_root_key(unseal_key, blob), version
        except (DecryptionFailed, InvalidRequest, ValueError):
            raise refused from None

    async def _commit_new_key(
        self, recovery: bool, *, old: bytes, version: bytes, new_key: bytes, shares: int, threshold: int
    ) -> None:
        """Store ``new_key``: the new recovery key (``old`` unused) or the new Shamir unseal key (``old``: root key)."""
        if recovery:
            await self._commit_recovery(version, new_key, shares, threshold)
        else:
            await self._commit(old, version, new_key, shares, threshold)

    async def _commit_recovery(self, version: bytes, new_key: bytes, shares: int, threshold: int) -> None:
        assert self._auto is not None
        assert len(new_key) == RECOVERY_KEY_SIZE
        config = await self._unsealed_config()
        new_config = SealConfig(
            type=config.type, secret_shares=config.secret_shares, secret_threshold=config.secret_threshold,
            stored_shares=config.stored_shares, recovery_shares=shares, recovery_threshold=threshold,
        )
        blob = await self._auto.encrypt(new_key)
        # One transaction, refused if the recovery key changed since the shares were checked.
        await self.physical.transaction(
            [TxnOp(RECOVERY_KEY_PATH, blob), TxnOp(SEAL_CONFIG_KEY, new_config.to_json())],
            [Precondition(RECOVERY_KEY_PATH, version)],
        )
        self._config_changed(new_config)
        log.warning("recovery key rekeyed: the old recovery keys no longer work")

    async def _commit_stored(self, root_key: bytes, version: bytes, new_unseal_key: bytes) -> None:
        """Auto seal: a new unseal key, encrypted by the seal, wraps the root key (one transaction)."""
        assert self._auto is not None
        blob = await self._auto.encrypt(new_unseal_key)
        await self.physical.transaction(
            [
                TxnOp(ROOT_KEY_KEY, rootkey.wrap_root_key(new_unseal_key, root_key, self._random)),
                TxnOp(SEALED_UNSEAL_KEY_PATH, blob),
            ],
            [Precondition(ROOT_KEY_KEY, version)],
        )
        log.warning("the stored unseal key was rekeyed; the recovery keys are unchanged")

    async def _commit(
        self, root_key: bytes, version: bytes, new_unseal_key: bytes, secret_shares: int, secret_threshold: int
    ) -> None:
        new_config = SealConfig(
            type=SHAMIR_SEAL_TYPE, secret_shares=secret_shares, secret_threshold=secret_threshold
        )
        # One transaction: a crash leaves the old wrap and config or the new ones, never a mix.
        # The precondition refuses to overwrite a wrap that changed since the shares were checked.
        await self.physical.transaction(
            [
                TxnOp(ROOT_KEY_KEY, rootkey.wrap_root_key(new_unseal_key, root_key, self._random)),
                TxnOp(SEAL_CONFIG_KEY, new_config.to_json()),
            ],
            [Precondition(ROOT_KEY_KEY, version)],
        )
        self._config_changed(new_config)
        log.warning("rekey complete: the old unseal keys no longer work")
