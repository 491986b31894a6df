"""Signals: the few facts the detector needs, taken from finished requests or reported directly.

A :class:`Signal` is small, plain and free of secrets (addresses, accessors,
entity ids, request paths, short reasons), so it can cross the worker ->
supervisor channel as JSON and appear in an alert as is. Most requests carry
no signal at all: :func:`from_record` answers ``None`` for them, which is what
keeps forwarding cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from strongroom.core.hooks import RequestRecord
from strongroom.sdk.logical import TAG_CANARY as LOGICAL_TAG_CANARY

PERMISSION_DENIED = "permission_denied"
LOGIN_FAILED = "login_failed"
CANARY_READ = "canary_read"
BOUND_CIDR_VIOLATION = "bound_cidr_violation"
AUDIT_FAILURE = "audit_failure"
SEALED = "sealed"
ROTATION_FAILED = "rotation_failed"

KINDS = frozenset(
    {PERMISSION_DENIED, LOGIN_FAILED, CANARY_READ, BOUND_CIDR_VIOLATION, AUDIT_FAILURE, SEALED, ROTATION_FAILED}
)

#: Tags the core and backends put on a RequestRecord (see docs/alerts.md).
TAG_CANARY = LOGICAL_TAG_CANARY
TAG_BOUND_CIDR_VIOLATION = "bound_cidr_violation"

#: Bounds on what one signal may carry, so a forged or runaway one cannot grow an alert without limit.
MAX_FIELD = 512
MAX_DETAILS = 8


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Signal:
    """One suspicious fact. ``at`` is wall-clock seconds; ``details`` are short, non-secret strings."""

    kind: str
    at: float
    remote_addr: str = ""
    accessor: str = ""
    entity_id: str = ""
    path: str = ""
    details: Mapping[str, str] = field(default_factory=_empty)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at,
            "remote_addr": self.remote_addr,
            "accessor": self.accessor,
            "entity_id": self.entity_id,
            "path": self.path,
            "details": dict(self.details),
        }

    @staticmethod
    def from_json(raw: Any) -> Signal | None:
        """A signal from the channel, or ``None`` when it is not one (never raises)."""
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
            return None
        at = raw.get("at")
        if not isinstance(at, (int, float)) or isinstance(at, bool):
            return None
        details = raw.get("details")
        clean: dict[str, str] = {}
        if isinstance(details, dict):
            for key, value in list(details.items())[:MAX_DETAILS]:
                clean[str(key)[:MAX_FIELD]] = str(value)[:MAX_FIELD]
        return Signal(
            kind=str(raw["kind"]),
            at=float(at),
            remote_addr=_text(raw.get("remote_addr")),
            accessor=_text(raw.get("accessor")),
            entity_id=_text(raw.get("entity_id")),
            path=_text(raw.get("path")),
            details=MappingProxyType(clean),
        )


def _text(value: Any) -> str:
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def from_record(record: RequestRecord, at: float) -> Signal | None:
    """The signal a finished request carries, or ``None`` for the (vast) rest.

    One request gives at most one signal, the most specific: a bound-CIDR
    violation (also a denial) is reported as such and not counted again as a
    denial; a canary read; a failed login; a permission denial.
    """
    kind = ""
    tags = record.tags
    if tags.get(TAG_BOUND_CIDR_VIOLATION):
        kind = BOUND_CIDR_VIOLATION
    elif tags.get(TAG_CANARY):
        kind = CANARY_READ
    elif record.login_succeeded is False:
        kind = LOGIN_FAILED
    elif record.permission_denied:
        kind = PERMISSION_DENIED
    if not kind:
        return None
    details: dict[str, str] = {"operation": record.operation, "status": str(record.status)}
    if record.login_method:
        details["method"] = record.login_method
    return Signal(
        kind=kind,
        at=at,
        remote_addr=record.remote_addr,
        accessor=record.accessor,
        entity_id=record.entity_id,
        path=record.path,
        details=MappingProxyType(details),
    )
