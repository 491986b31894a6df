"""The ``socket`` audit device: sends lines over TCP, UDP or a Unix stream socket.

Options (as in Vault): ``address`` (``host:port``, ``[v6]:port``, or an absolute
path for ``unix``), ``socket_type`` (``tcp`` default, ``udp``, ``unix``) and
``write_timeout`` (default ``2s``: a send that makes no progress for that long
fails and the connection is dropped, so a peer that stops reading frees the
device's thread).

Egress: the server connects only where the operator pointed it, and never to
cloud metadata, link-local, unspecified, multicast or reserved addresses
(:mod:`strongroom.sdk.egress`; loopback and private ranges are allowed because
log collectors usually run beside the server). The name is resolved and checked
at every connection, and the checked address is the one connected to, so a
DNS answer that changes later (rebinding) is checked again.

A TCP or Unix stream that failed part-way is closed: the peer may hold a torn
line, and the next connection starts on a line boundary. Each UDP datagram is one line.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Sequence

from strongroom.errors import InvalidRequest
from strongroom.sdk.audit import AuditDevice, DeviceConfig, check_known_options, option_seconds
from strongroom.sdk.egress import EgressDenied, EgressPolicy

OPTIONS = ("address", "socket_type", "write_timeout")
SOCKET_TYPES = ("tcp", "udp", "unix")
DEFAULT_WRITE_TIMEOUT = 2.0
#: Audit collectors often listen on loopback (a sidecar) or the private network.
AUDIT_EGRESS = EgressPolicy(allow_loopback=True, allow_link_local=False, allow_private=True)


def split_host_port(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host, port); InvalidRequest when malformed."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise InvalidRequest("address must be host:port for a tcp or udp audit socket")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    port = int(port_text)
    if not 0 < port < 65536:
        raise InvalidRequest("address port must be between 1 and 65535")
    return host, port


def checked_addresses(host: str, port: int, kind: int, policy: EgressPolicy) -> list[tuple[int, tuple[str, int]]]:
    """Resolve ``host`` (blocking: called on the device's thread) and refuse it if any address is denied."""
    try:
        infos = socket.getaddrinfo(host, port, type=kind)
    except OSError:
        raise EgressDenied(f"egress to {host!r} refused: the name does not resolve") from None
    found: list[tuple[int, tuple[str, int]]] = []
    for family, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        reason = policy.refusal(address)
        if reason is not None:
            raise EgressDenied(f"egress to {host!r} refused: it resolves to {reason} ({address})")
        found.append((family, (str(sockaddr[0]), int(sockaddr[1]))))
    if not found:
        raise EgressDenied(f"egress to {host!r} refused: the name does not resolve")
    return found


class SocketDevice(AuditDevice):
    def __init__(self, address: str, socket_type: str, write_timeout: float,
                 policy: EgressPolicy = AUDIT_EGRESS) -> None:
        self.address = address
        self.socket_type = socket_type
        self.write_timeout = write_timeout
        self.policy = policy
        self._sock: socket.socket | None = None

    def __repr__(self) -> str:
        return f"SocketDevice({self.socket_type}, {self.address!r})"

    @staticmethod
    def from_config(config: DeviceConfig) -> SocketDevice:
        check_known_options(config, OPTIONS, "socket")
        address = (config.options.get("address") or "").strip()
        if not address:
            raise InvalidRequest("option 'address' is required for a socket audit device")
        socket_type = (config.options.get("socket_type") or "tcp").strip().lower()
        if socket_type not in SOCKET_TYPES:
            raise InvalidRequest("socket_type must be tcp, udp or unix")
        if socket_type == "unix":
            if "\x00" in address or not os.path.isabs(address):
                raise InvalidRequest("address must be an absolute path for a unix audit socket")
        else:
            host, _ = split_host_port(address)
            # Literal addresses are checked now, for a clear answer at enable time; names at connect.
            try:
                literal = ipaddress.ip_address(host)
            except ValueError:
                literal = None
            reason = AUDIT_EGRESS.refusal(literal) if literal is not None else None
            if reason is not None:
                raise EgressDenied(f"egress to {host!r} refused: it is {reason}")
        seconds = option_seconds(config.options, "write_timeout", DEFAULT_WRITE_TIMEOUT)
        return SocketDevice(address, socket_type, seconds)

    def open(self) -> None:
        if self._sock is not None:
            return
        if self.socket_type == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: str | tuple[str, int] = self.address
        else:
            kind = socket.SOCK_DGRAM if self.socket_type == "udp" else socket.SOCK_STREAM
            host, port = split_host_port(self.address)
            family, target = checked_addresses(host, port, kind, self.policy)[0]
            sock = socket.socket(family, kind)
        sock.settimeout(self.write_timeout)
        try:
            sock.connect(target)
        except OSError:
            sock.close()
            raise
        self._sock = sock

    def write(self, lines: Sequence[bytes]) -> int:
        self.open()
        sock = self._sock
        assert sock is not None
        if self.socket_type == "udp":
            return self._send_datagrams(sock, lines)
        data = memoryview(b"".join(lines))
        sent = 0
        try:
            while sent < len(data):
                sent += sock.send(data[sent:])
        except OSError:
            self.close()
            complete = _whole_lines(lines, sent)
            if complete == 0:
                raise
            return complete
        return len(lines)

    def _send_datagrams(self, sock: socket.socket, lines: Sequence[bytes]) -> int:
        for index, line in enumerate(lines):
            try:
                sock.send(line)
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


def _whole_lines(lines: Sequence[bytes], sent: int) -> int:
    total = 0
    for count, line in enumerate(lines):
        total += len(line)
        if total > sent:
            return count
    return len(lines)


def build(config: DeviceConfig) -> AuditDevice:
    """The registry entry for ``type=socket``."""
    return SocketDevice.from_config(config)
