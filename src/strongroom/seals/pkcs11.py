"""The ``pkcs11`` seal: an AES key inside an HSM (SoftHSM2 in tests) wraps the unseal key.

Blob format (stored in untrusted storage, so versioned and authenticated)::

    b"SRP" | version (1 byte, 1) | mechanism (1 byte, 1 = CKM_AES_GCM) | nonce (12 bytes) | ciphertext+tag

The AES-GCM associated data is the 5-byte header plus the key label, so a blob
cannot be replayed under another key label or reinterpreted with another format
version. The nonce is drawn from the injected randomness on the host (96 bits,
one encryption per init or rekey, so collisions are not a concern).

CKM_AES_GCM is the only mechanism: SoftHSM2 2.6 supports it through
python-pkcs11, and it authenticates the blob, unlike CKM_AES_KEY_WRAP_PAD whose
integrity check is only a 64-bit ICV. A configured ``mechanism`` other than
``CKM_AES_GCM`` (or its numeric value ``0x1087``) is refused.

Failure modes: a library that does not load, a slot or token label that does
not exist, a wrong PIN or a missing key raise :class:`SealUnavailable` with a
reason that names the problem but never the PIN. A blob that does not decrypt
raises :class:`strongroom.errors.DecryptionFailed` with one opaque message.
The PKCS#11 calls block, so they run in a thread, one at a time (a PKCS#11
session is not safe for concurrent use); after an HSM failure the session is
dropped, and the next call re-initialises the library and opens a new one, so
an HSM that comes back is used again without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pkcs11
from pkcs11 import KeyType, Mechanism
from pkcs11.exceptions import PKCS11Error
from pkcs11.mechanisms import GCMParams

from strongroom.errors import DecryptionFailed, InternalError
from strongroom.sdk.seal import Seal
from strongroom.sdk.system import RandomBytes

SEAL_TYPE = "pkcs11"
MAGIC = b"SRP"
VERSION = 1
MECH_AES_GCM = 1
NONCE_SIZE = 12
TAG_BITS = 128
HEADER = MAGIC + bytes([VERSION, MECH_AES_GCM])
_GCM_NAMES = {"ckm_aes_gcm", "aes_gcm", "0x1087", "0x00001087", str(int(Mechanism.AES_GCM))}


class SealUnavailable(InternalError):
    """The HSM cannot be used right now (missing library, token, key, or wrong PIN)."""


@dataclass(frozen=True)
class Pkcs11Options:
    """The ``seal "pkcs11"`` block. ``pin`` is hidden from ``repr``."""

    lib: str
    key_label: str
    pin: str = field(repr=False)
    slot: int | None = None
    token_label: str | None = None

    @staticmethod
    def from_block(options: Mapping[str, str]) -> Pkcs11Options:
        """Validate a raw config block; raise ValueError naming the first problem (never the PIN)."""
        known = {"lib", "slot", "token_label", "pin", "key_label", "mechanism"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"seal \"pkcs11\": unknown option(s) {', '.join(unknown)}")
        for required in ("lib", "pin", "key_label"):
            if not options.get(required):
                raise ValueError(f"seal \"pkcs11\": {required} is required")
        slot_text, label = options.get("slot"), options.get("token_label")
        if bool(slot_text) == bool(label):
            raise ValueError("seal \"pkcs11\": give exactly one of slot and token_label")
        slot: int | None = None
        if slot_text:
            try:
                slot = int(slot_text, 0)
            except ValueError:
                raise ValueError("seal \"pkcs11\": slot must be an integer") from None
        mechanism = options.get("mechanism", "CKM_AES_GCM").strip().lower()
        if mechanism not in _GCM_NAMES:
            raise ValueError("seal \"pkcs11\": mechanism must be CKM_AES_GCM (0x1087)")
        return Pkcs11Options(
            lib=options["lib"], key_label=options["key_label"], pin=options["pin"],
            slot=slot, token_label=label or None,
        )


class Pkcs11Seal(Seal):
    """A :class:`strongroom.sdk.seal.Seal` backed by one AES key in a PKCS#11 token."""

    seal_type = SEAL_TYPE
    recovery_keys = True

    def __init__(self, options: Pkcs11Options, random_bytes: RandomBytes) -> None:
        self._options = options
        self._random = random_bytes
        self._lock = threading.Lock()
        self._session: Any = None
        self._key: Any = None
        # After a failure the library's view of slots and tokens can be stale (SoftHSM2
        # keeps failing even once the token is back): re-initialise it before the next try.
        self._stale = False
        self.last_error = ""

    def __repr__(self) -> str:
        return f"Pkcs11Seal(key_label={self._options.key_label!r})"

    # -- session handling (runs in a worker thread, under self._lock) -------------------

    def _open(self) -> Any:
        if self._key is not None:
            return self._key
        opts = self._options
        try:
            lib = pkcs11.lib(opts.lib)
        except PKCS11Error as exc:
            # Also raised when the module loads but C_Initialize fails (SoftHSM2 without its token directory).
            raise SealUnavailable(
                f"pkcs11 seal: cannot load or initialise the PKCS#11 library {opts.lib!r} ({type(exc).__name__})"
            ) from None
        if self._stale:
            with contextlib.suppress(PKCS11Error):
                lib.reinitialize()
        self._stale = True  # until a session and key are found below
        try:
            if opts.slot is not None:
                slots = [s for s in lib.get_slots(token_present=True) if s.slot_id == opts.slot]
                if not slots:
                    raise SealUnavailable(f"pkcs11 seal: no token in slot {opts.slot}")
                token = slots[0].get_token()
            else:
                token = lib.get_token(token_label=opts.token_label)
        except pkcs11.exceptions.NoSuchToken:
            raise SealUnavailable(f"pkcs11 seal: no token labelled {opts.token_label!r}") from None
        except pkcs11.exceptions.MultipleTokensReturned:
            raise SealUnavailable(f"pkcs11 seal: several tokens are labelled {opts.token_label!r}") from None
        except PKCS11Error as exc:
            raise SealUnavailable(f"pkcs11 seal: cannot list tokens ({type(exc).__name__})") from None
        try:
            session = self._login(token)
        except (pkcs11.exceptions.PinIncorrect, pkcs11.exceptions.PinInvalid, pkcs11.exceptions.PinLenRange):
            raise SealUnavailable("pkcs11 seal: login failed: the PIN is incorrect") from None
        except pkcs11.exceptions.PinLocked:
            raise SealUnavailable("pkcs11 seal: login failed: the PIN is locked") from None
        except PKCS11Error as exc:
            raise SealUnavailable(f"pkcs11 seal: cannot open a session ({type(exc).__name__})") from None
        try:
            key = session.get_key(label=opts.key_label, key_type=KeyType.AES)
        except pkcs11.exceptions.NoSuchKey:
            session.close()
            raise SealUnavailable(f"pkcs11 seal: no AES key labelled {opts.key_label!r}") from None
        except pkcs11.exceptions.MultipleObjectsReturned:
            session.close()
            raise SealUnavailable(f"pkcs11 seal: several AES keys are labelled {opts.key_label!r}") from None
        except PKCS11Error as exc:
            session.close()
            raise SealUnavailable(f"pkcs11 seal: cannot find the key ({type(exc).__name__})") from None
        self._session, self._key, self._stale = session, key, False
        return key

    def _login(self, token: Any) -> Any:
        try:
            return token.open(user_pin=self._options.pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            # PKCS#11 login state belongs to the process, not the session: another
            # session of ours is logged in already, and a new one shares that login.
            return token.open()

    def _drop(self) -> None:
        session, self._session, self._key = self._session, None, None
        self._stale = True
        if session is not None:
            # A device that is already gone has nothing more to release.
            with contextlib.suppress(PKCS11Error):
                session.close()

    def _run(self, action: str, data: bytes, nonce: bytes, aad: bytes) -> bytes:
        with self._lock:
            try:
                key = self._open()
            except SealUnavailable as exc:
                self.last_error = str(exc)
                raise
            params = GCMParams(nonce, aad, TAG_BITS)
            try:
                if action == "encrypt":
                    result: bytes = key.encrypt(data, mechanism=Mechanism.AES_GCM, mechanism_param=params)
                else:
                    result = key.decrypt(data, mechanism=Mechanism.AES_GCM, mechanism_param=params)
            except (pkcs11.exceptions.EncryptedDataInvalid, pkcs11.exceptions.EncryptedDataLenRange,
                    pkcs11.exceptions.GeneralError, pkcs11.exceptions.FunctionFailed) as exc:
                if action == "decrypt":
                    self.last_error = ""
                    raise DecryptionFailed() from None
                self._drop()
                self.last_error = f"pkcs11 seal: the HSM failed ({type(exc).__name__})"
                raise SealUnavailable(self.last_error) from None
            except PKCS11Error as exc:
                # A closed session or removed device: reopen on the next call.
                self._drop()
                self.last_error = f"pkcs11 seal: the HSM failed ({type(exc).__name__})"
                raise SealUnavailable(self.last_error) from None
            self.last_error = ""
            return result

    def _aad(self) -> bytes:
        return HEADER + self._options.key_label.encode("utf-8")

    # -- the Seal contract -----------------------------------------------------------------

    async def encrypt(self, plaintext: bytes) -> bytes:
        nonce = self._random(NONCE_SIZE)
        sealed = await asyncio.to_thread(self._run, "encrypt", plaintext, nonce, self._aad())
        return HEADER + nonce + sealed

    async def decrypt(self, blob: bytes) -> bytes:
        header_len = len(HEADER)
        if len(blob) < header_len + NONCE_SIZE + TAG_BITS // 8 or blob[:header_len] != HEADER:
            raise DecryptionFailed()
        nonce = blob[header_len:header_len + NONCE_SIZE]
        return await asyncio.to_thread(self._run, "decrypt", blob[header_len + NONCE_SIZE:], nonce, self._aad())

    async def status(self) -> dict[str, object]:
        return {"type": SEAL_TYPE, "key_label": self._options.key_label, "last_error": self.last_error}

    def close(self) -> None:
        with self._lock:
            self._drop()


#: Where the PIN may come from instead of the config file, as in Vault (first one set wins).
PIN_ENVIRONMENT = ("STRONGROOM_HSM_PIN", "VAULT_HSM_PIN")


def build(options: Mapping[str, str], random_bytes: RandomBytes,
          environ: Mapping[str, str] | None = None) -> Pkcs11Seal:
    """The composition root's entry point: validate the block and build the (not yet opened) seal.

    A block without ``pin`` takes it from ``STRONGROOM_HSM_PIN`` or ``VAULT_HSM_PIN`` in
    ``environ`` (the process environment by default), so the PIN need not sit in the file.
    """
    env = os.environ if environ is None else environ
    if not options.get("pin"):
        from_env = next((env[name] for name in PIN_ENVIRONMENT if env.get(name)), "")
        if from_env:
            options = {**options, "pin": from_env}
    return Pkcs11Seal(Pkcs11Options.from_block(options), random_bytes)
