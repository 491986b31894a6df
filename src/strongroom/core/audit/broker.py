"""The audit broker: every routed request and answer is recorded by the enabled devices, or refused.

Contract (``core.hooks.AuditBroker``): :meth:`Auditor.log_request` returns once
at least one enabled device recorded the request entry, and raises
:class:`InternalError` (500, "audit: no device could record the request") when
none did within its deadline; :meth:`Auditor.log_response` the same for the
answer, before it is sent. With no device enabled both return at once.

Per process state, rebuilt from the barrier by :meth:`load` (after unseal and
whenever the storage generation changes, so a device enabled through one worker
is used by every worker from its next request) and dropped by :meth:`unload`
(before seal). Each enabled device gets a :class:`Sink` (a writer thread) and a
:class:`Chain` with a fresh random id in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from strongroom.core.audit.chain import Chain, key_id, public_key_text
from strongroom.core.audit.format import RequestPart, request_entry, request_part, response_entry, rfc3339
from strongroom.core.audit.hashing import Renderer
from strongroom.core.audit.options import CommonOptions, split_options
from strongroom.core.audit.sink import LatencyObserver, Sink, Ticket
from strongroom.core.audit.table import AuditTable, DeviceEntry, normalize_path
from strongroom.core.core import Outcome
from strongroom.core.hooks import AuditEvent
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.audit import AuditDevice, AuditDeviceFactory, DeviceConfig
from strongroom.sdk.logical import Operation, Response
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import Clock, RandomBytes

log = logging.getLogger("strongroom.audit")

#: Request parts kept for answers still to come; more means answers that never came (bounded).
MAX_PENDING_PARTS = 10_000
#: Called with (device path, short reason) for every entry a device failed to record.
FailureObserver = Callable[[str, str], None]


def response_status(response: Response | None, operation: Operation) -> int:
    """The HTTP status the client receives for ``response`` (the core's rule, decided in ``core.Outcome``)."""
    return Outcome(response, "", operation=operation).status


@dataclass
class ActiveDevice:
    entry: DeviceEntry
    options: CommonOptions
    renderer: Renderer
    sink: Sink


class Auditor:
    """The broker of one process. ``storage`` is the barrier; ``devices`` maps type names to factories."""

    def __init__(
        self,
        storage: StorageBackend,
        devices: Mapping[str, AuditDeviceFactory],
        *,
        clock: Clock,
        random_bytes: RandomBytes,
        on_failure: FailureObserver | None = None,
        on_latency: LatencyObserver | None = None,
    ) -> None:
        self.table = AuditTable(storage, random_bytes)
        self.factories = dict(devices)
        self.clock = clock
        self.random_bytes = random_bytes
        self.on_failure = on_failure
        self.on_latency = on_latency
        self._active: dict[str, ActiveDevice] = {}
        #: True while the stored table lists devices: requests must then be recorded, even if
        #: no device could be started in this process (fail closed, never open).
        self._enabled = False
        self._signer: Ed25519PrivateKey | None = None
        self._lock = asyncio.Lock()
        #: id(event) -> its request part, between log_request and log_response.
        self._parts: dict[int, RequestPart] = {}

    def __repr__(self) -> str:
        return f"Auditor({sorted(self._active)!r})"

    # -- the request path ---------------------------------------------------------------

    async def log_request(self, event: AuditEvent) -> None:
        if not self._enabled:
            return
        part = request_part(event)
        self._remember(event, part)
        try:
            await self._record(request_entry(event, self.clock(), part), "request")
        except InternalError:
            self._parts.pop(id(event), None)  # no answer will be logged for it
            raise

    async def log_response(self, event: AuditEvent) -> None:
        if not self._enabled:
            return
        part = self._parts.pop(id(event), None) or request_part(event)
        status = event.error.status if event.error is not None else response_status(
            event.response, event.request.operation)
        now = self.clock()
        plain = response_entry(event, now, status, elide_lists=False, part=part)
        elided: dict[str, Any] | None = None
        if any(d.options.elide_list_responses for d in self._active.values()):
            elided = response_entry(event, now, status, elide_lists=True, part=part)
        await self._record(plain, "response", elided)

    def _remember(self, event: AuditEvent, part: RequestPart) -> None:
        """Keep the request part for the answer's entry (the same event object comes back)."""
        if len(self._parts) >= MAX_PENDING_PARTS:
            # Only a request whose answer never reached the broker (a bug path) is left behind.
            self._parts.pop(next(iter(self._parts)))
        self._parts[id(event)] = part

    async def _record(self, entry: dict[str, Any], what: str, elided: dict[str, Any] | None = None) -> None:
        waits: list[tuple[ActiveDevice, Ticket]] = []
        for device in self._active.values():
            chosen = elided if elided is not None and device.options.elide_list_responses else entry
            try:
                body = orjson.dumps(chosen, default=device.renderer.default)
            except TypeError as exc:
                problem = str(exc)  # names a type or the nesting limit, never a value
            else:
                waits.append((device, device.sink.submit(body)))
                continue
            log.error("audit device %s: cannot format a %s entry: %s", device.entry.path, what, problem)
            self._failed(device.entry.path, "format")
        if waits:
            deadline = max(device.options.write_deadline for device, _ in waits)
            futures = [ticket.future for _, ticket in waits]
            # A timer instead of asyncio.wait: no task per entry on the hot path.
            timer = asyncio.get_running_loop().call_later(deadline, _expire, futures)
            try:
                for future in futures:
                    await future
            finally:
                timer.cancel()
        recorded = False
        for device, ticket in waits:
            if ticket.future.done() and ticket.future.result():
                recorded = True
                continue
            device.sink.abandon(ticket)
            self._failed(device.entry.path, "stalled" if device.sink.stalled() else "write")
        if not recorded:
            raise InternalError(f"audit: no device could record the {what}")

    def _failed(self, path: str, reason: str) -> None:
        if self.on_failure is not None:
            try:
                self.on_failure(path, reason)
            except Exception:
                log.exception("audit failure observer failed")

    # -- per-process state ------------------------------------------------------------------

    async def load(self) -> None:
        """Match the running devices to the stored table (called after unseal and on every change)."""
        async with self._lock:
            await self._load()

    async def _load(self) -> None:
        entries = await self.table.read()
        if entries and self._signer is None:
            self._signer = await self.table.signing_key(create=True)
        wanted = {e.uuid: e for e in entries}
        for path, device in list(self._active.items()):
            if device.entry.uuid not in wanted:
                del self._active[path]
                device.sink.close()  # writes the close checkpoint on its own thread
        running = {d.entry.uuid for d in self._active.values()}
        for entry in entries:
            if entry.uuid in running:
                continue
            try:
                self._active[entry.path] = self._start(entry)
            except InvalidRequest as exc:
                problem = exc.message
            else:
                continue
            # A device that cannot even be built (e.g. options a newer version wrote) is left
            # out; with no device left, requests fail closed rather than go unrecorded.
            log.error("audit device %s cannot be started: %s", entry.path, problem)
            self._failed(entry.path, "start")
        self._enabled = bool(entries)

    async def unload(self) -> None:
        """Close every device (close checkpoints written, bounded by each deadline) and forget the key."""
        active, self._active = self._active, {}
        self._enabled = False
        waits = []
        for device in active.values():
            done = device.sink.close()
            if done is not None:
                waits.append(asyncio.wait_for(asyncio.shield(done), device.options.write_deadline))
        for result in await asyncio.gather(*waits, return_exceptions=True):
            if isinstance(result, BaseException):
                log.error("an audit device did not close within its deadline")
        self._signer = None

    async def close(self) -> None:
        """Process shutdown: the same as :meth:`unload`."""
        await self.unload()

    def reopen(self) -> None:
        """SIGHUP: every device writes a ``rotate`` checkpoint and reopens (files are reopened by name)."""
        for device in self._active.values():
            device.sink.reopen()

    def _start(self, entry: DeviceEntry) -> ActiveDevice:
        assert self._signer is not None
        common, own = split_options(entry.options)
        device = self._build(entry.type, entry.path, own)
        chain = Chain(
            chain_id=self.random_bytes(16).hex(),
            device=entry.path,
            prefix=common.prefix.encode(),
            signer=self._signer,
            clock=lambda: rfc3339(self.clock()),
            checkpoint_every=common.checkpoint_entries,
        )
        sink = Sink(entry.path, device, chain, common.write_deadline, self.on_latency)
        sink.start()
        renderer = Renderer(entry.salt, log_raw=common.log_raw, hmac_accessor=common.hmac_accessor)
        return ActiveDevice(entry, common, renderer, sink)

    def _build(self, type_name: str, path: str, options: dict[str, str]) -> AuditDevice:
        factory = self.factories.get(type_name)
        if factory is None:
            raise InvalidRequest(f"unknown audit device type {type_name!r}")
        return factory(DeviceConfig(path=path, options=options))

    # -- sys/audit ----------------------------------------------------------------------------

    async def enable(self, path: str, type_name: str, *, description: str = "",
                     options: Mapping[str, Any] | None = None, local: bool = False) -> DeviceEntry:
        """Validate, probe (the device must open within its deadline) and store a new device.

        The caller bumps the storage generation afterwards so every process loads it.
        """
        path = normalize_path(path)
        clean = {str(k): str(v) for k, v in (options or {}).items()}
        common, own = split_options(clean)
        device = self._build(type_name, path, own)
        await probe(device, common.write_deadline)
        await self.table.signing_key(create=True)

        def make() -> DeviceEntry:
            return DeviceEntry(path=path, type=type_name, uuid=self.random_bytes(16).hex(),
                               salt=self.table.new_salt(), description=description, options=clean, local=local)

        return await self.table.add(make)

    async def disable(self, path: str) -> bool:
        return await self.table.remove(normalize_path(path))

    async def listing(self) -> dict[str, dict[str, Any]]:
        """``sys/audit``: every device by path, with the checkpoint public key (never a salt)."""
        entries = await self.table.read()
        signer = await self.table.signing_key(create=False) if entries else None
        public = signer.public_key() if signer is not None else None
        listed: dict[str, dict[str, Any]] = {}
        for entry in entries:
            item: dict[str, Any] = {
                "type": entry.type, "description": entry.description, "options": dict(entry.options),
                "local": entry.local, "path": entry.path,
            }
            if public is not None:
                item["checkpoint_public_key"] = public_key_text(public)
                item["checkpoint_key_id"] = key_id(public)
            listed[entry.path] = item
        return listed

    def hash(self, path: str, value: str) -> str:
        """``sys/audit-hash``: the HMAC the device at ``path`` writes for ``value``."""
        device = self._active.get(normalize_path(path))
        if device is None:
            raise InvalidRequest(f"unknown audit device {normalize_path(path)!r}")
        return device.renderer.hash(value)


def _expire(futures: list[asyncio.Future[bool]]) -> None:
    """The deadline passed: whatever is not recorded yet counts as not recorded."""
    for future in futures:
        if not future.done():
            future.set_result(False)


async def probe(device: AuditDevice, deadline: float) -> None:
    """Open and close ``device`` on a throw-away thread; 400 when it fails or takes longer than ``deadline``."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[BaseException | None] = loop.create_future()

    def run() -> None:
        error: BaseException | None = None
        try:
            device.open()
            device.close()
        except Exception as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(lambda: None if result.done() else result.set_result(error))

    threading.Thread(target=run, name="audit-probe", daemon=True).start()
    try:
        error = await asyncio.wait_for(asyncio.shield(result), deadline)
    except TimeoutError:
        raise InvalidRequest(f"the audit device did not open within {deadline:g}s") from None
    if error is not None:
        if isinstance(error, InvalidRequest):
            raise InvalidRequest(error.message) from None
        detail = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise InvalidRequest(f"the audit device could not be opened: {detail}") from None
