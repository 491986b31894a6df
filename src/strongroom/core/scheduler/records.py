"""The stored form of a scheduled job and where it lives under ``sys/scheduler/`` (a barrier view).

Layout (keys relative to the view):

* ``job/<mount uuid>/<hex job key>``: the :class:`JobEntry` as JSON. Jobs are
  keyed by the mount's uuid, not its path: a mount disabled and enabled again
  at the same path is a new mount whose backend never heard of the old jobs.
* ``due/<hour>/<minute>/<hex "uuid/key">``: the due index, the same bucketing
  as the lease expiry index (``strongroom.core.leases.schedule``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson

from strongroom.core.leases.schedule import due_key
from strongroom.errors import InternalError
from strongroom.sdk.scheduling import Job


@dataclass(frozen=True, slots=True)
class JobEntry:
    mount: str
    key: str
    #: The due time of the current run: the fencing token handed to the backend with the job.
    due_at: float
    payload: dict[str, Any] = field(default_factory=dict)
    #: Failed runs for this due time, when the next retry is, and the last failure's message.
    attempt: int = 0
    next_attempt: float = 0.0
    last_error: str = ""
    #: A run in progress: who claimed it and until when the claim holds.
    claim_owner: str = ""
    claim_until: float = 0.0

    def __repr__(self) -> str:
        # The payload is the backend's; keep it out of logs.
        return f"JobEntry({self.mount!r}, {self.key!r}, due_at={self.due_at}, attempt={self.attempt})"

    @property
    def run_at(self) -> float:
        """When the loop must run this job next: its due time, or its retry time after a failure."""
        return self.next_attempt if self.attempt else self.due_at

    @property
    def index_id(self) -> str:
        return index_id(self.mount, self.key)

    @property
    def due_key(self) -> str:
        return due_key(self.run_at, self.index_id)

    def claimed_by_other(self, owner: str, now: float) -> bool:
        return bool(self.claim_owner) and self.claim_owner != owner and self.claim_until > now

    def job(self) -> Job:
        return Job(self.key, self.due_at, dict(self.payload), self.attempt, self.last_error)

    def with_changes(self, **changes: Any) -> JobEntry:
        return replace(self, **changes)


def encode(entry: JobEntry) -> bytes:
    return orjson.dumps(asdict(entry))


def decode(raw: bytes) -> JobEntry:
    try:
        return JobEntry(**orjson.loads(raw))
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise InternalError("corrupt scheduled job entry") from exc


def index_id(mount: str, key: str) -> str:
    return f"{mount}/{key}"


def job_key(mount: str, key: str) -> str:
    return f"job/{mount}/{key.encode().hex()}"
