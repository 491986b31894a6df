"""What generate-root and rekey share: an attempt identified by a nonce that collects unseal shares.

Both ceremonies are unauthenticated (as in Vault): whoever holds shares may
take part. The nonce ties every share to the attempt its holder was told
about, so a share typed for one attempt cannot complete another, and a cancel
has to name the attempt it ends (a blind cancel cannot end an operator's
attempt). Shares are kept in memory only and forgotten on restart.
"""

from __future__ import annotations

import hmac
import uuid

from strongroom.errors import InvalidRequest
from strongroom.sdk.system import RandomBytes


def new_nonce(random_bytes: RandomBytes) -> str:
    """A random UUID-shaped nonce, as Vault shows them."""
    return str(uuid.UUID(bytes=random_bytes(16), version=4))


class ShareCollector:
    """The shares one attempt has received so far.

    ``check_nonce`` raises InvalidRequest (400, Vault's ``incorrect nonce``)
    unless ``given`` names this attempt; ``add`` refuses a share given twice.
    Shares never appear in ``repr``.
    """

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self._shares: list[bytes] = []

    def __repr__(self) -> str:
        return f"ShareCollector(progress={len(self._shares)})"

    @property
    def progress(self) -> int:
        return len(self._shares)

    def check_nonce(self, given: str | None) -> None:
        if not given:
            raise InvalidRequest("missing nonce")
        if not hmac.compare_digest(given.encode(), self.nonce.encode()):
            raise InvalidRequest("incorrect nonce")

    def add(self, share: bytes) -> int:
        """Record ``share`` and return the progress. InvalidRequest for a share already given."""
        if not share:
            raise InvalidRequest("'key' must be specified in request body as JSON")
        if any(hmac.compare_digest(share, have) for have in self._shares):
            raise InvalidRequest("given key has already been provided during this operation")
        self._shares.append(share)
        return len(self._shares)

    def take(self) -> list[bytes]:
        """All shares, leaving the collector empty (the attempt is decided either way)."""
        shares, self._shares = self._shares, []
        return shares
