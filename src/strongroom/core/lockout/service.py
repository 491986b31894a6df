"""The login lockout the core applies around every login of every auth method.

For a request to an auth mount's unauthenticated path, :meth:`LoginLockout.guard`:

1. asks the backend who the login is for (``LogicalBackend.login_principal``);
   no principal, or lockout disabled for the mount: the login runs untouched;
2. reads the principal's counter (one point read);
3. not locked: runs the login; a refusal with a client error (400 or 403)
   counts one failure, a success deletes the counter if there is one (a clean
   login writes nothing);
4. locked: runs the login with ``Request.login_locked`` set, so the backend
   refuses it exactly as it refuses a wrong password (same error, same hash
   work) and the caller cannot tell a locked account from a bad guess. Nothing
   is counted while locked, so the lock ends ``lockout_duration`` after the
   failure that reached the threshold (Vault's rule).

Steps 2-3 for one principal run one at a time within a process (a per-key
lock), so concurrent guesses in one worker are each judged against the
counter the previous one left. Across workers the counter itself is exact
(conditional writes), but guesses already past step 2 when the threshold is
reached still run: at most ``threshold + workers - 1`` verifications per
lockout window. The core never lets a login of a locked principal through even
if a backend ignored the flag (see ``Core._serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from strongroom.core.lockout.keys import MAX_PRINCIPAL_CHARS, fold_principal
from strongroom.core.lockout.settings import LockoutDefaults, LockoutSettings
from strongroom.core.lockout.store import ACCESSOR_PATTERN, CounterStore
from strongroom.core.mounts import MountEntry
from strongroom.errors import StrongroomError
from strongroom.sdk.logical import LogicalBackend, Request, Response
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import Clock, RandomBytes

log = logging.getLogger("strongroom.lockout")

Serve = Callable[[], Awaitable[Response | None]]
#: Refusals that count as a failed login: bad input or bad credentials, never a server fault.
COUNTED_STATUSES = frozenset({400, 403})


@dataclass(frozen=True, slots=True)
class LockedMount:
    """The principals currently locked on one auth mount (for ``sys/locked-users``)."""

    accessor: str
    principals: tuple[str, ...]


class _KeyLocks:
    """One asyncio lock per counter key, dropped as soon as nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class LoginLockout:
    """Failure counting and lockout for logins (see the module docstring)."""

    def __init__(
        self, storage: StorageBackend, *, clock: Clock, random_bytes: RandomBytes, defaults: LockoutDefaults
    ) -> None:
        self.store = CounterStore(storage, random_bytes)
        self.clock = clock
        self.defaults = defaults
        self._locks = _KeyLocks()

    def settings_for(self, mount: MountEntry) -> LockoutSettings:
        return self.defaults.resolve(mount.type, mount.config.user_lockout_config)

    async def guard(self, mount: MountEntry, backend: LogicalBackend, req: Request, serve: Serve) -> Response | None:
        """Run the login ``serve`` under the mount's lockout rules."""
        principal = backend.login_principal(req)
        if principal is None:
            return await serve()
        folded = fold_principal(principal)
        settings = self.settings_for(mount)
        if not folded or len(folded) > MAX_PRINCIPAL_CHARS or settings.disabled:
            return await serve()
        path = self.store.path(mount.accessor, (await self.store.keys()).name(mount.accessor, folded))
        async with self._locks.hold(path):
            counter = await self.store.read(path)
            if counter is None or not counter.locked(settings, self.clock()):
                try:
                    response = await serve()
                except StrongroomError as exc:
                    if exc.status in COUNTED_STATUSES:
                        await self.store.record_failure(path, folded, settings, self.clock())
                    raise
                if counter is not None and response is not None and response.auth is not None:
                    await self.store.clear(path)
                return response
        # Locked: the backend does the work of a wrong guess and answers like one. Outside the
        # per-key lock, since nothing is counted and the answer is already decided.
        req.login_locked = True
        return await serve()

    async def locked(self, mounts: Mapping[str, MountEntry], accessor: str | None = None) -> list[LockedMount]:
        """Principals locked right now, per auth mount (``mounts`` by accessor), most first.

        Counters that can no longer lock anybody (stale, or of a mount that is gone) are
        deleted on the way, so abandoned names do not pile up in storage.
        """
        now = self.clock()
        result: list[LockedMount] = []
        for acc in await self.store.accessors():
            if accessor is not None and acc != accessor:
                continue
            mount = mounts.get(acc)
            settings = self.settings_for(mount) if mount is not None else None
            locked: list[str] = []
            for stored in await self.store.counters(acc):
                if settings is not None and stored.counter.locked(settings, now):
                    locked.append(stored.counter.principal)
                elif settings is None or stored.counter.stale(settings, now):
                    await self.store.discard(stored)
            if locked:
                result.append(LockedMount(acc, tuple(sorted(locked))))
        result.sort(key=lambda m: (-len(m.principals), m.accessor))
        return result

    async def unlock(self, accessor: str, identifier: str) -> None:
        """Forget the failures of ``identifier`` (any spelling of it) on the mount ``accessor``."""
        folded = fold_principal(identifier)
        if not ACCESSOR_PATTERN.fullmatch(accessor) or not folded or len(folded) > MAX_PRINCIPAL_CHARS:
            return
        path = self.store.path(accessor, (await self.store.keys()).name(accessor, folded))
        async with self._locks.hold(path):
            await self.store.clear(path)
        log.info("lockout counter cleared by an operator on mount %s", accessor)
