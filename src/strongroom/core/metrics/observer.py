"""Turns every finished request (a :class:`RequestRecord`) into counter and histogram updates.

Labels come from bounded, non-secret facts only: mount type, mount point,
operation, status code and auth method. The request path never becomes a
label: it can carry user data (a secret's name, an entity's name).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Histogram

from strongroom.core import telemetry
from strongroom.core.hooks import RequestRecord
from strongroom.core.metrics.buffer import BUFFER

#: The mount type and point reported for requests the core answers before routing
#: (seal-status, health, init, unseal, metrics): they all live under ``sys/``.
_SYSTEM = ("system", "sys/")
#: Requests that matched no mount (404) or were refused before routing.
_UNROUTED = ("none", "")


class MetricsObserver:
    """A :class:`strongroom.core.hooks.RequestObserver` that records request metrics.

    ``after_request`` (optional) runs after each record, for per-request
    bookkeeping that is not a metric of the request itself (the barrier usage
    tracker counts the encryptions the request caused). It must not raise.
    """

    def __init__(self, after_request: Callable[[], None] | None = None) -> None:
        self._after_request = after_request
        # labels() takes a lock and builds a key on every call; the label sets are few, so keep the children.
        self._requests: dict[tuple[str, str, str, int], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}

    def observe(self, record: RequestRecord) -> None:
        mount_type, mount_point = _mount_labels(record)
        operation = record.operation
        key = (mount_type, mount_point, operation, record.status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = telemetry.REQUESTS.labels(mount_type, mount_point, operation,
                                                                      str(record.status))
        BUFFER.inc(counter)
        timer = self._latency.get((mount_type, operation))
        if timer is None:
            timer = self._latency[(mount_type, operation)] = telemetry.REQUEST_SECONDS.labels(mount_type, operation)
        BUFFER.observe(timer, record.duration)
        if record.login_method:
            # A login that raised (bad credentials) never set login_succeeded: a failure too.
            result = "success" if record.login_succeeded else "failure"
            telemetry.LOGINS.labels(record.login_method, result).inc()
        if record.permission_denied:
            telemetry.POLICY_DENIALS.labels(mount_type, operation).inc()
        if self._after_request is not None:
            self._after_request()


def _mount_labels(record: RequestRecord) -> tuple[str, str]:
    if record.mount_type:
        return record.mount_type, record.mount_point
    # Only the fixed first segment is looked at, never the rest of the path.
    if record.path.startswith("sys/") or record.path == "sys":
        return _SYSTEM
    return _UNROUTED
