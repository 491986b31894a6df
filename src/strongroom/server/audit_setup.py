"""Composition-root wiring for audit: the built-in device types, and each Core's broker.

Built-in devices are registered by name here exactly as a third-party device
would be: a type name and a factory taking a :class:`DeviceConfig`.
"""

from __future__ import annotations

from strongroom.audit import file, socket, syslog
from strongroom.core import telemetry
from strongroom.core.alerts.api import report
from strongroom.core.audit.broker import Auditor
from strongroom.core.core import Core
from strongroom.sdk.audit import AuditDeviceFactory


def builtin_audit_devices() -> dict[str, AuditDeviceFactory]:
    return {"file": file.build, "socket": socket.build, "syslog": syslog.build}


def _on_failure(device: str, reason: str) -> None:
    telemetry.AUDIT_WRITE_FAILURES.labels(device=device).inc()
    report("audit_failure", device=device, reason=reason)


def _on_latency(device: str, seconds: float) -> None:
    telemetry.AUDIT_WRITE_SECONDS.labels(device=device).observe(seconds)


def install_audit(core: Core) -> Auditor:
    """Give ``core`` its audit broker; the device table loads with the mounts (``Core.states``)."""
    auditor = Auditor(
        core.barrier,
        builtin_audit_devices(),
        clock=core.clock,
        random_bytes=core.random_bytes,
        on_failure=_on_failure,
        on_latency=_on_latency,
    )
    core.audit = auditor
    core.states.append(auditor)
    return auditor


def reopen_audit(core: Core) -> None:
    """SIGHUP: devices write a ``rotate`` checkpoint and reopen their files (log rotation)."""
    if isinstance(core.audit, Auditor):
        core.audit.reopen()


async def close_audit(core: Core) -> None:
    """Graceful shutdown: every chain ends with a signed ``close`` checkpoint."""
    if isinstance(core.audit, Auditor):
        await core.audit.close()
