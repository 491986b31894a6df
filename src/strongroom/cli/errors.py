"""Errors the CLI reports as one line on stderr, with Vault's exit codes.

Vault's CLI documents its exit codes: 1 for local errors (bad flags, failed
validation, wrong number of arguments) and 2 for remote errors (the API
answered with an error, the server could not be reached, TLS failed). A few
commands override this (``status`` answers 2 when sealed), as in Vault.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

LOCAL_ERROR = 1
REMOTE_ERROR = 2


class CliError(Exception):
    """An expected failure: print one line (no traceback) and exit with ``exit_code``.

    ``action`` says what was being done ("reading secret/foo"); the line then
    reads ``Error reading secret/foo: <message>`` like Vault's. An empty
    action prints the message alone (``No value found at secret/data/foo``).
    """

    exit_code = LOCAL_ERROR

    def __init__(self, message: str, *, action: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        if exit_code is not None:
            self.exit_code = exit_code

    def line(self) -> str:
        """The one line printed on stderr (an empty ``action`` prints the message alone)."""
        if self.action is None:
            return f"Error: {self.message}"
        return f"Error {self.action}: {self.message}" if self.action else self.message


@contextmanager
def doing(action: str) -> Iterator[None]:
    """Label CLI errors raised inside the block with ``action`` (the innermost label wins)."""
    try:
        yield
    except CliError as exc:
        if exc.action is None:
            exc.action = action
        raise


class LocalError(CliError):
    """The command line or a local file is wrong (exit 1)."""

    exit_code = LOCAL_ERROR


class RemoteError(CliError):
    """The server could not be reached, or answered with an error (exit 2)."""

    exit_code = REMOTE_ERROR


class ApiError(RemoteError):
    """The server answered with an error status; ``errors`` is its ``errors`` array."""

    def __init__(self, status: int, errors: list[str], method: str, path: str) -> None:
        self.status = status
        self.errors = errors
        self.method = method
        self.path = path
        detail = "; ".join(errors) if errors else _STATUS_TEXT.get(status, "request failed")
        super().__init__(f"{detail} (HTTP {status})")


_STATUS_TEXT = {
    400: "invalid request",
    403: "permission denied",
    404: "not found",
    405: "unsupported operation",
    429: "rate limited or standby node",
    500: "internal server error",
    501: "Vault is not initialized",
    503: "Vault is sealed",
}
