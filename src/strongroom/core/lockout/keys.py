"""Lockout keys: one failure counter per (auth mount, principal), whatever the principal's spelling.

The backend names the principal already normalised as its own lookup
normalises it (``LogicalBackend.login_principal``). The core folds it once more
here, as defence in depth against a backend that forgets a variant (CVE-2025-6004
reset the counter by changing a username's case): NFKC (fullwidth and other
compatibility forms become plain letters), invisible format characters removed
(zero-width space and joiner, BOM, soft hyphen), surrounding whitespace trimmed,
case folded. Folding can only merge counters of names the backend keeps apart,
which locks a little earlier and never later.

Counters are stored under a keyed hash of (mount accessor, folded principal):
physical storage sees keys in the clear, and a username or role_id is not
something to leave there.
"""

from __future__ import annotations

import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

#: Principals longer than this (after folding) are not tracked: no backend could hold them.
MAX_PRINCIPAL_CHARS = 4096


def fold_principal(principal: str) -> str:
    """The one spelling a principal's failure counter is kept under (see the module docstring)."""
    text = unicodedata.normalize("NFKC", principal)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.strip().casefold()


class CounterKeys:
    """Storage names of failure counters: HMAC-SHA256 under a salt that never leaves this object."""

    __slots__ = ("_salt",)

    def __init__(self, salt: bytes) -> None:
        if len(salt) < 16:
            raise ValueError("lockout salt is too short")
        self._salt = salt

    def __repr__(self) -> str:
        return "CounterKeys(<salt hidden>)"

    def name(self, accessor: str, folded_principal: str) -> str:
        mac = crypto_hmac.HMAC(self._salt, hashes.SHA256())
        mac.update(accessor.encode() + b"\x00" + folded_principal.encode("utf-8", "surrogatepass"))
        return mac.finalize().hex()
