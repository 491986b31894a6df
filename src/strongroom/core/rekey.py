"""``sys/rekey``: replace the unseal shares (and optionally their number and threshold).

The state machine here is pure: it records the requested configuration and
collects shares of the *current* unseal key. The seal manager checks that the
shares reconstruct it, then re-wraps the root key under a new unseal key. The
root key and the keyring do not change, so nothing else is re-encrypted, and
the old shares stop working the moment the new wrap is committed.

With ``require_verification`` the new shares are handed out first but only
take effect once a threshold of them comes back through ``sys/rekey/verify``
(with its own nonce), proving the holders stored them; until then the old
shares stay valid. PGP-encrypted shares and backups are not supported: asking
for them is a 400, never a silent downgrade.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
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
class PendingRekey:
    """A rekey waiting for verification: what to commit once the new shares come back."""

    root_key: bytes = field(repr=False)
    new_unseal_key: bytes = field(repr=False)
    wrap_version: bytes = field(repr=False)
    collector: ShareCollector = field(repr=False)


@dataclass
class _Attempt:
    collector: ShareCollector
    secret_shares: int
    secret_threshold: int
    verify: bool = False
    pending: PendingRekey | None = None


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
        answer: dict[str, Any] = {
            "started": attempt is not None,
            "nonce": attempt.collector.nonce if attempt else "",
            "t": attempt.secret_threshold if attempt else 0,
            "n": attempt.secret_shares if attempt else 0,
            "progress": attempt.collector.progress if attempt else 0,
            "required": required,
            "pgp_fingerprints": None,
            "backup": False,
            "verification_required": attempt.verify if attempt else False,
        }
        if attempt is not None and attempt.pending is not None:
            answer["verification_nonce"] = attempt.pending.collector.nonce
        return answer

    def start(
        self, secret_shares: int, secret_threshold: int, required: int, require_verification: bool = False
    ) -> dict[str, Any]:
        """Begin an attempt for the new configuration. InvalidRequest when one is running or the numbers are bad."""
        if self._attempt is not None:
            raise InvalidRequest("rekey already in progress")
        validate_share_config(secret_shares, secret_threshold)
        self._attempt = _Attempt(
            ShareCollector(new_nonce(self._random)), secret_shares, secret_threshold, require_verification
        )
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
        if attempt.pending is not None:
            raise InvalidRequest("the new keys are awaiting verification: submit them to sys/rekey/verify")
        if attempt.collector.add(share) < required:
            return None
        return attempt.secret_shares, attempt.secret_threshold, attempt.collector.take()

    @property
    def needs_verification(self) -> bool:
        return self._attempt is not None and self._attempt.verify

    def complete(self, keys: list[bytes], pending: PendingRekey | None = None) -> dict[str, Any]:
        """The answer carrying the new shares.

        Without ``pending`` the rekey is done and the attempt ends. With it
        (verification required) the attempt waits for a threshold of the new
        shares at ``sys/rekey/verify``, whose nonce the answer carries.
        """
        attempt = self._attempt
        if attempt is None:
            raise InvalidRequest("no rekey in progress")
        answer: dict[str, Any] = {
            "nonce": attempt.collector.nonce,
            "complete": True,
            "keys": [key.hex() for key in keys],
            "keys_base64": [base64.b64encode(key).decode() for key in keys],
            "pgp_fingerprints": None,
            "backup": False,
            "verification_required": pending is not None,
        }
        if pending is None:
            self._attempt = None
        else:
            attempt.pending = pending
            answer["verification_nonce"] = pending.collector.nonce
        return answer

    # -- verification ------------------------------------------------------------------------

    def _pending(self) -> tuple[_Attempt, PendingRekey]:
        attempt = self._attempt
        if attempt is None or attempt.pending is None:
            raise InvalidRequest("no rekey verification in progress")
        return attempt, attempt.pending

    def verify_status(self) -> dict[str, Any]:
        """Vault's answer to ``GET sys/rekey/verify``."""
        attempt, pending = self._pending()
        return {
            "started": True,
            "nonce": pending.collector.nonce,
            "t": attempt.secret_threshold,
            "n": attempt.secret_shares,
            "progress": pending.collector.progress,
        }

    def verify_restart(self, nonce: str | None) -> dict[str, Any]:
        """Drop the verification progress (``nonce`` must name it) and start it over under a new nonce."""
        _, pending = self._pending()
        pending.collector.check_nonce(nonce)
        pending.collector = ShareCollector(new_nonce(self._random))
        return self.verify_status()

    def verify_add_share(self, share: bytes, nonce: str | None) -> tuple[PendingRekey, list[bytes]] | None:
        """Record a new share; once the new threshold is in, return the pending rekey and the shares."""
        attempt, pending = self._pending()
        pending.collector.check_nonce(nonce)
        if pending.collector.add(share) < attempt.secret_threshold:
            return None
        return pending, pending.collector.take()

    def verified(self) -> dict[str, Any]:
        """The final verification answer; the attempt ends."""
        _, pending = self._pending()
        self._attempt = None
        return {"nonce": pending.collector.nonce, "complete": True}
