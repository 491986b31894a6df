"""The audit device seam: where finished audit lines go.

A device only *writes*. Everything that decides what a line says happens in the
core's audit broker before the device sees it: formatting in Vault's schema,
HMAC of secret values, the device's prefix, the hash chain and the signed
checkpoints. A line handed to a device is final bytes ending in ``\\n``.

Threading and blocking: each device instance is driven by one dedicated thread
of one process, so its methods are never called concurrently and may block
(a FIFO nobody reads, a socket whose peer stopped reading, a full disk). The
broker puts a deadline on every write and fails the request when no device
recorded it in time; a device needs no time-outs of its own beyond what
frees its thread eventually (the socket device's ``write_timeout``).

Failure: any exception (typically :class:`OSError`) means nothing was recorded
by that call. A device that recorded only the first lines of a batch (a short
write on a full disk) says so by returning how many.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import parse_duration


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """What a device is built from: its path in ``sys/audit`` (``"file/"``) and its own options.

    ``options`` holds only the options of the device type; the options every device
    shares (``hmac_accessor``, ``log_raw``, ``prefix``, ...) are the broker's and are removed first.
    """

    path: str
    options: Mapping[str, str] = field(default_factory=dict)


class AuditDevice(abc.ABC):
    """One destination for audit lines. See the module docstring for the threading contract."""

    def open(self) -> None:
        """Acquire the destination (open the file, connect). Called before the first write and by
        the broker's probe when the device is enabled; a write on a closed device opens it first."""

    @abc.abstractmethod
    def write(self, lines: Sequence[bytes]) -> int:
        """Record ``lines`` in order (each ends in ``\\n``); return how many leading lines were recorded
        in full (``len(lines)`` on success). Raise when none was. After a failure the device must be
        able to try again on the next call (reconnect, reopen)."""

    def sync(self) -> None:
        """Make what was written durable, where the destination has such a notion (``fsync``).
        Called after checkpoints, not after every line."""

    def reopen(self) -> None:
        """Release and acquire the destination again (log rotation: SIGHUP)."""
        self.close()
        self.open()

    def close(self) -> None:
        """Release the destination. Idempotent."""


#: Builds a device from its configuration; raises :class:`InvalidRequest` for bad options and does no I/O.
AuditDeviceFactory = Callable[[DeviceConfig], AuditDevice]


def check_known_options(config: DeviceConfig, known: Sequence[str], device_type: str) -> None:
    """Refuse options the device type does not know (a typo must not silently change nothing)."""
    unknown = sorted(set(config.options) - set(known))
    if unknown:
        raise InvalidRequest(f"unknown option(s) for a {device_type} audit device: {', '.join(unknown)}")


def option_bool(options: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean option as Vault accepts them (``true``/``false``/``1``/``0``, any case)."""
    raw = options.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    text = str(raw).strip().lower()
    if text in ("true", "1", "t", "yes"):
        return True
    if text in ("false", "0", "f", "no"):
        return False
    raise InvalidRequest(f"option {name!r} must be true or false")


def option_seconds(options: Mapping[str, str], name: str, default: float) -> float:
    """A positive duration option in seconds: ``2``, ``0.5``, ``250ms``, ``3s``, ``1m``."""
    raw = options.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    text = str(raw).strip()
    try:
        seconds = float(text[:-2]) / 1000 if text.endswith("ms") else float(text)
    except ValueError:
        seconds = float(parse_duration(text, name))
    if not 0 < seconds < 3600:
        raise InvalidRequest(f"option {name!r} must be a duration between 1ms and 1h")
    return seconds
