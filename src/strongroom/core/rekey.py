"""``sys/rekey``: replace the unseal shares (and optionally their number and threshold).

The state machine here is pure: it records the requested configuration and
collects shares of the *current* unseal key. The seal manager checks that the
shares reconstruct it, then re-wraps the root key under a new unseal key. The
root key and the keyring do not change, so nothing else is re-encrypted, and
the old shares stop working the moment the new wrap is committed.

PGP-encrypted shares, backups and the verification step are not supported:
asking for them is a 400, never a silent downgrade.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from strongroom.core.key_ceremony import ShareCollector, new_nonce
from strongroom.errors import InvalidRequest
from strongroom.sdk.system import RandomBytes

MAX_SHARES = 255


def validate_share_config(secret_shares: int, secret_threshold: int) -> None:
    """Vault's rules for a Shamir configuration; InvalidRequest when broken."""
    if not 1 <= secret_threshold <= secret_shares <= MAX_SHARES:
        raise InvalidRequest("invalid seal configuration: need 1 <= secret_threshold <= secret_shares <= 255")
    if secret_threshold == 1 and secret_shares > 1:
        raise InvalidRequest("invalid seal configuration: threshold must be greater than one for multiple shares")


@dataclass
class _Attempt:
    collector: ShareCollector
    secret_shares: int
    secret_threshold: int


class Rekey:
    """One node's rekey attempt (at most one at a time), kept in memory."""

    def __init__(self, random_bytes: RandomBytes) -> None:
        self._random = random_bytes
        self._attempt: _Attempt | None = None

    def __repr__(self) -> str:
        return f"Rekey(started={self._attempt is not None})"

    def status(self, required: int) -> dict[str, Any]:
        """Vault's answer to ``GET sys/rekey/init``; ``required`` is the *current* threshold."""
        attempt = self._attempt
        return {
            "started": attempt is not None,
            "nonce": attempt.collector.nonce if attempt else "",
            "t": attempt.secret_threshold if attempt else 0,
            "n": attempt.secret_shares if attempt else 0,
            "progress": attempt.collector.progress if attempt else 0,
            "required": required,
            "pgp_fingerprints": None,
            "backup": False,
            "verification_required": False,
        }

    def start(self, secret_shares: int, secret_threshold: int, required: int) -> dict[str, Any]:
        """Begin an attempt for the new configuration. InvalidRequest when one is running or the numbers are bad."""
        if self._attempt is not None:
            raise InvalidRequest("rekey already in progress")
        validate_share_config(secret_shares, secret_threshold)
        self._attempt = _Attempt(ShareCollector(new_nonce(self._random)), secret_shares, secret_threshold)
        return self.status(required)

    def cancel(self, nonce: str | None) -> None:
        """End the running attempt, which ``nonce`` must name. Cancelling nothing is a no-op (as in Vault)."""
        if self._attempt is None:
            return
        self._attempt.collector.check_nonce(nonce)
        self._attempt = None

    def add_share(self, share: bytes, nonce: str | None, required: int) -> tuple[int, int, list[bytes]] | None:
        """Record a share of the current key; once ``required`` are in, return
        ``(secret_shares, secret_threshold, shares)`` and start the progress over.

        InvalidRequest without an attempt, for a wrong nonce or a repeated share.
        """
        attempt = self._attempt
        if attempt is None:
            raise InvalidRequest("no rekey in progress")
        attempt.collector.check_nonce(nonce)
        if attempt.collector.add(share) < required:
            return None
        return attempt.secret_shares, attempt.secret_threshold, attempt.collector.take()

    def complete(self, keys: list[bytes]) -> dict[str, Any]:
        """The final answer with the new shares; the attempt ends."""
        attempt = self._attempt
        if attempt is None:
            raise InvalidRequest("no rekey in progress")
        self._attempt = None
        return {
            "nonce": attempt.collector.nonce,
            "complete": True,
            "keys": [key.hex() for key in keys],
            "keys_base64": [base64.b64encode(key).decode() for key in keys],
            "pgp_fingerprints": None,
            "backup": False,
            "verification_required": False,
        }
