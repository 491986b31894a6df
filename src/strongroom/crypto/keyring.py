"""The keyring: every data-encryption key the barrier has ever used, one per term.

Terms are numbered from 1; the highest term is the active one and encrypts
every new entry, while older terms stay to decrypt entries written before a
rotation (rotation is online: nothing is re-encrypted).

A :class:`Keyring` is immutable: :meth:`Keyring.rotate` returns a new keyring.
That lets the barrier swap keyrings in one assignment while readers still hold
the old one, and makes "persist first, then switch" easy to get right.

Serialised form (``to_bytes``), always stored encrypted under the root key::

    {"version": 1, "terms": [{"term": 1, "key": "<base64, 32 bytes>", "install_time": 1.8e9}, ...]}

Neither ``repr`` nor any error message shows a key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
from collections.abc import Iterable

from strongroom.crypto.aead import KEY_SIZE, random_key
from strongroom.errors import InternalError
from strongroom.sdk.system import RandomBytes

FORMAT_VERSION = 1
# Terms travel as a 4-byte big-endian field in every entry header.
MAX_TERM = 2**32 - 1


class Term:
    """One keyring term: its number, its 32-byte AES key and when it was installed (epoch seconds)."""

    __slots__ = ("install_time", "key", "number")

    def __init__(self, number: int, key: bytes, install_time: float) -> None:
        if not 1 <= number <= MAX_TERM:
            raise ValueError("keyring term out of range")
        if len(key) != KEY_SIZE:
            raise ValueError("keyring keys are 32 bytes")
        self.number = number
        self.key = bytes(key)
        self.install_time = float(install_time)

    def __repr__(self) -> str:
        return f"Term(number={self.number}, install_time={self.install_time}, key=<hidden>)"


class Keyring:
    """An immutable, non-empty set of terms; the highest-numbered term is active."""

    __slots__ = ("_terms",)

    def __init__(self, terms: Iterable[Term]) -> None:
        by_number: dict[int, Term] = {}
        for term in terms:
            if term.number in by_number:
                raise ValueError("duplicate keyring term")
            by_number[term.number] = term
        if not by_number:
            raise ValueError("a keyring needs at least one term")
        self._terms = dict(sorted(by_number.items()))

    @classmethod
    def create(cls, random_bytes: RandomBytes, now: float) -> Keyring:
        """A fresh keyring holding term 1 with a new random key."""
        return cls([Term(1, random_key(random_bytes), now)])

    @property
    def active_term(self) -> int:
        return next(reversed(self._terms))

    @property
    def active(self) -> Term:
        return self._terms[self.active_term]

    @property
    def terms(self) -> tuple[Term, ...]:
        """All terms, oldest first."""
        return tuple(self._terms.values())

    def term(self, number: int) -> Term | None:
        return self._terms.get(number)

    def rotate(self, random_bytes: RandomBytes, now: float) -> Keyring:
        """A new keyring with one more term (active term + 1, new random key); ``self`` is unchanged."""
        number = self.active_term + 1
        if number > MAX_TERM:
            raise InternalError("keyring has no terms left")
        return Keyring([*self._terms.values(), Term(number, random_key(random_bytes), now)])

    def includes(self, other: Keyring) -> bool:
        """True when every term of ``other`` is here with the same key (keys compared in constant time)."""
        for term in other.terms:
            mine = self._terms.get(term.number)
            if mine is None or not hmac.compare_digest(mine.key, term.key):
                return False
        return True

    def to_bytes(self) -> bytes:
        """The versioned JSON form. The result holds raw keys: encrypt it before it leaves memory."""
        document = {
            "version": FORMAT_VERSION,
            "terms": [
                {
                    "term": term.number,
                    "key": base64.b64encode(term.key).decode("ascii"),
                    "install_time": term.install_time,
                }
                for term in self._terms.values()
            ],
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Keyring:
        """Parse :meth:`to_bytes` output; anything malformed raises InternalError (naming no key)."""
        try:
            document = json.loads(data)
            if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
                raise _malformed()
            entries = document.get("terms")
            if not isinstance(entries, list):
                raise _malformed()
            return cls(_parse_term(entry) for entry in entries)
        except (ValueError, TypeError, binascii.Error):
            # json, base64 and Term/Keyring validation errors all mean "not a keyring".
            raise _malformed() from None

    def __repr__(self) -> str:
        return f"Keyring(active_term={self.active_term}, terms={list(self._terms)})"


def _parse_term(entry: object) -> Term:
    if not isinstance(entry, dict) or set(entry) != {"term", "key", "install_time"}:
        raise _malformed()
    number, key, install_time = entry["term"], entry["key"], entry["install_time"]
    if type(number) is not int or not isinstance(key, str):
        raise _malformed()
    if type(install_time) not in (int, float) or not math.isfinite(install_time):
        raise _malformed()
    return Term(number, base64.b64decode(key, validate=True), install_time)


def _malformed() -> InternalError:
    return InternalError("stored keyring is malformed")
