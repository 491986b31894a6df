"""One exception tree for the whole server.

Every error that can reach a client carries the HTTP status it maps to, so the
HTTP edge translates errors in exactly one place. Messages must never contain a
secret value: they are shown to clients and written to logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class StrongroomError(Exception):
    """Base of every error the server raises on purpose."""

    status: int = 500
    #: Response headers to send with this error (rate-limit headers, Retry-After); never a secret.
    headers: Mapping[str, str] = MappingProxyType({})

    def __init__(self, message: str = "internal error", *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors if errors is not None else [message]


class InvalidRequest(StrongroomError):
    """The request is malformed or its parameters are invalid (400)."""

    status = 400


class PermissionDenied(StrongroomError):
    """Missing, invalid or insufficient credentials (403). Wording matches Vault."""

    status = 403

    def __init__(self, message: str = "permission denied") -> None:
        super().__init__(message)


class NotFound(StrongroomError):
    """Nothing at this path (404)."""

    status = 404

    def __init__(self, message: str = "") -> None:
        super().__init__(message, errors=[message] if message else [])


class UnsupportedOperation(StrongroomError):
    """The path exists but not for this operation (405)."""

    status = 405

    def __init__(self, message: str = "unsupported operation") -> None:
        super().__init__(message)


class CheckAndSetMismatch(InvalidRequest):
    """A write whose check-and-set version is stale (400, Vault's wording)."""

    def __init__(self) -> None:
        super().__init__("check-and-set parameter did not match the current version")


class PayloadTooLarge(StrongroomError):
    """The request body exceeds the listener's max_request_size (413)."""

    status = 413


class RateLimited(StrongroomError):
    """A quota or lockout refused the request (429).

    ``headers`` go out with the answer (``Retry-After``, ``X-Ratelimit-*``); they never hold a secret.
    """

    status = 429

    def __init__(self, message: str = "rate limit quota exceeded", *,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = dict(headers or {})


class InternalError(StrongroomError):
    """Something failed inside the server; details go to the log, not the client (500)."""

    status = 500


class NotInitialized(StrongroomError):
    """The server has not been initialised yet (501)."""

    status = 501

    def __init__(self, message: str = "Vault is not initialized") -> None:
        super().__init__(message)


class AlreadyInitialized(InvalidRequest):
    """sys/init on an initialised server (400, Vault's wording)."""

    def __init__(self) -> None:
        super().__init__("Vault is already initialized")


class Sealed(StrongroomError):
    """The barrier is sealed; nothing behind it can be read or written (503)."""

    status = 503

    def __init__(self, message: str = "Vault is sealed") -> None:
        super().__init__(message)


class StorageError(InternalError):
    """The storage backend failed. The message names the operation, never the value."""


class StorageConflict(InternalError):
    """A conditional write found that another writer changed an entry since it was read.

    Nothing of the transaction was applied. Callers re-read and retry; it only
    reaches a client (as a 500) when retries run out. The message names no key.
    """

    def __init__(self, message: str = "storage conflict: an entry changed since it was read") -> None:
        super().__init__(message)


class DecryptionFailed(InternalError):
    """One opaque error for every failed decryption, whatever the cause (no oracle)."""

    def __init__(self) -> None:
        super().__init__("failed to decrypt an entry")


class ConfigError(StrongroomError):
    """The configuration file is invalid; the message names file, line and key."""

    status = 500
