"""The seal state machine: initialise, collect unseal shares, unseal, seal.

One :class:`LocalSealManager` per node holds the unseal progress (kept in
memory only, forgotten on restart, as in Vault). In the multi-process server it
lives in the supervisor and workers reach it through
:class:`strongroom.server.ipc`; in single-process mode it lives beside the core.

Key hierarchy: the Shamir shares combine into the *unseal key*, which unwraps
the *root key* stored at ``core/root-key``, which opens the barrier keyring.

With an auto-unseal :class:`strongroom.sdk.seal.Seal` (PKCS#11, ...), nobody holds
the unseal key: the seal encrypts it and the result is stored at
``core/sealed-unseal-key``, so the node unseals itself (:meth:`LocalSealManager.auto_unseal`).
Operators hold Shamir shares of a separate *recovery key*, itself stored
encrypted by the seal at ``core/recovery-key``. As in Vault, recovery keys
decrypt nothing: ``sys/unseal`` after a ``sys/seal`` checks a quorum of them and
then unseals through the seal again.

Seal migration (:mod:`strongroom.core.seal_migration`): when the store's seal
type differs from the configured one, the node waits for ``sys/unseal`` with
``migrate: true`` and a quorum of the old seal's keys, and moves the key
material to the new seal in one storage transaction.
"""

from __future__ import annotations

import abc
import base64
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from strongroom import __version__
from strongroom.core.recovery import check_recovery_shares, root_key_through_seal
from strongroom.core.seal_ceremonies import KeyCeremonies
from strongroom.core.seal_migration import Migration, migrate, plan
from strongroom.crypto import rootkey, shamir
from strongroom.crypto.barrier import Barrier
from strongroom.errors import AlreadyInitialized, DecryptionFailed, InternalError, InvalidRequest, NotInitialized
from strongroom.sdk.seal import RECOVERY_KEY_PATH, SEALED_UNSEAL_KEY_PATH, SHAMIR_SEAL_TYPE, Seal, SealConfig
from strongroom.sdk.storage import TxnOp
from strongroom.sdk.system import Clock, RandomBytes

SEAL_CONFIG_KEY = "core/seal-config"
ROOT_KEY_KEY = "core/root-key"
CLUSTER_ID_KEY = "core/cluster-id"
SEALED_UNSEAL_KEY_KEY = SEALED_UNSEAL_KEY_PATH
RECOVERY_KEY_KEY = RECOVERY_KEY_PATH
RECOVERY_KEY_SIZE = 32
#: The Vault API level we implement, with our own version as build metadata.
API_VERSION = f"1.15.0+strongroom.{__version__}"
MAX_SHARES = 255

log = logging.getLogger("strongroom.seal")


@dataclass(frozen=True)
class InitResult:
    """What ``sys/init`` hands out: unseal shares (shamir) or recovery shares (auto seal)."""

    keys: list[bytes]
    root_token: str
    recovery_keys: list[bytes] | None = None

    def __repr__(self) -> str:
        return "InitResult(<secret>)"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "keys": [k.hex() for k in self.keys],
            "keys_base64": [base64.b64encode(k).decode() for k in self.keys],
            "root_token": self.root_token,
        }
        if self.recovery_keys is not None:
            body["recovery_keys"] = [k.hex() for k in self.recovery_keys]
            body["recovery_keys_base64"] = [base64.b64encode(k).decode() for k in self.recovery_keys]
        return body


MintRootToken = Callable[[Barrier, str | None], Awaitable[str]]


@dataclass(frozen=True)
class KeyEvent:
    """What changed about the keys: ``unsealed`` (with the root key), ``sealed``, or ``keyring`` (rotated)."""

    kind: str
    root_key: bytes | None = None

    def __repr__(self) -> str:
        return f"KeyEvent(kind={self.kind!r})"


KeyListener = Callable[[KeyEvent], Awaitable[None]]


class SealManager(abc.ABC):
    """What the core needs from the seal, wherever it lives."""

    @abc.abstractmethod
    async def status(self) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def initialize(
        self, secret_shares: int, secret_threshold: int, recovery_shares: int = 0, recovery_threshold: int = 0
    ) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def unseal(self, key: str | None, reset: bool, migrate: bool = False) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def seal(self) -> None: ...

    @abc.abstractmethod
    async def rotate(self) -> dict[str, Any]: ...

    # Key ceremonies (strongroom.core.seal_ceremonies): unauthenticated, need shares and an unsealed node.

    @abc.abstractmethod
    async def generate_root_status(self) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def generate_root_start(self, otp: str | None, pgp_key: str | None) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def generate_root_update(self, key: str | None, nonce: str | None) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def generate_root_cancel(self, nonce: str | None) -> None: ...

    @abc.abstractmethod
    # ``recovery``: the ``sys/rekey-recovery-key/*`` twin, which rekeys the recovery key of an auto seal.

    @abc.abstractmethod
    async def rekey_status(self, recovery: bool = False) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def rekey_start(
        self, secret_shares: int, secret_threshold: int, require_verification: bool = False, recovery: bool = False
    ) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def rekey_update(self, key: str | None, nonce: str | None, recovery: bool = False) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def rekey_cancel(self, nonce: str | None, recovery: bool = False) -> None: ...

    @abc.abstractmethod
    async def rekey_verify_status(self, recovery: bool = False) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def rekey_verify_update(
        self, key: str | None, nonce: str | None, recovery: bool = False
    ) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def rekey_verify_cancel(self, nonce: str | None, recovery: bool = False) -> dict[str, Any]: ...


def decode_share(text: str) -> bytes:
    """Unseal keys arrive hex- or base64-encoded, as in Vault."""
    text = text.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidRequest("'key' must be a valid hex or base64 string") from None


class LocalSealManager(SealManager):
    """The authoritative seal state of one node.

    ``on_key`` is called after a successful unseal (with the root key), after
    sealing and after a keyring rotation; the supervisor uses it to hand the key
    to (or take it from) every worker before the call returns.
    """

    def __init__(
        self,
        barrier: Barrier,
        *,
        mint_root_token: MintRootToken,
        on_key: KeyListener,
        random_bytes: RandomBytes,
        clock: Clock,
        storage_type: str,
        cluster_name: str = "strongroom",
        auto_seal: Seal | None = None,
        old_seal: Seal | None = None,
    ) -> None:
        self.barrier = barrier
        self.physical = barrier.physical
        self._mint_root_token = mint_root_token
        self._on_key = on_key
        self._random = random_bytes
        self._clock = clock
        self._storage_type = storage_type
        self._cluster_name = cluster_name
        self._shares: list[bytes] = []
        self._nonce = ""
        self._config: SealConfig | None = None
        self._auto = auto_seal
        self._old = old_seal
        self.ceremonies = KeyCeremonies(
            barrier,
            seal_config=self.seal_config,
            config_changed=self._set_config,
            mint_root_token=mint_root_token,
            decode_share=decode_share,
            random_bytes=random_bytes,
            auto_seal=auto_seal,
        )

    def _set_config(self, config: SealConfig) -> None:
        self._config = config

    async def seal_config(self) -> SealConfig | None:
        if self._config is None:
            raw = await self.physical.get(SEAL_CONFIG_KEY)
            if raw is not None:
                self._config = SealConfig.from_json(raw)
        return self._config

    async def status(self) -> dict[str, Any]:
        config = await self.seal_config()
        configured = self._auto.seal_type if self._auto else SHAMIR_SEAL_TYPE
        seal_type = config.type if config else configured
        recovery = seal_type != SHAMIR_SEAL_TYPE
        # Like Vault, an auto seal reports the recovery quorum as t/n.
        threshold = (config.recovery_threshold if recovery else config.secret_threshold) if config else 0
        shares = (config.recovery_shares if recovery else config.secret_shares) if config else 0
        migration = self._pending_or_none(config) if config is not None and self.barrier.sealed else None
        if migration is not None:
            # t/n of the keys the migration asks for: the old seal's (unseal or recovery keys).
            threshold, shares = migration.quorum(config)  # type: ignore[arg-type]
            recovery = migration.old is not None
        return {
            "type": seal_type,
            "initialized": config is not None,
            "sealed": self.barrier.sealed,
            "t": threshold,
            "n": shares,
            "progress": len(self._shares),
            "nonce": self._nonce,
            "version": API_VERSION,
            "build_date": "2026-11-22T00:00:00Z",
            "migration": migration is not None,
            "cluster_name": self._cluster_name if config else "",
            "cluster_id": await self._cluster_id() if config else "",
            "recovery_seal": recovery,
            "storage_type": self._storage_type,
        }

    async def _cluster_id(self) -> str:
        raw = await self.physical.get(CLUSTER_ID_KEY)
        return raw.decode() if raw else ""

    async def initialize(
        self, secret_shares: int, secret_threshold: int, recovery_shares: int = 0, recovery_threshold: int = 0
    ) -> dict[str, Any]:
        if self._auto is not None:
            return (await self.initialize_auto(recovery_shares, recovery_threshold)).to_json()
        if recovery_shares or recovery_threshold:
            name = "recovery_shares" if recovery_shares else "recovery_threshold"
            raise InvalidRequest(f"{name} applies only to auto-unseal, which is not configured")
        return (await self.initialize_with_token(secret_shares, secret_threshold, None)).to_json()

    async def initialize_auto(self, recovery_shares: int, recovery_threshold: int) -> InitResult:
        """Initialise under the auto seal: the seal protects the unseal key, operators get recovery shares.

        As in Vault, ``secret_shares``/``secret_threshold`` do not apply (the stored
        configuration says 1/1 with one stored share). Both encryptions by the seal
        happen before anything is written, so an unreachable HSM leaves the store
        uninitialised. The node is unsealed when this returns.
        """
        assert self._auto is not None
        if await self.seal_config() is not None:
            raise AlreadyInitialized()
        if not 1 <= recovery_threshold <= recovery_shares <= MAX_SHARES:
            raise InvalidRequest(
                "invalid recovery configuration: need 1 <= recovery_threshold <= recovery_shares <= 255"
            )
        if recovery_threshold == 1 and recovery_shares > 1:
            raise InvalidRequest(
                "invalid recovery configuration: threshold must be greater than one for multiple shares"
            )
        unseal_key = rootkey.generate_unseal_key(self._random)
        root_key = rootkey.generate_root_key(self._random)
        recovery_key = self._random(RECOVERY_KEY_SIZE)
        sealed_unseal_key = await self._auto.encrypt(unseal_key)
        sealed_recovery_key = await self._auto.encrypt(recovery_key)
        config = SealConfig(
            type=self._auto.seal_type, secret_shares=1, secret_threshold=1, stored_shares=1,
            recovery_shares=recovery_shares, recovery_threshold=recovery_threshold,
        )
        cluster_id = str(uuid.UUID(bytes=self._random(16), version=4)).encode()
        await self.barrier.initialize(
            root_key,
            also_write=[
                TxnOp(ROOT_KEY_KEY, rootkey.wrap_root_key(unseal_key, root_key, self._random)),
                TxnOp(SEALED_UNSEAL_KEY_KEY, sealed_unseal_key),
                TxnOp(RECOVERY_KEY_KEY, sealed_recovery_key),
                TxnOp(CLUSTER_ID_KEY, cluster_id),
                TxnOp(SEAL_CONFIG_KEY, config.to_json()),
            ],
        )
        self._config = config
        await self.barrier.unseal(root_key)
        root_token = await self._mint_root_token(self.barrier, None)
        await self._on_key(KeyEvent("unsealed", root_key))
        if recovery_shares == 1:
            shares = [recovery_key]
        else:
            shares = shamir.split(recovery_key, recovery_shares, recovery_threshold, self._random)
        return InitResult(keys=[], root_token=root_token, recovery_keys=shares)

    def _pending_migration(self, config: SealConfig) -> Migration | None:
        """The migration the configuration asks for; InvalidRequest for a store neither seal can open."""
        return plan(config, self._auto, self._old)

    def _pending_or_none(self, config: SealConfig) -> Migration | None:
        try:
            return self._pending_migration(config)
        except InvalidRequest:
            return None

    async def auto_unseal(self) -> str:
        """Unseal through the auto seal, if there is one and the store is initialised.

        Returns "" when the node is unsealed (or there is nothing to do, or the
        store is not initialised and the seal answered a probe) and otherwise the
        reason it stays sealed (or why init will fail), which is also logged. Never raises
        for an unavailable HSM or a damaged blob: the server stays up, sealed.
        """
        config = await self.seal_config()
        if self._auto is None or not self.barrier.sealed:
            return ""
        reason = ""
        try:
            if config is None:
                # Not initialised yet: one throwaway encryption proves now, at
                # startup, that the library, token, PIN and key all work.
                await self._auto.encrypt(b"startup probe")
                return ""
            migration = self._pending_migration(config)
            if migration is not None:
                log.warning(
                    "seal migration from %s to %s is pending: the node stays sealed until a quorum of the %s "
                    "keys is given to sys/unseal with migrate=true", migration.from_type, migration.to_type,
                    "unseal" if migration.old is None else "recovery",
                )
                return ""
            await self._unseal_through_seal()
        except (InvalidRequest, InternalError) as exc:
            reason = str(exc) or type(exc).__name__
        if reason:
            log.error("auto-unseal failed, the node stays sealed: %s", reason)
            return reason
        log.info("unsealed through the %s seal", self._auto.seal_type)
        return ""

    async def _unseal_through_seal(self) -> None:
        assert self._auto is not None
        root_key, _ = await root_key_through_seal(self.physical, self._auto)
        await self.barrier.unseal(root_key)
        await self._on_key(KeyEvent("unsealed", root_key))

    async def _check_recovery_key(self, shares: list[bytes], config: SealConfig) -> None:
        assert self._auto is not None
        await check_recovery_shares(
            self.physical, self._auto, shares, config,
            "unable to unseal: the recovery keys given do not reconstruct the key",
        )

    async def initialize_with_token(
        self, secret_shares: int, secret_threshold: int, root_token_id: str | None
    ) -> InitResult:
        if await self.seal_config() is not None:
            raise AlreadyInitialized()
        if not 1 <= secret_threshold <= secret_shares <= MAX_SHARES:
            raise InvalidRequest(
                "invalid seal configuration: need 1 <= secret_threshold <= secret_shares <= 255"
            )
        if secret_threshold == 1 and secret_shares > 1:
            raise InvalidRequest("invalid seal configuration: threshold must be greater than one for multiple shares")
        unseal_key = rootkey.generate_unseal_key(self._random)
        root_key = rootkey.generate_root_key(self._random)
        config = SealConfig(type="shamir", secret_shares=secret_shares, secret_threshold=secret_threshold)
        cluster_id = str(uuid.UUID(bytes=self._random(16), version=4)).encode()
        # Keyring, wrapped root key and seal config land in one transaction, so a
        # crash leaves either an uninitialised store or a complete one. (A crash
        # before the root token is minted leaves no root token; generate-root
        # recovers from that with a quorum of unseal keys.)
        await self.barrier.initialize(
            root_key,
            also_write=[
                TxnOp(ROOT_KEY_KEY, rootkey.wrap_root_key(unseal_key, root_key, self._random)),
                TxnOp(CLUSTER_ID_KEY, cluster_id),
                TxnOp(SEAL_CONFIG_KEY, config.to_json()),
            ],
        )
        self._config = config
        await self.barrier.unseal(root_key)
        try:
            root_token = await self._mint_root_token(self.barrier, root_token_id)
        finally:
            self.barrier.seal()
        if secret_shares == 1:
            keys = [unseal_key]
        else:
            keys = shamir.split(unseal_key, secret_shares, secret_threshold, self._random)
        return InitResult(keys=keys, root_token=root_token)

    async def unseal(self, key: str | None, reset: bool, migrate: bool = False) -> dict[str, Any]:
        config = await self.seal_config()
        if config is None:
            # Vault answers 400 here (its barrier's error), unlike sys/health's 501.
            raise InvalidRequest("Vault is not initialized")
        if reset:
            self._shares.clear()
            self._nonce = ""
            return await self.status()
        if key is None or key == "":
            raise InvalidRequest("'key' must be specified in request body as JSON, or 'reset' set to true")
        if not self.barrier.sealed:
            return await self.status()
        migration = self._pending_migration(config)
        if migration is not None and not migrate:
            raise InvalidRequest("migrate option not provided and seal migration is pending")
        if migration is None and migrate:
            raise InvalidRequest("migrate option provided but no seal migration is pending")
        share = decode_share(key)
        if any(secrets.compare_digest(share, have) for have in self._shares):
            raise InvalidRequest("given key has already been provided during this generation operation")
        self._shares.append(share)
        if not self._nonce:
            self._nonce = str(uuid.UUID(bytes=self._random(16)))
        recovery = self._auto is not None
        if migration is not None:
            required, _ = migration.quorum(config)
        else:
            required = config.recovery_threshold if recovery else config.secret_threshold
        if len(self._shares) < required:
            return await self.status()
        shares, self._shares, self._nonce = self._shares, [], ""
        if migration is not None:
            await self._migrate(migration, config, shares)
        elif recovery:
            # Vault's behaviour under auto-unseal: a quorum of recovery keys
            # authorises the unseal, and the seal itself decrypts the key.
            await self._check_recovery_key(shares, config)
            await self._unseal_through_seal()
        else:
            await self._unseal_with(shares, config)
        return await self.status()

    async def _migrate(self, migration: Migration, config: SealConfig, shares: list[bytes]) -> None:
        done = await migrate(self.physical, migration, config, shares, self._random)
        self._config = done.config
        await self.barrier.unseal(done.root_key)
        await self._on_key(KeyEvent("unsealed", done.root_key))

    async def _unseal_with(self, shares: list[bytes], config: SealConfig) -> None:
        try:
            unseal_key = shares[0] if config.secret_shares == 1 else shamir.combine(shares)
            blob = await self.physical.get(ROOT_KEY_KEY)
            root_key = rootkey.unwrap_root_key(unseal_key, blob) if blob is not None else None
        except (DecryptionFailed, InvalidRequest, ValueError):
            root_key = None
        if root_key is None:
            raise InvalidRequest("unable to unseal: the unseal keys given do not reconstruct the key")
        await self.barrier.unseal(root_key)
        await self._on_key(KeyEvent("unsealed", root_key))

    async def unseal_with_keys(self, keys: list[bytes]) -> None:
        """Dev mode and tests: unseal in one call with enough shares."""
        config = await self.seal_config()
        if config is None:
            raise NotInitialized()
        await self._unseal_with(keys, config)

    async def seal(self) -> None:
        self._shares.clear()
        self._nonce = ""
        self.ceremonies.forget()
        self.barrier.seal()
        await self._on_key(KeyEvent("sealed"))

    async def rotate(self) -> dict[str, Any]:
        term = await self.barrier.rotate()
        status = self.barrier.key_status()
        await self._on_key(KeyEvent("keyring"))
        return {"term": term, "install_time": status.install_time}

    async def generate_root_status(self) -> dict[str, Any]:
        return await self.ceremonies.generate_root_status()

    async def generate_root_start(self, otp: str | None, pgp_key: str | None) -> dict[str, Any]:
        return await self.ceremonies.generate_root_start(otp, pgp_key)

    async def generate_root_update(self, key: str | None, nonce: str | None) -> dict[str, Any]:
        return await self.ceremonies.generate_root_update(key, nonce)

    async def generate_root_cancel(self, nonce: str | None) -> None:
        await self.ceremonies.generate_root_cancel(nonce)

    async def rekey_status(self, recovery: bool = False) -> dict[str, Any]:
        return await self.ceremonies.rekey_status(recovery)

    async def rekey_start(
        self, secret_shares: int, secret_threshold: int, require_verification: bool = False, recovery: bool = False
    ) -> dict[str, Any]:
        return await self.ceremonies.rekey_start(secret_shares, secret_threshold, require_verification, recovery)

    async def rekey_update(self, key: str | None, nonce: str | None, recovery: bool = False) -> dict[str, Any]:
        return await self.ceremonies.rekey_update(key, nonce, recovery)

    async def rekey_cancel(self, nonce: str | None, recovery: bool = False) -> None:
        await self.ceremonies.rekey_cancel(nonce, recovery)

    async def rekey_verify_status(self, recovery: bool = False) -> dict[str, Any]:
        return await self.ceremonies.rekey_verify_status(recovery)

    async def rekey_verify_update(
        self, key: str | None, nonce: str | None, recovery: bool = False
    ) -> dict[str, Any]:
        return await self.ceremonies.rekey_verify_update(key, nonce, recovery)

    async def rekey_verify_cancel(self, nonce: str | None, recovery: bool = False) -> dict[str, Any]:
        return await self.ceremonies.rekey_verify_cancel(nonce, recovery)
