"""One device's writer: a dedicated thread that chains, batches and writes entries.

The event loop never touches the device. :meth:`Sink.submit` queues an entry
body and returns a future that resolves to whether the entry was recorded; the
thread takes everything queued at once (group commit: one ``write`` per batch,
no ``fsync`` per line), renders the lines through the device's :class:`Chain`,
writes them, and resolves the futures through ``call_soon_threadsafe``.

A device that blocks (a FIFO without a reader, a peer that stopped reading)
blocks only this thread. The broker stops waiting at the deadline and marks
what it gave up on as abandoned: entries still queued are dropped, never
written late (the batch already in the blocked call is written if the device
comes back; its requests were refused all the same). While the thread has been
stuck in one device call for longer than the deadline the sink is *stalled*:
new entries fail at once rather than queue behind it. When the device recovers
the thread comes back and new entries flow again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from strongroom.core.audit.chain import Chain
from strongroom.sdk.audit import AuditDevice

log = logging.getLogger("strongroom.audit")

#: Observes (device path, seconds from submit to recorded) for every entry recorded.
LatencyObserver = Callable[[str, float], None]


@dataclass(eq=False, slots=True)
class Ticket:
    body: bytes
    future: asyncio.Future[bool]
    loop: asyncio.AbstractEventLoop
    submitted: float
    claimed: bool = False
    abandoned: bool = False


@dataclass(slots=True)
class _Commands:
    reopen: bool = False
    #: How many queued entries came before the reopen request (they go to the old file).
    reopen_at: int = 0
    close: bool = False
    closed: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(default_factory=list)


def _settle(future: asyncio.Future[bool], ok: bool) -> None:
    if not future.done():
        future.set_result(ok)


def _finish(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def _settle_all(results: list[tuple[asyncio.Future[bool], bool]]) -> None:
    for future, ok in results:
        _settle(future, ok)


class Sink:
    """Feeds one device from one process. Construct, then :meth:`start`."""

    def __init__(self, path: str, device: AuditDevice, chain: Chain, deadline: float,
                 on_latency: LatencyObserver | None = None) -> None:
        self.path = path
        self.device = device
        self.chain = chain
        self.deadline = deadline
        self._on_latency = on_latency
        self._cond = threading.Condition()
        self._queue: list[Ticket] = []
        #: Entries submitted during the current turn of the event loop (the loop's side only).
        self._outbox: list[Ticket] = []
        self._flush_scheduled = False
        self._commands = _Commands()
        self._stopped = False
        self._busy_since: float | None = None
        #: For the lines of the last render: True for an entry body, False for a checkpoint.
        self._layout: list[bool] = []
        self._thread = threading.Thread(target=self._run, name=f"audit-{path.rstrip('/')}", daemon=True)

    def __repr__(self) -> str:
        return f"Sink({self.path!r}, {self.device!r})"

    def start(self) -> None:
        self._thread.start()

    # -- the event loop's side ------------------------------------------------------------

    def stalled(self) -> bool:
        """Whether the thread has been stuck in one device call for longer than the deadline."""
        busy = self._busy_since
        return busy is not None and time.monotonic() - busy > self.deadline

    def submit(self, body: bytes) -> Ticket:
        """Queue ``body`` (a JSON object, no newline); its future says whether it was recorded.

        Called from one event loop. Entries submitted during one turn of the loop reach
        the thread together (one wake-up per batch, not per entry).
        """
        loop = asyncio.get_running_loop()
        ticket = Ticket(body, loop.create_future(), loop, time.monotonic())
        if self._stopped or self.stalled():
            ticket.future.set_result(False)
            return ticket
        self._outbox.append(ticket)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return ticket

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._outbox = self._outbox, []
        if not batch:
            return
        with self._cond:
            self._queue.extend(batch)
            self._cond.notify()

    def abandon(self, ticket: Ticket) -> None:
        """The broker stopped waiting: drop the entry if the thread has not taken it yet."""
        with self._cond:
            if not ticket.claimed:
                ticket.abandoned = True
        _settle(ticket.future, False)

    def reopen(self) -> None:
        """Ask the thread to write a ``rotate`` checkpoint and reopen the device (SIGHUP).

        Called from the event loop: entries submitted before go to the old file, later ones to the new.
        """
        self._flush()
        with self._cond:
            if not self._commands.reopen:
                self._commands.reopen = True
                self._commands.reopen_at = len(self._queue)
            self._cond.notify()

    def close(self) -> asyncio.Future[None] | None:
        """Ask the thread to write a ``close`` checkpoint, close the device and end.

        Returns a future that resolves when that is done (``None`` outside an event loop);
        entries submitted afterwards fail.
        """
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        done: asyncio.Future[None] | None = loop.create_future() if loop is not None else None
        if loop is not None:
            self._flush()  # what was submitted before the close is written before the close checkpoint
        with self._cond:
            self._stopped = True
            self._commands.close = True
            if loop is not None and done is not None:
                self._commands.closed.append((loop, done))
            if not self._thread.is_alive() and not self._thread.ident:
                # Never started: nothing to flush.
                if done is not None:
                    done.set_result(None)
                return done
            self._cond.notify()
        return done

    # -- the thread's side -------------------------------------------------------------------

    def _take(self) -> tuple[list[Ticket], bool, bool, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]]:
        with self._cond:
            while not self._queue and not self._commands.reopen and not self._commands.close:
                self._cond.wait()
            commands = self._commands
            self._commands = _Commands()
            if commands.reopen and not commands.close:
                # Entries queued after the reopen request belong in the new file: next turn.
                taken, self._queue = self._queue[:commands.reopen_at], self._queue[commands.reopen_at:]
            else:
                taken, self._queue = self._queue, []
            batch = [t for t in taken if not t.abandoned]
            for ticket in batch:
                ticket.claimed = True
            return batch, commands.reopen, commands.close, commands.closed

    def _run(self) -> None:
        while True:
            batch, reopen, close, waiters = self._take()
            closing = ""
            if (reopen or close) and (self.chain.opened or batch):
                closing = "close" if close else "rotate"
            if batch or closing:
                self._write(batch, closing)
            if close:
                self._device_call(self.device.close)
                for loop, done in waiters:
                    with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
                        loop.call_soon_threadsafe(_finish, done)
                return
            if reopen:
                self._device_call(self.device.reopen)

    def _write(self, batch: list[Ticket], closing: str) -> None:
        bodies = [t.body for t in batch]
        recorded = self._attempt(bodies, closing)
        if recorded < 0:
            # One retry when the failure was quick: a stale connection or a reader that left
            # is often fixed by the reopen the device does on its next call.
            recorded = self._attempt(bodies, closing)
        if closing and recorded > 0:
            self._device_call(self.device.sync)
        # Lines are [open checkpoint], the bodies in order with periodic checkpoints among
        # them, [closing checkpoint]: the first ``made`` bodies are the ones recorded.
        made = self._bodies_recorded(recorded)
        now = time.monotonic()
        results: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool]]] = {}
        for index, ticket in enumerate(batch):
            ok = index < made
            if ok and self._on_latency is not None:
                self._on_latency(self.path, now - ticket.submitted)
            results.setdefault(ticket.loop, []).append((ticket.future, ok))
        for loop, items in results.items():
            with contextlib.suppress(RuntimeError):  # the loop is gone (shutting down): nobody waits
                loop.call_soon_threadsafe(_settle_all, items)

    def _attempt(self, bodies: list[bytes], closing: str) -> int:
        """Render and write; the number of lines recorded, or -1 after a quick failure, 0 after a slow one."""
        started = time.monotonic()
        lines = self.chain.render(bodies, closing=closing)
        self._layout = self.chain.last_layout()
        try:
            recorded = self._device_call(lambda: self.device.write(lines), raise_errors=True)
        except Exception as exc:
            failure = _describe(exc)
        else:
            self.chain.commit(recorded)
            return recorded
        self.chain.commit(0)
        log.error("audit device %s could not record %d line(s): %s", self.path, len(lines), failure)
        return -1 if time.monotonic() - started < self.deadline / 2 else 0

    def _bodies_recorded(self, recorded: int) -> int:
        return sum(1 for is_body in self._layout[:max(recorded, 0)] if is_body)

    def _device_call(self, call: Callable[[], object], *, raise_errors: bool = False) -> int:
        self._busy_since = time.monotonic()
        try:
            result = call()
        except Exception as exc:
            if raise_errors:
                raise
            failure = _describe(exc)
        else:
            return result if isinstance(result, int) else 0
        finally:
            self._busy_since = None
        log.error("audit device %s: %s", self.path, failure)
        return 0


def _describe(exc: BaseException) -> str:
    """An error for the log: its class and OS error text, never data (a device error has none)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__
