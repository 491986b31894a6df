"""The barrier: the storage contract on top of an untrusted physical backend, with everything encrypted.

Entry envelope (every value written through the barrier)::

    version (1 byte, 0x01) || term (4 bytes, big-endian) || nonce (12) || ciphertext || tag (16)

sealed with AES-256-GCM under the key of ``term``, with associated data
``version || term || path`` (path UTF-8 encoded). Binding the path means an
entry copied or moved to another path fails to decrypt; binding the header
means its version and term cannot be swapped. Every failure to open an entry
(short, flipped, truncated, moved, unknown term, rolled-back keyring) raises
the one opaque :class:`strongroom.errors.DecryptionFailed`, never garbage.

The keyring lives at :data:`KEYRING_PATH` in the same envelope with term 0,
sealed under the root key. The root key itself and the seal configuration are
kept by the core at ``core/root-key`` and ``core/seal-config`` directly in
:attr:`Barrier.physical`. Those three paths (and anything below them) are
reserved: the barrier's get/put/delete/transaction refuse them with
InvalidRequest and ``list`` hides them, so no logical write can clobber the
key material.

Concurrency: keyring changes (unseal, rotate, reload, rekey) are serialised
inside one process. Across processes, only one (the rotation-lock holder)
may rotate or rekey at a time; others pick up a new term automatically the
first time they read an entry written under it. A term is always persisted
before it is used, so that pickup cannot miss. :meth:`seal` wins every race:
an unseal that was in flight when the barrier was sealed raises Sealed, and
a rotation or rekey in flight persists but leaves the barrier sealed.

Sealing drops every reference to key material. CPython cannot promise the
bytes are wiped from memory; it can promise this object no longer reaches them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from strongroom.crypto.aead import AeadKey
from strongroom.crypto.keyring import Keyring
from strongroom.crypto.rootkey import ROOT_KEY_PATH
from strongroom.errors import AlreadyInitialized, DecryptionFailed, InvalidRequest, NotInitialized, Sealed
from strongroom.sdk.seal import RECOVERY_KEY_PATH, SEAL_CONFIG_PATH, SEALED_UNSEAL_KEY_PATH
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

log = logging.getLogger("strongroom.barrier")

KEYRING_PATH = "core/keyring"
RESERVED_PATHS = (KEYRING_PATH, ROOT_KEY_PATH, SEAL_CONFIG_PATH, SEALED_UNSEAL_KEY_PATH, RECOVERY_KEY_PATH)
_RESERVED_SET = frozenset(RESERVED_PATHS)
#: Every key below a reserved path; one ``startswith`` call with a tuple checks them all.
_RESERVED_FOLDERS = tuple(reserved + "/" for reserved in RESERVED_PATHS)
ENTRY_VERSION = 1
_HEADER = struct.Struct(">BI")
_KEYRING_TERM = 0  # real terms start at 1, so the keyring's envelope can never pass for an entry


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """The active term, when it was installed, and how many entries this barrier sealed under it."""

    term: int
    install_time: float
    encryptions: int


@dataclass(frozen=True, slots=True)
class _Keys:
    """Everything an unsealed barrier holds, swapped in one assignment."""

    root: AeadKey
    keyring: Keyring
    ciphers: dict[int, AeadKey]


class Barrier(StorageBackend):
    """Encrypting storage over ``physical``. Starts sealed; see the module docstring for the contract.

    ``random_bytes`` supplies nonces and new keys; ``clock`` stamps install
    times. The barrier does not open or close ``physical``: its owner does.
    """

    def __init__(
        self,
        physical: StorageBackend,
        random_bytes: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.physical = physical
        self._random_bytes = random_bytes
        self._clock = clock
        self._keys: _Keys | None = None
        self._encryptions = 0
        # Bumped by seal(): a keyring change that started before it must not install keys after it.
        self._generation = 0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "sealed" if self._keys is None else f"unsealed, term {self._keys.keyring.active_term}"
        return f"Barrier({state})"

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def sealed(self) -> bool:
        return self._keys is None

    async def is_initialized(self) -> bool:
        """True once a keyring exists in storage. Works while sealed."""
        return await self.physical.get(KEYRING_PATH) is not None

    async def initialize(self, root_key: bytes, *, also_write: Sequence[TxnOp] = ()) -> None:
        """Create keyring term 1 and store it sealed under ``root_key``; the barrier stays sealed.

        ``also_write`` holds physical (outside-the-barrier) writes to apply in the
        same transaction, such as the wrapped root key and the seal configuration,
        so a crash cannot leave a keyring nobody can open. AlreadyInitialized if a
        keyring exists; ValueError if ``root_key`` is not 32 bytes.
        """
        root = AeadKey(root_key)
        if await self.is_initialized():
            raise AlreadyInitialized()
        keyring = Keyring.create(self._random_bytes, self._clock())
        await self.physical.transaction([TxnOp(KEYRING_PATH, self._seal_keyring(root, keyring)), *also_write])

    async def unseal(self, root_key: bytes) -> None:
        """Load the keyring with ``root_key``.

        DecryptionFailed for a wrong key, NotInitialized if no keyring exists.
        Unsealing an unsealed barrier reloads its keyring. A failed attempt
        leaves the state unchanged.
        """
        root = AeadKey(root_key)
        async with self._lock:
            generation = self._generation
            blob = await self.physical.get(KEYRING_PATH)
            if blob is None:
                raise NotInitialized()
            keyring = self._open_keyring(root, blob)
            if generation != self._generation:
                raise Sealed()
            self._install(root, keyring)

    def seal(self) -> None:
        """Drop all key material. Every later operation raises Sealed until the next unseal."""
        self._generation += 1
        self._keys = None
        self._encryptions = 0

    def key_status(self) -> KeyStatus:
        """The active term and its use count: seals made by this barrier since the term became active here."""
        keys = self._require_keys()
        active = keys.keyring.active
        return KeyStatus(term=active.number, install_time=active.install_time, encryptions=self._encryptions)

    async def rotate(self) -> int:
        """Add a keyring term online and return its number. Older terms keep decrypting their entries.

        Builds on the keyring in storage (so a rotation made by another process is
        not lost) and persists the new term before any entry is sealed under it.
        """
        async with self._lock:
            keys = self._require_keys()
            generation = self._generation
            latest = await self._load_stored_keyring(keys)
            rotated = latest.rotate(self._random_bytes, self._clock())
            await self.physical.put(KEYRING_PATH, self._seal_keyring(keys.root, rotated))
            if generation == self._generation:
                self._install(keys.root, rotated)
            return rotated.active_term

    async def reload_keyring(self) -> None:
        """Re-read the keyring from storage, e.g. after another process rotated.

        DecryptionFailed if the stored keyring is missing, damaged, sealed under
        another root key, or lacks a term this barrier already knows (a rollback).
        """
        async with self._lock:
            keys = self._require_keys()
            generation = self._generation
            latest = await self._load_stored_keyring(keys)
            if generation != self._generation:
                raise Sealed()
            self._install(keys.root, latest)

    async def rekey_root(self, new_root_key: bytes, *, also_write: Sequence[TxnOp] = ()) -> None:
        """Re-seal the keyring under ``new_root_key``.

        ``also_write`` (e.g. the root key wrapped anew) commits in the same
        transaction. Other processes holding the old root key must be unsealed
        again with the new one.
        """
        new_root = AeadKey(new_root_key)
        async with self._lock:
            keys = self._require_keys()
            generation = self._generation
            latest = await self._load_stored_keyring(keys)
            await self.physical.transaction(
                [TxnOp(KEYRING_PATH, self._seal_keyring(new_root, latest)), *also_write]
            )
            if generation == self._generation:
                self._install(new_root, latest)

    # --- the storage contract --------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        self._require_keys()
        path = _logical_path(key)
        blob = await self.physical.get(key)
        self._require_keys()  # a seal() during the read must not let plaintext out
        if blob is None:
            return None
        return await self._open_entry(path, blob)

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        """The plaintext and the physical store's version token for ``key``.

        The token passes through untouched: preconditions keep their physical
        meaning (for a verbatim store, the exact ciphertext read). Every write
        seals with a fresh nonce, so any write since the read, even of the same
        plaintext, makes a precondition on this token fail.
        """
        self._require_keys()
        path = _logical_path(key)
        blob, version = await self.physical.get_with_version(key)
        self._require_keys()
        if blob is None:
            return None, version
        return await self._open_entry(path, blob), version

    async def put(self, key: str, value: bytes) -> None:
        self._require_keys()
        await self.physical.put(key, self._seal_entry(_logical_path(key), value))

    async def delete(self, key: str) -> None:
        self._require_keys()
        _logical_path(key)
        await self.physical.delete(key)

    def revision(self) -> int | None:
        return self.physical.revision()

    async def list(self, prefix: str) -> list[str]:
        """Children of ``prefix`` as the logical store has them: reserved entries do not exist here."""
        self._require_keys()
        children = await self.physical.list(prefix)
        self._require_keys()
        visible: list[str] = []
        for child in children:
            path = prefix + child
            if _is_reserved(path.rstrip("/")):
                continue
            if child.endswith("/") and _holds_reserved(path) and not await self.list(path):
                continue  # a folder (such as core/) that holds nothing but reserved entries
            visible.append(child)
        return visible

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        """Seal and apply ``ops``; ``preconditions`` carry tokens from :meth:`get_with_version` as they are."""
        self._require_keys()
        paths = [_logical_path(op.key) for op in ops]  # refuse a reserved key before sealing anything
        for precondition in preconditions:
            _logical_path(precondition.key)
        sealed_ops = [
            TxnOp(op.key, None if op.value is None else self._seal_entry(path, op.value))
            for op, path in zip(ops, paths, strict=True)
        ]
        await self.physical.transaction(sealed_ops, preconditions)

    # --- internals -------------------------------------------------------------------------------

    def _require_keys(self) -> _Keys:
        keys = self._keys
        if keys is None:
            raise Sealed()
        return keys

    def _install(self, root: AeadKey, keyring: Keyring) -> None:
        previous = self._keys
        if previous is None or previous.keyring.active_term != keyring.active_term:
            self._encryptions = 0
        ciphers = {term.number: AeadKey(term.key) for term in keyring.terms}
        self._keys = _Keys(root=root, keyring=keyring, ciphers=ciphers)

    def _seal_entry(self, path: bytes, value: bytes) -> bytes:
        keys = self._require_keys()
        term = keys.keyring.active_term
        header = _HEADER.pack(ENTRY_VERSION, term)
        body = keys.ciphers[term].seal(value, aad=header + path, random_bytes=self._random_bytes)
        self._encryptions += 1
        return header + body

    async def _open_entry(self, path: bytes, blob: bytes) -> bytes:
        try:
            return await self._decrypt(path, blob)
        except DecryptionFailed:
            # Storage is untrusted: a failure here means tampering, corruption or a
            # lost term. The operator needs to know where; the path is not secret.
            log.error(  # noqa: TRY400 - the cause is the message; a traceback adds nothing
                "barrier: entry at %r failed to decrypt (tampered, corrupted or unknown key term)",
                path.decode("utf-8", "replace"),
            )
            raise

    async def _decrypt(self, path: bytes, blob: bytes) -> bytes:
        term, header = _parse_header(blob)
        keys = self._require_keys()
        cipher = keys.ciphers.get(term)
        if cipher is None and term > keys.keyring.active_term:
            # Another process may have rotated since we loaded the keyring.
            await self.reload_keyring()
            cipher = self._require_keys().ciphers.get(term)
        if cipher is None:
            raise DecryptionFailed()
        return cipher.open(blob[_HEADER.size :], aad=header + path)

    async def _load_stored_keyring(self, keys: _Keys) -> Keyring:
        blob = await self.physical.get(KEYRING_PATH)
        if blob is None:
            raise DecryptionFailed()
        stored = self._open_keyring(keys.root, blob)
        if not stored.includes(keys.keyring):
            raise DecryptionFailed()
        return stored

    def _seal_keyring(self, root: AeadKey, keyring: Keyring) -> bytes:
        header = _HEADER.pack(ENTRY_VERSION, _KEYRING_TERM)
        aad = header + KEYRING_PATH.encode("ascii")
        return header + root.seal(keyring.to_bytes(), aad=aad, random_bytes=self._random_bytes)

    @staticmethod
    def _open_keyring(root: AeadKey, blob: bytes) -> Keyring:
        term, header = _parse_header(blob)
        if term != _KEYRING_TERM:
            raise DecryptionFailed()
        plaintext = root.open(blob[_HEADER.size :], aad=header + KEYRING_PATH.encode("ascii"))
        return Keyring.from_bytes(plaintext)


def _parse_header(blob: bytes) -> tuple[int, bytes]:
    """(term, header bytes) of an envelope, or DecryptionFailed for a short blob or an unknown version."""
    if len(blob) < _HEADER.size:
        raise DecryptionFailed()
    header = bytes(blob[: _HEADER.size])
    version, term = _HEADER.unpack(header)
    if version != ENTRY_VERSION:
        raise DecryptionFailed()
    return term, header


def _is_reserved(path: str) -> bool:
    # Runs on every storage call: a set lookup and one tuple ``startswith``, no generator.
    return path in _RESERVED_SET or path.startswith(_RESERVED_FOLDERS)


def _holds_reserved(folder: str) -> bool:
    return any(reserved.startswith(folder) for reserved in RESERVED_PATHS)


def _logical_path(key: str) -> bytes:
    """The associated-data form of ``key``; InvalidRequest for a reserved or unencodable key."""
    if _is_reserved(key):
        raise InvalidRequest("path is reserved for the barrier")
    try:
        return key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest("invalid storage path") from None
