"""The ``syslog`` audit device: one syslog message per line, to the local syslog socket.

Options: ``facility`` (default ``AUTH``) and ``tag`` (default ``strongroom``), as in
Vault, plus ``address``: the local syslog socket (default ``/dev/log``; an absolute
path). Messages are ``<PRI>tag: <line>`` at severity ``info``, sent as datagrams
(or, when the socket is a stream socket, each message terminated by a newline).

Why not ``logging.handlers.SysLogHandler`` itself: a handler swallows send errors
(``handleError`` prints them), and a device must report every failure so the
broker can fail closed. We use its facility and priority tables and encoding.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Sequence
from logging.handlers import SysLogHandler

from strongroom.errors import InvalidRequest
from strongroom.sdk.audit import AuditDevice, DeviceConfig, check_known_options

OPTIONS = ("facility", "tag", "address")
DEFAULT_ADDRESS = "/dev/log"
#: A syslog daemon that stops reading must not hold the device's thread forever.
SEND_TIMEOUT = 2.0


class SyslogDevice(AuditDevice):
    def __init__(self, address: str, facility: int, tag: str) -> None:
        self.address = address
        self.priority = (facility << 3) | SysLogHandler.LOG_INFO
        self.tag = tag
        self._sock: socket.socket | None = None
        self._stream = False

    def __repr__(self) -> str:
        return f"SyslogDevice({self.address!r}, tag={self.tag!r})"

    @staticmethod
    def from_config(config: DeviceConfig) -> SyslogDevice:
        check_known_options(config, OPTIONS, "syslog")
        facility_name = (config.options.get("facility") or "AUTH").strip().lower()
        facility = SysLogHandler.facility_names.get(facility_name)
        if facility is None:
            raise InvalidRequest(f"facility must be one of {', '.join(sorted(SysLogHandler.facility_names))}")
        tag = (config.options.get("tag") or "strongroom").strip()
        if not tag or any(c.isspace() or c in ":[]" for c in tag) or len(tag) > 48:
            raise InvalidRequest("tag must be a short word without spaces, ':' or brackets")
        address = (config.options.get("address") or DEFAULT_ADDRESS).strip()
        if "\x00" in address or not os.path.isabs(address):
            raise InvalidRequest("address must be the absolute path of the local syslog socket")
        return SyslogDevice(address, facility, tag)

    def open(self) -> None:
        if self._sock is not None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.settimeout(SEND_TIMEOUT)
        try:
            sock.connect(self.address)
            self._stream = False
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EPROTOTYPE:
                raise
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(SEND_TIMEOUT)
            try:
                sock.connect(self.address)
            except OSError:
                sock.close()
                raise
            self._stream = True
        self._sock = sock

    def write(self, lines: Sequence[bytes]) -> int:
        self.open()
        sock = self._sock
        assert sock is not None
        head = f"<{self.priority}>{self.tag}: ".encode()
        for index, line in enumerate(lines):
            message = head + line.rstrip(b"\n")
            try:
                if self._stream:
                    sock.sendall(message + b"\n")
                else:
                    sock.send(message)
            except OSError:
                self.close()
                if index == 0:
                    raise
                return index
        return len(lines)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


def build(config: DeviceConfig) -> AuditDevice:
    """The registry entry for ``type=syslog``."""
    return SyslogDevice.from_config(config)
