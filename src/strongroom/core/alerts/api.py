"""``report()``: how parts of the server that are not a request raise an alert signal.

The audit broker calls ``report("audit_failure", device="file/", reason="...")``
when a device fails to record an entry; the seal hook calls ``report("sealed")``.
The call is fire-and-forget: cheap, synchronous, and it never raises, so a
caller on a failure path cannot be made to fail twice.

Each process installs one reporter at its composition root: a worker forwards
the signal to the supervisor's detector over IPC, the supervisor and the
single-process server hand it to their detector directly. Until one is
installed (unit tests, tools), signals are dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import MappingProxyType

from strongroom.core.alerts.signals import KINDS, MAX_DETAILS, MAX_FIELD, Signal

log = logging.getLogger("strongroom.alerts")

Reporter = Callable[[Signal], None]

_reporter: Reporter | None = None


def install(reporter: Reporter | None) -> None:
    """Make ``reporter`` this process's destination for :func:`report` (``None`` drops signals)."""
    global _reporter  # noqa: PLW0603 - one destination per process, set once at the composition root
    _reporter = reporter


def report(kind: str, *, remote_addr: str = "", accessor: str = "", path: str = "", **details: str) -> None:
    """Raise a signal of ``kind`` (one of ``signals.KINDS``) now. Never raises.

    ``details`` are short, non-secret strings (a device path, an error class):
    they are shown to operators, sent to webhooks and logged.
    """
    reporter = _reporter
    if reporter is None:
        return
    if kind not in KINDS:
        log.error("report() called with an unknown alert signal kind %r; ignored", kind)
        return
    try:
        clean = {str(k)[:MAX_FIELD]: str(v)[:MAX_FIELD] for k, v in list(details.items())[:MAX_DETAILS]}
        signal = Signal(
            kind=kind,
            at=time.time(),
            remote_addr=remote_addr[:MAX_FIELD],
            accessor=accessor[:MAX_FIELD],
            path=path[:MAX_FIELD],
            details=MappingProxyType(clean),
        )
        reporter(signal)
    except Exception:
        log.exception("could not report an alert signal of kind %r", kind)
