"""The ``file`` audit device: appends lines to a file (or stdout), reopened on SIGHUP for rotation.

Options: ``file_path`` (or ``path``) and ``mode``.

* ``file_path``: an absolute path; ``stdout`` or ``-`` for the server's standard output,
  ``/dev/stdout`` and ``/dev/stderr`` for those streams. Refused: relative paths,
  anything under ``/proc``, ``/sys`` or ``/dev`` (checked on the path as given and as
  resolved through symlinks), and ``discard`` (a device that records nothing would
  make auditing look enabled while it is not).
* ``mode``: octal permissions the file is given (default ``0600``; ``0000`` leaves an
  existing file's mode alone). Never executable, setuid, setgid or sticky: an audit
  file an attacker can fill with chosen text must not become a program
  (SECURITY.md, CVE-2025-6000).

Every batch goes out in one ``write`` on a descriptor opened with ``O_APPEND``, so
several worker processes can append to one file without tearing each other's lines.
There is no ``fsync`` per line (that caps a server near 3k requests/s); the broker
calls :meth:`FileDevice.sync` after each checkpoint.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence

from strongroom.errors import InvalidRequest
from strongroom.sdk.audit import AuditDevice, DeviceConfig, check_known_options

OPTIONS = ("file_path", "path", "mode")
DEFAULT_MODE = 0o600
#: Trees no audit file may live in, whatever a symlink says: kernel interfaces and devices.
FORBIDDEN_TREES = ("/proc", "/sys", "/dev")
#: Standard streams by the names Vault (and operators) use for them.
STREAMS = {"stdout": 1, "-": 1, "/dev/stdout": 1, "/dev/stderr": 2}


def _under(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree + "/")


def check_path(raw: str) -> str:
    """The file path if it is allowed (see the module docstring); InvalidRequest otherwise."""
    if raw == "discard":
        raise InvalidRequest("file_path 'discard' is not supported: an audit device must record")
    if "\x00" in raw or not os.path.isabs(raw):
        raise InvalidRequest("file_path must be an absolute path, 'stdout' or '-'")
    normal = os.path.normpath(raw)
    resolved = os.path.realpath(raw)
    for tree in FORBIDDEN_TREES:
        if _under(normal, tree) or _under(resolved, tree):
            raise InvalidRequest(f"file_path must not be under {tree}")
    return normal


def parse_mode(raw: str | None) -> int:
    """The file mode from its octal text; refuses execute, setuid, setgid and sticky bits."""
    if raw is None or raw.strip() == "":
        return DEFAULT_MODE
    try:
        mode = int(raw.strip(), 8)
    except ValueError:
        raise InvalidRequest("mode must be an octal number such as 0600") from None
    if mode < 0 or mode > 0o7777:
        raise InvalidRequest("mode must be an octal number such as 0600")
    if mode & 0o7111:
        raise InvalidRequest("mode must not make the audit file executable (no x, setuid, setgid or sticky bits)")
    return mode


class FileDevice(AuditDevice):
    """Appends to ``target`` (an absolute path) or writes to the standard stream ``stream_fd``."""

    def __init__(self, target: str, mode: int, stream_fd: int | None = None) -> None:
        self.target = target
        self.mode = mode
        self.stream_fd = stream_fd
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"FileDevice({self.target!r})"

    @staticmethod
    def from_config(config: DeviceConfig) -> FileDevice:
        check_known_options(config, OPTIONS, "file")
        raw = config.options.get("file_path") or config.options.get("path") or ""
        if not raw:
            raise InvalidRequest("option 'file_path' is required for a file audit device")
        mode = parse_mode(config.options.get("mode"))
        if raw in STREAMS:
            return FileDevice(raw, mode, STREAMS[raw])
        return FileDevice(check_path(raw), mode)

    def open(self) -> None:
        if self._fd is not None:
            return
        if self.stream_fd is not None:
            # A duplicate, so closing the device never closes the process's own stream.
            self._fd = os.dup(self.stream_fd)
            return
        # No O_NONBLOCK: opening a FIFO waits for a reader. That wait happens on the
        # device's own thread, under the broker's deadline, never on the event loop.
        fd = os.open(self.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, self.mode or DEFAULT_MODE)
        try:
            info = os.fstat(fd)
            if self.mode and stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) != self.mode:
                os.fchmod(fd, self.mode)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd

    def write(self, lines: Sequence[bytes]) -> int:
        self.open()
        fd = self._fd
        assert fd is not None
        data = b"".join(lines)
        try:
            written = os.write(fd, data)
        except OSError:
            # Start afresh next time: a FIFO whose reader left needs a new open.
            self.close()
            raise
        if written == len(data):
            return len(lines)
        return self._short_write(fd, lines, written)

    def _short_write(self, fd: int, lines: Sequence[bytes], written: int) -> int:
        """A full disk wrote only part of the batch: count the whole lines, end the torn one."""
        complete = 0
        total = 0
        for line in lines:
            if total + len(line) > written:
                break
            total += len(line)
            complete += 1
        if total != written:
            # End the fragment so the next append (from any process) starts on its own line.
            try:
                os.write(fd, b"\n")
            except OSError:
                self.close()
        if complete == 0:
            raise OSError(errno.ENOSPC, "short write: no audit line was recorded in full")
        return complete

    def sync(self) -> None:
        if self._fd is None or self.stream_fd is not None:
            return
        try:
            os.fsync(self._fd)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EROFS):  # pipes and special files cannot sync
                raise

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def build(config: DeviceConfig) -> AuditDevice:
    """The registry entry for ``type=file``."""
    return FileDevice.from_config(config)
