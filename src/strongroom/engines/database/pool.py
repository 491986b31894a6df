"""A small connection pool, one per configured connection and server process.

At most ``size`` connections exist at once (``max_open_connections``): a caller
beyond that waits for one to come back. A connection returned after an error is
closed rather than reused (its session state is unknown). Connections are
checked before reuse (a database that restarted leaves dead ones behind; they are
closed and a new one opened) and closed after ``max_idle`` seconds idle by a
timer (or :meth:`Pool.reap_idle`), so a quiet engine holds nothing open on the
database. Idle time is measured on the engine's clock. ``close`` (config change, ``reset``, unmount) closes the
idle ones at once and every busy one as it comes back.

A pool belongs to one event loop: used from another (each ``asyncio.run`` in
tests is a new loop) it forgets its idle connections, closing them with the
synchronous ``discard``, because an async connection cannot be driven from a loop
it was not made on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Generic, TypeVar

C = TypeVar("C")


class Pool(Generic[C]):
    def __init__(self, open_connection: Callable[[], Awaitable[C]], close_connection: Callable[[C], Awaitable[None]],
                 discard: Callable[[C], None], alive: Callable[[C], Awaitable[bool]], *, size: int,
                 max_idle: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._open = open_connection
        self._close = close_connection
        self._discard = discard
        self._alive = alive
        self.size = max(1, size)
        self.max_idle = max_idle
        self._clock = clock
        self._idle: list[tuple[C, float]] = []
        self._busy = 0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._reaper: asyncio.TimerHandle | None = None

    @property
    def open_count(self) -> int:
        """Connections that exist now (idle and in use)."""
        return len(self._idle) + self._busy

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    def _bind(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._slots is None:
            self._forget_all()
            self._loop, self._slots, self._busy = loop, asyncio.Semaphore(self.size), 0
        return self._slots

    def _forget_all(self) -> None:
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            with suppress(Exception):
                self._discard(conn)
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[C]:
        """A connection for the duration of the block; errors from opening propagate."""
        if self._closed:
            raise RuntimeError("connection pool is closed")
        slots = self._bind()
        async with slots:
            conn = await self._take()
            self._busy += 1
            ok = False
            try:
                yield conn
                ok = True
            finally:
                self._busy -= 1
                if ok and not self._closed:
                    self._idle.append((conn, self._clock()))
                    self._arm_reaper()
                else:
                    await self._close_quietly(conn)

    async def _take(self) -> C:
        while self._idle:
            conn, since = self._idle.pop()
            if self._clock() - since < self.max_idle and await self._alive(conn):
                return conn
            await self._close_quietly(conn)
        return await self._open()

    async def _close_quietly(self, conn: C) -> None:
        with suppress(Exception):
            await self._close(conn)

    def _arm_reaper(self) -> None:
        if self._reaper is None and self._loop is not None:
            self._reaper = self._loop.call_later(self.max_idle, self._reap)

    def _reap(self) -> None:
        self._reaper = None
        now = self._clock()
        stale = [conn for conn, since in self._idle if now - since >= self.max_idle]
        self._idle = [(conn, since) for conn, since in self._idle if now - since < self.max_idle]
        for conn in stale:
            self._spawn_close(conn)
        if self._idle:
            self._arm_reaper()

    def _spawn_close(self, conn: C) -> None:
        assert self._loop is not None
        task = self._loop.create_task(self._close_quietly(conn))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def reap_idle(self) -> int:
        """Close idle connections past ``max_idle`` now (what the timer does); answers how many."""
        now = self._clock()
        stale = [conn for conn, since in self._idle if now - since >= self.max_idle]
        self._idle = [(conn, since) for conn, since in self._idle if now - since < self.max_idle]
        for conn in stale:
            await self._close_quietly(conn)
        return len(stale)

    async def close(self) -> None:
        """Close idle connections now; busy ones close when they come back. The pool takes no new work."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        idle, self._idle = self._idle, []
        same_loop = self._loop is asyncio.get_running_loop()
        for conn, _ in idle:
            if same_loop:
                await self._close_quietly(conn)
            else:
                with suppress(Exception):
                    self._discard(conn)


#: Close tasks started by the idle timer, kept referenced until they finish.
_closing: set[asyncio.Task[None]] = set()
