"""An alert: one incident, however many signals it took or keeps taking.

An alert is opened by the detector and then only grows: ``count`` and
``last_seen`` move while matching signals keep arriving. Its JSON form is what
``sys/alerts``, the webhook and the log show; it holds addresses, accessors,
entity ids and paths, never a token or a secret value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

SEVERITY = {
    "permission_denied": "warning",
    "login_failed": "warning",
    "bound_cidr_violation": "warning",
    "canary_read": "critical",
    "audit_failure": "critical",
    "sealed": "critical",
}


def rfc3339(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class Alert:
    id: str
    kind: str
    key: str
    summary: str
    first_seen: float
    last_seen: float
    raised_at: float
    count: int
    subject: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    #: Set once the sinks have been handed this alert.
    notified: bool = False

    @property
    def severity(self) -> str:
        return SEVERITY.get(self.kind, "warning")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "summary": self.summary,
            "count": self.count,
            "first_seen": rfc3339(self.first_seen),
            "last_seen": rfc3339(self.last_seen),
            "raised_at": rfc3339(self.raised_at),
            "subject": dict(self.subject),
            "details": dict(self.details),
            "notified": self.notified,
        }
