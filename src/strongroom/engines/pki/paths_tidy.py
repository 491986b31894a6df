"""``tidy``: remove certificates (and revocations) whose expiry lies ``safety_buffer`` in the past;
``tidy-status``: what the last run did.

Vault runs tidy in the background and answers 202 at once. Here it runs
within the request (202 when it has finished, with the counts in
``tidy-status``): no other job machinery exists yet, and a mount's store is
walked once per call. Expired revocations leave the CRL, which is rebuilt.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response
from strongroom.sdk.storage import StorageBackend

from .certstore import CERTS, REVOKED, decode_revocation
from .codec import decode, encode, load_stored_der
from .crl import rebuild
from .limits import check_duration
from .state import PKIState

STATUS_KEY = "tidy/status"
DEFAULT_SAFETY_BUFFER = 72 * 3600
B = FieldType.BOOL


class TidyPaths:
    def __init__(self, state: PKIState) -> None:
        self.state = state

    def paths(self) -> Sequence[Path]:
        return [
            Path(r"tidy", {Operation.UPDATE: self.tidy},
                 {"tidy_cert_store": Field(B, default=False), "tidy_revoked_certs": Field(B, default=False),
                  "safety_buffer": Field(FieldType.DURATION, default=DEFAULT_SAFETY_BUFFER)},
                 help="Delete expired certificates and revocations from storage."),
            Path(r"tidy-status", {Operation.READ: self.status}, help="The outcome of the last tidy."),
        ]

    async def tidy(self, req: Request, fd: FieldData) -> Response:
        tidy_certs, tidy_revoked = fd.get("tidy_cert_store"), fd.get("tidy_revoked_certs")
        if not tidy_certs and not tidy_revoked:
            raise InvalidRequest("at least one operation must be enabled for tidy to run: "
                                 "tidy_cert_store or tidy_revoked_certs")
        buffer = check_duration(fd.get("safety_buffer"), "safety_buffer")
        storage = self.state.storage(req)
        started = self.state.now()
        cutoff = started - datetime.timedelta(seconds=buffer)
        certs_deleted = await _tidy_certs(storage, cutoff) if tidy_certs else 0
        revoked_deleted = await _tidy_revoked(storage, cutoff) if tidy_revoked else 0
        if revoked_deleted and await self.state.issuers.load(storage) is not None:
            issuer = await self.state.issuers.load_signing(storage)
            await rebuild(storage, issuer, self.state.now, self.state.ctx.system.random_bytes)
        status = {
            "safety_buffer": buffer, "tidy_cert_store": tidy_certs, "tidy_revoked_certs": tidy_revoked,
            "state": "Finished", "error": None, "message": None,
            "time_started": _stamp(started), "time_finished": _stamp(self.state.now()),
            "cert_store_deleted_count": certs_deleted, "revoked_cert_deleted_count": revoked_deleted,
        }
        await storage.put(STATUS_KEY, encode(status))
        return Response(status=202, warnings=[
            "Tidy operation finished (Strongroom runs it within the request); read tidy-status for the counts."
        ])

    async def status(self, req: Request, fd: FieldData) -> Response:
        raw = await self.state.storage(req).get(STATUS_KEY)
        data: dict[str, Any] = decode(raw) if raw is not None else {
            "safety_buffer": None, "tidy_cert_store": None, "tidy_revoked_certs": None, "state": "Inactive",
            "error": None, "message": None, "time_started": None, "time_finished": None,
            "cert_store_deleted_count": 0, "revoked_cert_deleted_count": 0,
        }
        return Response(data=data)


async def _tidy_certs(storage: StorageBackend, cutoff: datetime.datetime) -> int:
    deleted = 0
    for name in await storage.list(CERTS):
        raw = await storage.get(CERTS + name)
        if raw is not None and load_stored_der(raw).not_valid_after_utc < cutoff:
            await storage.delete(CERTS + name)
            deleted += 1
    return deleted


async def _tidy_revoked(storage: StorageBackend, cutoff: datetime.datetime) -> int:
    deleted = 0
    for name in await storage.list(REVOKED):
        raw = await storage.get(REVOKED + name)
        if raw is not None and decode_revocation(raw).certificate.not_valid_after_utc < cutoff:
            await storage.delete(REVOKED + name)
            await storage.delete(CERTS + name)
            deleted += 1
    return deleted


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
