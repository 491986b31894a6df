"""The mount's certificate revocation list: built from ``revoked/``, signed by the CA, numbered.

The current CRL lives at ``crl/state`` (``{"number": n, "crl": base64 DER,
"next_update": unix seconds}``). A CRL past its ``nextUpdate`` is rebuilt when
it is next read, so the published CRL never goes stale between revocations.
Every rebuild reads that entry, lists the revocations, and commits the new CRL
with a precondition on the entry it read, retrying on conflict. Two workers
revoking at once therefore cannot publish a CRL that misses either
revocation: the later commit is refused and rebuilt from a fresh listing.
CRL numbers only grow, across CA replacements too.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from strongroom.errors import InternalError
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict

from .certstore import Revocation, all_revocations
from .codec import decode, encode
from .issuer import Issuer
from .keys import signature_hash

CRL_KEY = "crl/state"
#: Vault's default CRL validity (``config/crl`` ``expiry``).
CRL_EXPIRY = datetime.timedelta(hours=72)


def build_crl(
    issuer: Issuer, revoked: list[Revocation], number: int, now: datetime.datetime
) -> x509.CertificateRevocationList:
    """A v2 CRL over ``revoked``, valid from ``now`` for :data:`CRL_EXPIRY`, signed by ``issuer``."""
    key = issuer.signing_key()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now)
        .next_update(now + CRL_EXPIRY)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
    )
    for entry in sorted(revoked, key=lambda r: r.serial):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.revoked_at).build()
        )
    return builder.sign(key, signature_hash(key, 0))


@dataclass(frozen=True, slots=True)
class Published:
    number: int
    der: bytes
    next_update: int


def _state(raw: bytes | None) -> Published | None:
    if raw is None:
        return None
    entry = decode(raw)
    try:
        der = base64.b64decode(entry["crl"], validate=True)
        return Published(int(entry["number"]), der, int(entry["next_update"]))
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise InternalError("the stored pki CRL is malformed") from None


def state_entry(number: int, crl: x509.CertificateRevocationList) -> bytes:
    der = crl.public_bytes(serialization.Encoding.DER)
    next_update = crl.next_update_utc  # build_crl always sets it; 0 would only mean "rebuild on read"
    return encode({"number": number, "crl": base64.b64encode(der).decode("ascii"),
                   "next_update": int(next_update.timestamp()) if next_update else 0})


async def next_crl_op(storage: StorageBackend, issuer: Issuer, now: datetime.datetime) -> tuple[TxnOp, Precondition]:
    """The write (and its precondition) that publishes a fresh CRL, for a caller's own transaction."""
    raw, version = await storage.get_with_version(CRL_KEY)
    published = _state(raw)
    number = 0 if published is None else published.number
    crl = build_crl(issuer, await all_revocations(storage), number + 1, now)
    return TxnOp(CRL_KEY, state_entry(number + 1, crl)), Precondition(CRL_KEY, version)


async def rebuild(
    storage: StorageBackend,
    issuer: Issuer,
    clock: Callable[[], datetime.datetime],
    random_bytes: Callable[[int], bytes],
) -> None:
    """Publish a CRL that lists every current revocation (retried on conflict, see the module docstring)."""

    async def attempt() -> None:
        op, precondition = await next_crl_op(storage, issuer, clock())
        await storage.transaction([op], [precondition])

    await retry_on_conflict(attempt, random_bytes=random_bytes)


async def current_der(storage: StorageBackend, now: datetime.datetime) -> bytes | None:
    """The published CRL's DER; None when none was built yet or it is past its ``nextUpdate``."""
    published = _state(await storage.get(CRL_KEY))
    if published is None or published.next_update <= now.timestamp():
        return None
    return published.der
