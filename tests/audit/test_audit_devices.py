"""The file, socket and syslog devices on their own: options, restrictions (SECURITY.md: CVE-2025-6000
and audit-socket SSRF), and what reaches the destination."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.audit.file import FileDevice
from strongroom.audit.socket import SocketDevice
from strongroom.audit.syslog import SyslogDevice
from strongroom.errors import InvalidRequest
from strongroom.sdk.audit import DeviceConfig
from strongroom.sdk.egress import EgressDenied


def file_device(**options: str) -> FileDevice:
    return FileDevice.from_config(DeviceConfig("file/", options))


# -- file ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "audit.log", "./audit.log", "/proc/self/fd/1", "/proc/1/mem", "/sys/kernel/notes", "/dev/sda", "/dev/null",
    "/dev/../dev/shm/x", "discard", "",
])
def test_file_paths_outside_the_allowed_places_are_refused(path: str) -> None:
    with pytest.raises(InvalidRequest):
        file_device(file_path=path)


def test_a_symlink_into_proc_is_refused(tmp_path: Path) -> None:
    (tmp_path / "innocent").symlink_to("/proc/self")
    with pytest.raises(InvalidRequest, match="/proc"):
        file_device(file_path=str(tmp_path / "innocent" / "environ"))


@pytest.mark.parametrize("mode", ["0700", "0755", "0777", "0610", "0601", "4600", "2600", "1600", "0100"])
def test_executable_setuid_setgid_and_sticky_modes_are_refused(tmp_path: Path, mode: str) -> None:
    with pytest.raises(InvalidRequest, match="executable"):
        file_device(file_path=str(tmp_path / "a.log"), mode=mode)


@pytest.mark.parametrize("mode", ["abc", "0999", "-1", "70000"])
def test_a_mode_that_is_not_octal_is_refused(tmp_path: Path, mode: str) -> None:
    with pytest.raises(InvalidRequest, match="octal"):
        file_device(file_path=str(tmp_path / "a.log"), mode=mode)


def test_unknown_options_are_refused_not_ignored(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="file_pth"):
        file_device(file_pth=str(tmp_path / "a.log"))


def test_the_file_is_created_0600_and_an_existing_one_gets_the_configured_mode(tmp_path: Path) -> None:
    fresh = file_device(file_path=str(tmp_path / "new.log"))
    assert fresh.write([b"one\n", b"two\n"]) == 2
    fresh.close()
    assert stat.S_IMODE((tmp_path / "new.log").stat().st_mode) == 0o600
    assert (tmp_path / "new.log").read_bytes() == b"one\ntwo\n"

    existing = tmp_path / "old.log"
    existing.write_bytes(b"kept\n")
    existing.chmod(0o644)
    device = file_device(path=str(existing), mode="0640")
    device.write([b"added\n"])
    device.close()
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
    assert existing.read_bytes() == b"kept\nadded\n"

    untouched = file_device(file_path=str(existing), mode="0000")
    untouched.write([b"more\n"])
    untouched.close()
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640


def test_reopen_follows_a_renamed_file_to_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    device = file_device(file_path=str(path))
    device.write([b"before\n"])
    path.rename(tmp_path / "audit.log.1")
    device.write([b"still old\n"])
    device.reopen()
    device.write([b"after\n"])
    device.close()
    assert (tmp_path / "audit.log.1").read_bytes() == b"before\nstill old\n"
    assert path.read_bytes() == b"after\n"


@pytest.mark.parametrize("name", ["stdout", "-", "/dev/stdout"])
def test_stdout_is_written_through_a_duplicate_descriptor(name: str, capfd: pytest.CaptureFixture[str]) -> None:
    device = file_device(file_path=name)
    device.write([b"to stdout\n"])
    device.close()
    device.close()
    assert capfd.readouterr().out == "to stdout\n"
    os.fstat(1)  # the process's own stdout is still open


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (tests run as root): a disk that fills up."""
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def test_a_full_disk_records_only_whole_lines_and_says_how_many(small_tmpfs: Path) -> None:
    device = file_device(file_path=str(small_tmpfs / "audit.log"))
    line = b"x" * (30 * 1024 - 1) + b"\n"
    assert device.write([line, line, line]) == 2
    with pytest.raises(OSError, match=r"No space left|short write"):
        device.write([line])
    device.close()


# -- socket --------------------------------------------------------------------------------------


def socket_device(**options: str) -> SocketDevice:
    return SocketDevice.from_config(DeviceConfig("socket/", options))


@pytest.mark.parametrize("address", [
    "169.254.169.254:80", "169.254.1.1:514", "[fd00:ec2::254]:80", "[fe80::1]:514", "0.0.0.0:514", "224.0.0.1:514",
])
def test_audit_sockets_never_reach_metadata_link_local_or_unspecified_addresses(address: str) -> None:
    with pytest.raises(EgressDenied):
        socket_device(address=address)
    with pytest.raises(EgressDenied):
        socket_device(address=address, socket_type="udp")


def test_a_name_resolving_to_a_refused_address_is_refused_when_connecting() -> None:
    device = SocketDevice("localhost:9", "tcp", 1.0)
    device.policy = type(device.policy)(allow_loopback=False)
    with pytest.raises(EgressDenied, match="loopback"):
        device.open()


@pytest.mark.parametrize(("options", "message"), [
    ({}, "address"), ({"address": "nohost"}, "host:port"), ({"address": "h:99999"}, "port"),
    ({"address": "h:1", "socket_type": "sctp"}, "socket_type"), ({"address": "rel", "socket_type": "unix"}, "absolute"),
    ({"address": "h:1", "write_timeout": "0"}, "write_timeout"),
])
def test_bad_socket_options_are_refused(options: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        socket_device(**options)


def test_tcp_lines_arrive_in_order() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        device = socket_device(address=f"127.0.0.1:{server.getsockname()[1]}")
        assert device.write([b"one\n", b"two\n"]) == 2
        conn, _ = server.accept()
        device.close()
        with conn:
            assert _read_all(conn) == b"one\ntwo\n"


def test_udp_sends_one_datagram_per_line() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        device = socket_device(address=f"127.0.0.1:{server.getsockname()[1]}", socket_type="udp")
        assert device.write([b"one\n", b"two\n"]) == 2
        device.close()
        assert [server.recv(100), server.recv(100)] == [b"one\n", b"two\n"]


def test_unix_stream_lines_arrive(tmp_path: Path) -> None:
    path = str(tmp_path / "collector.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        device = socket_device(address=path, socket_type="unix")
        device.write([b"line\n"])
        conn, _ = server.accept()
        device.close()
        with conn:
            assert _read_all(conn) == b"line\n"


def test_a_peer_that_stops_reading_fails_the_write_after_write_timeout_and_frees_the_thread() -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        server.bind(("127.0.0.1", 0))
        server.listen()
        device = socket_device(address=f"127.0.0.1:{server.getsockname()[1]}", write_timeout="300ms")
        started = time.monotonic()
        with pytest.raises(OSError):
            fill_until_blocked(device)
        assert time.monotonic() - started < 10
        assert device._sock is None  # dropped: the next write reconnects on a line boundary


def fill_until_blocked(device: SocketDevice) -> None:
    """Write 64 KiB lines to a peer that never reads until a write fails (at most 200 of them)."""
    for _ in range(200):
        device.write([b"x" * 65535 + b"\n"])


def _read_all(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


# -- syslog ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def syslog_listener(tmp_path: Path) -> Iterator[tuple[str, list[bytes]]]:
    path = str(tmp_path / "log.sock")
    received: list[bytes] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(0.2)
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                received.append(server.recv(65536))

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    try:
        yield path, received
    finally:
        stop.set()
        thread.join(5)
        server.close()


def test_syslog_messages_carry_facility_tag_and_the_line(tmp_path: Path) -> None:
    with syslog_listener(tmp_path) as (path, received):
        device = SyslogDevice.from_config(DeviceConfig("syslog/", {"address": path, "facility": "LOCAL0",
                                                                    "tag": "vault-audit"}))
        assert device.write([b'{"type":"request"}\n', b'{"type":"response"}\n']) == 2
        device.close()
        deadline = time.monotonic() + 5
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    # LOCAL0 (16) * 8 + info (6) = 134
    assert received == [b'<134>vault-audit: {"type":"request"}', b'<134>vault-audit: {"type":"response"}']


def test_syslog_without_a_listener_fails_loudly(tmp_path: Path) -> None:
    device = SyslogDevice.from_config(DeviceConfig("syslog/", {"address": str(tmp_path / "nobody.sock")}))
    with pytest.raises(OSError):
        device.write([b"line\n"])


@pytest.mark.parametrize(("options", "message"), [
    ({"facility": "kernel-of-truth"}, "facility"), ({"tag": "two words"}, "tag"), ({"tag": "a:b"}, "tag"),
    ({"address": "dev/log"}, "absolute"), ({"port": "514"}, "port"),
])
def test_bad_syslog_options_are_refused(options: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        SyslogDevice.from_config(DeviceConfig("syslog/", options))
