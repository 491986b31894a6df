"""Role names, generated ids, and the salted hashes AppRole credentials are stored under.

Role IDs, secret IDs and secret-ID accessors are never used as storage keys in
the clear (physical storage sees keys unencrypted): each is stored under
HMAC-SHA256 with a per-mount salt and a label per kind, so one can never be
confused with another. Secret IDs are not stored at all, only their HMAC (like
tokens). Comparisons of presented values with stored ones are constant-time.
"""

from __future__ import annotations

import hmac as std_hmac
import re
import unicodedata
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import RandomBytes

SALT_KEY = "salt"
SALT_BYTES = 32
#: Longest role name, role ID or secret ID accepted (Vault: names under 4096 bytes).
MAX_ID_CHARS = 4095
_ROLE_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.\-]*[a-z0-9_])?")

ROLE_ID = b"role_id"
SECRET_ID = b"secret_id"
ACCESSOR = b"accessor"


def canonical_role_name(raw: str) -> str | None:
    """Vault's AppRole role names are case-insensitive: NFKC, trimmed, lower-cased, then a Vault-style name.

    None when no role can have that name. Never raises.
    """
    if len(raw) > MAX_ID_CHARS:
        return None
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip().lower()
    if len(text) > MAX_ID_CHARS or not _ROLE_NAME.fullmatch(text):
        return None
    return text


def new_uuid(random_bytes: RandomBytes) -> str:
    """A random (version 4) UUID, Vault's format for role IDs, secret IDs and accessors."""
    return str(uuid.UUID(bytes=random_bytes(16), version=4))


def usable_id(value: object) -> str | None:
    """``value`` when it can be a role ID or secret ID at all (a non-empty string of sane length), else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        return None
    return value


class Hasher:
    """Keyed hashes of AppRole credentials. The salt never leaves this object."""

    __slots__ = ("_salt",)

    def __init__(self, salt: bytes) -> None:
        if len(salt) < 16:
            raise ValueError("approle salt is too short")
        self._salt = salt

    def __repr__(self) -> str:
        return "Hasher(<salt hidden>)"

    def mac(self, label: bytes, value: str) -> str:
        mac = crypto_hmac.HMAC(self._salt, hashes.SHA256())
        mac.update(label + b"\x00" + value.encode("utf-8", "surrogatepass"))
        return mac.finalize().hex()


def same(a: str, b: str) -> bool:
    """Constant-time equality of two stored or presented credentials (or their hashes)."""
    return std_hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


async def load_hasher(storage: StorageBackend, random_bytes: RandomBytes) -> Hasher:
    """The mount's hasher; the first process to need it creates the salt (others read the winner's)."""

    async def attempt() -> bytes:
        salt = await storage.get(SALT_KEY)
        if salt is not None:
            return salt
        fresh = random_bytes(SALT_BYTES)
        await storage.transaction([TxnOp(SALT_KEY, fresh)], [Precondition(SALT_KEY, None)])
        return fresh

    return Hasher(await retry_on_conflict(attempt, random_bytes=random_bytes))
