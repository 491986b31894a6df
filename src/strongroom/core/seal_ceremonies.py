"""The key ceremonies of a Shamir-sealed node: generate-root and rekey.

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
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from strongroom.core.generate_root import RootGeneration
from strongroom.core.key_ceremony import ShareCollector, new_nonce
from strongroom.core.rekey import PendingRekey, Rekey
from strongroom.crypto import rootkey, shamir
from strongroom.crypto.barrier import Barrier
from strongroom.errors import DecryptionFailed, InvalidRequest, Sealed
from strongroom.sdk.seal import SEAL_CONFIG_PATH, SHAMIR_SEAL_TYPE, SealConfig
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
    ) -> None:
        self.barrier = barrier
        self.physical = barrier.physical
        self._seal_config = seal_config
        self._config_changed = config_changed
        self._mint_root_token = mint_root_token
        self._decode_share = decode_share
        self._random = random_bytes
        self.root_generation = RootGeneration(random_bytes)
        self.rekey = Rekey(random_bytes)
        # Completing a ceremony awaits storage; one at a time keeps two quorums
        # (through two workers) from interleaving.
        self._lock = asyncio.Lock()

    def forget(self) -> None:
        """Drop all progress (on seal): a ceremony belongs to one unsealed period."""
        self.root_generation = RootGeneration(self._random)
        self.rekey = Rekey(self._random)

    async def _unsealed_config(self) -> SealConfig:
        config = await self._seal_config()
        if config is None:
            raise InvalidRequest("server is not yet initialized")
        if self.barrier.sealed:
            raise Sealed()
        return config

    # -- generate-root ---------------------------------------------------------------------------

    async def generate_root_status(self) -> dict[str, Any]:
        config = await self._unsealed_config()
        return self.root_generation.status(config.secret_threshold)

    async def generate_root_start(self, otp: str | None, pgp_key: str | None) -> dict[str, Any]:
        config = await self._unsealed_config()
        answer = self.root_generation.start(otp, pgp_key, config.secret_threshold)
        log.info("root token generation started")
        return answer

    async def generate_root_cancel(self, nonce: str | None) -> None:
        await self._unsealed_config()
        self.root_generation.cancel(nonce)

    async def generate_root_update(self, key: str | None, nonce: str | None) -> dict[str, Any]:
        async with self._lock:
            config = await self._unsealed_config()
            share = self._share(key)
            required = config.secret_threshold
            shares = self.root_generation.add_share(share, nonce, required)
            if shares is None:
                return self.root_generation.status(required)
            await self._recover_root_key(shares, config)
            token = await self._mint_root_token(self.barrier, None)
            log.warning("a new root token was generated from a quorum of unseal keys")
            return self.root_generation.complete(token, required)

    # -- rekey -----------------------------------------------------------------------------------

    async def rekey_status(self) -> dict[str, Any]:
        config = await self._unsealed_config()
        return self.rekey.status(config.secret_threshold)

    async def rekey_start(
        self, secret_shares: int, secret_threshold: int, require_verification: bool = False
    ) -> dict[str, Any]:
        config = await self._unsealed_config()
        if config.type != SHAMIR_SEAL_TYPE:
            raise InvalidRequest("sys/rekey rekeys Shamir unseal keys; this node uses an auto-unseal seal")
        answer = self.rekey.start(secret_shares, secret_threshold, config.secret_threshold, require_verification)
        log.info("rekey started: %d shares, threshold %d", secret_shares, secret_threshold)
        return answer

    async def rekey_cancel(self, nonce: str | None) -> None:
        await self._unsealed_config()
        self.rekey.cancel(nonce)

    async def rekey_update(self, key: str | None, nonce: str | None) -> dict[str, Any]:
        async with self._lock:
            config = await self._unsealed_config()
            share = self._share(key)
            taken = self.rekey.add_share(share, nonce, config.secret_threshold)
            if taken is None:
                return self.rekey.status(config.secret_threshold)
            secret_shares, secret_threshold, shares = taken
            root_key, version = await self._recover_root_key(shares, config)
            new_unseal_key = rootkey.generate_unseal_key(self._random)
            if secret_shares == 1:
                keys = [new_unseal_key]
            else:
                keys = shamir.split(new_unseal_key, secret_shares, secret_threshold, self._random)
            if self.rekey.needs_verification:
                pending = PendingRekey(root_key, new_unseal_key, version, ShareCollector(new_nonce(self._random)))
                log.info("rekey awaiting verification of the new keys; the old keys still work")
                return self.rekey.complete(keys, pending)
            await self._commit(root_key, version, new_unseal_key, secret_shares, secret_threshold)
            return self.rekey.complete(keys)

    async def rekey_verify_status(self) -> dict[str, Any]:
        await self._unsealed_config()
        return self.rekey.verify_status()

    async def rekey_verify_cancel(self, nonce: str | None) -> dict[str, Any]:
        await self._unsealed_config()
        return self.rekey.verify_restart(nonce)

    async def rekey_verify_update(self, key: str | None, nonce: str | None) -> dict[str, Any]:
        async with self._lock:
            await self._unsealed_config()
            share = self._share(key)
            taken = self.rekey.verify_add_share(share, nonce)
            if taken is None:
                return self.rekey.verify_status()
            pending, shares = taken
            status = self.rekey.verify_status()
            try:
                combined = shares[0] if status["n"] == 1 else shamir.combine(shares)
            except (InvalidRequest, ValueError):
                combined = b""
            if not hmac.compare_digest(combined, pending.new_unseal_key):
                raise InvalidRequest("the keys given do not reconstruct the new unseal key")
            await self._commit(pending.root_key, pending.wrap_version, pending.new_unseal_key, status["n"], status["t"])
            return self.rekey.verified()

    # -- crypto ----------------------------------------------------------------------------------

    def _share(self, key: str | None) -> bytes:
        if not isinstance(key, str) or not key:
            raise InvalidRequest("'key' must be specified in request body as JSON")
        return self._decode_share(key)

    async def _recover_root_key(self, shares: list[bytes], config: SealConfig) -> tuple[bytes, bytes]:
        """``(root_key, version of the stored wrap)`` if ``shares`` rebuild the unseal key; else 400."""
        refused = InvalidRequest("the unseal keys given do not reconstruct the unseal key")
        blob, version = await self.physical.get_with_version(ROOT_KEY_KEY)
        if blob is None or version is None:
            raise refused
        try:
            unseal_key = shares[0] if config.secret_shares == 1 else shamir.combine(shares)
            return rootkey.unwrap_root_key(unseal_key, blob), version
        except (DecryptionFailed, InvalidRequest, ValueError):
            raise refused from None

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
