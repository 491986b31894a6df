"""What KV v1 and v2 share: secret path rules, Vault's time and duration text, the entry codec, key locks.

Nothing here ever puts a secret value into an exception message: errors name the
field or the rule that failed, never the input (SECURITY.md, CVE-2025-4166).
"""

from __future__ import annotations

import asyncio
import datetime
import functools
from typing import Any

import orjson

from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import Clock

_NANOS_PER_SECOND = 1_000_000_000


def secret_path(raw: Any) -> str:
    """The storage-safe form of a secret's path, or 400.

    A secret path is non-empty, has no leading or trailing '/', and no empty
    segment: each of those would make the storage key ambiguous for ``list``.
    The message never repeats the path (it may be attacker-shaped and long).
    """
    if not isinstance(raw, str) or raw == "":
        raise InvalidRequest("missing path")
    if raw.startswith("/") or raw.endswith("/") or "//" in raw:
        raise InvalidRequest("invalid path: a secret path has no leading, trailing or doubled '/'")
    return raw


def is_secret_path(raw: Any) -> bool:
    """True when :func:`secret_path` would accept ``raw``."""
    return lookup_path(raw) is not None


def lookup_path(raw: Any) -> str | None:
    """``raw`` as a secret path, or None when it is malformed.

    For reads and deletes: no secret can live at a malformed path, so those
    answer "not found" (404) or "nothing to do" (204) rather than 400.
    """
    try:
        return secret_path(raw)
    except InvalidRequest:
        return None


def folder_prefix(raw: Any) -> str:
    """The folder a LIST or SCAN addresses: ``""`` for the root, else ``"a/b/"``.

    Like Vault, a folder may be named with or without its trailing '/'.
    """
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str):
        raise InvalidRequest("invalid path")
    return secret_path(raw.removesuffix("/")) + "/"


def now_ns(clock: Clock) -> int:
    """The clock's reading in integer nanoseconds, kept to the microsecond.

    The injected clock is a float of seconds; at today's epoch a double resolves
    about 0.24 µs, so digits below the microsecond would be rounding noise.
    """
    return round(clock() * 1_000_000) * 1000


def format_time(ns: int | None) -> str:
    """Go's ``time.RFC3339Nano`` in UTC, as Vault sends it: ``2018-03-22T02:24:06.945319214Z``.

    Trailing zeros of the fraction are dropped (and the '.' when nothing is left),
    exactly like Go. ``None`` (no time set) becomes ``""``, as in Vault.
    """
    if ns is None:
        return ""
    seconds, fraction = divmod(ns, _NANOS_PER_SECOND)
    stamp = _whole_seconds(seconds)
    if fraction:
        stamp += "." + f"{fraction:09d}".rstrip("0")
    return stamp + "Z"


@functools.lru_cache(maxsize=4096)
def _whole_seconds(seconds: int) -> str:
    # Remembered: a secret's timestamps are formatted on every read, and writes share their second.
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def format_duration(seconds: int) -> str:
    """Go's ``time.Duration.String()`` for whole seconds: ``0s``, ``45s``, ``2m0s``, ``3h25m19s``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def encode_entry(value: Any) -> bytes:
    """JSON bytes for a storage entry. Input the codec cannot represent is a 400 that names no value."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError subclasses TypeError
        raise InvalidRequest("the secret data is not representable as JSON") from None


def decode_entry(raw: bytes) -> Any:
    """Parse an entry this engine wrote. Storage sits behind the barrier, so a failure is internal."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InternalError("a kv storage entry is not valid JSON") from None


def request_storage(req: Request, fallback: StorageBackend) -> StorageBackend:
    """The mount's storage view: the request's when routed, else the one given at setup."""
    return req.storage if req.storage is not None else fallback


def pagination(fd: FieldData) -> tuple[str, int]:
    """``after`` and ``limit`` for a paginated LIST or SCAN; a non-positive limit means "no limit"."""
    after = fd.get("after") or ""
    limit = fd.get("limit") or 0
    return after, max(limit, 0)


class KeyLocks:
    """A fixed set of asyncio locks striped by secret path.

    Serialises read-modify-write cycles on one secret inside this process (the
    same job Vault's ``locksutil`` does), so writers here never conflict with each
    other. Writers in other worker processes are ordered by the conditional
    commit each cycle makes (see docs/kv.md, "Concurrency"); the lock only saves
    them pointless retries. Locks are created on first use so they bind to the
    event loop that serves requests.

    Each stripe also counts its releases (:meth:`releases`): a writer that read a
    secret before taking the lock learns from an unchanged count that no writer of
    this process finished a cycle on that stripe meanwhile.
    """

    def __init__(self, stripes: int = 256) -> None:
        self._stripes = stripes
        self._locks: list[_Stripe] | None = None

    def for_key(self, key: str) -> _Stripe:
        if self._locks is None:
            self._locks = [_Stripe() for _ in range(self._stripes)]
        return self._locks[hash(key) % self._stripes]

    def releases(self, key: str) -> int:
        """How many times the stripe of ``key`` has been released so far."""
        return 0 if self._locks is None else self._locks[hash(key) % self._stripes].releases


class _Stripe:
    """An ``asyncio.Lock`` (used with ``async with``) that counts its releases."""

    __slots__ = ("_lock", "releases")

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.releases = 0

    def locked(self) -> bool:
        return self._lock.locked()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *_exc: object) -> None:
        self.releases += 1
        self._lock.release()
