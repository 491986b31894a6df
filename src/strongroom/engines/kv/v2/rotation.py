"""KV v2 scheduled rotation: ``rotation/<path>`` (the policy, its state and history), ``rotate/<path>``.

A Strongroom extension (Vault has no rotation of static KV secrets). Writing a
policy schedules a job ``rotation/<path>`` with the core's scheduler; each run
generates a value (``rotation_generators``) and writes it as a new version of
the secret, keeping the other fields of the current version and the previous
versions (within ``max_versions``). The new version, the secret's metadata and
the rotation state (with the attempt in the history, and for scheduled runs
the due time served, the fence) are one conditional transaction: a concurrent
writer makes it retry on fresh data, never lose or overwrite a version.

A failure is recorded in the history (the reason, never a value), counted for
metrics and alerts (``JobScheduler.report_rotation``), and for scheduled runs
raised to the scheduler, which retries with backoff. See docs/rotation.md.
"""

from __future__ import annotations

import logging
from typing import Any

from strongroom.errors import InternalError, InvalidRequest, NotFound, StrongroomError
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request, Response
from strongroom.sdk.scheduling import Job, JobScheduler, RotationOutcome
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

from ..common import decode_entry, encode_entry, lookup_path, secret_path
from .engine import Engine
from .model import SecretMeta
from .rotation_generators import generate
from .rotation_model import ROTATION_PREFIX, Attempt, RotationPolicy, RotationState
from .store import V2Store

log = logging.getLogger("strongroom.kv.rotation")

JOB_PREFIX = "rotation/"
#: The fields of a ``rotation/<path>`` write.
POLICY_FIELDS = ("interval", "cron", "generator", "key", "password_policy", "bytes", "encoding", "key_type",
                 "key_bits", "url")


class RotationHandlers:
    def __init__(self, engine: Engine, egress: EgressPolicy) -> None:
        self.engine = engine
        self.egress = egress

    @property
    def storage(self) -> StorageBackend:
        return self.engine.ctx.storage

    def _scheduler(self) -> JobScheduler:
        scheduler = self.engine.ctx.system.scheduler
        if scheduler is None:
            raise InternalError("scheduled rotation needs the core's scheduler")
        return scheduler

    # -- the API ---------------------------------------------------------------------------------

    async def read(self, req: Request, fd: FieldData) -> Response:
        path = lookup_path(fd.get("path"))
        state = None if path is None else (await self._load(path))[0]
        if state is None:
            raise NotFound()
        return Response(data=state.view())

    async def write(self, req: Request, fd: FieldData) -> Response:
        """Attach (or replace) the rotation policy; the first scheduled run is one period from now."""
        path = secret_path(fd.get("path"))
        policy = RotationPolicy.parse({name: fd.get(name) for name in POLICY_FIELDS})
        if policy.generator == "password":
            await generate(policy, self.engine.ctx.system, self.egress, {})  # the policy exists and can be met
        scheduler = self._scheduler()
        next_due = policy.schedule.next_after(self.engine.ctx.system.clock())

        async def attempt() -> None:
            old, guard = await self._load(path)
            # A replaced policy keeps the secret's history; the fence restarts with the new schedule.
            state = RotationState(policy=policy, next_due=next_due) if old is None else RotationState(
                policy=policy, next_due=next_due, served_due=0.0, consecutive_failures=old.consecutive_failures,
                last_success_ns=old.last_success_ns, last_version=old.last_version, history=old.history)
            await self.storage.transaction([self._put(path, state)], [guard])

        # The job first: a crash before the state is written leaves a job that finds no policy and ends,
        # whereas the other order could leave a policy that never runs.
        await scheduler.schedule(JOB_PREFIX + path, next_due, {"path": path})
        async with self.engine.locks.for_key(path):
            await self.engine.retry_on_conflict(attempt)
        return Response(status=204)

    async def delete(self, req: Request, fd: FieldData) -> None:
        """Remove the policy and its schedule (the secret and its versions stay). Missing: still 204."""
        path = lookup_path(fd.get("path"))
        if path is None:
            return
        async with self.engine.locks.for_key(path):
            await self.storage.delete(ROTATION_PREFIX + path)
        await self._scheduler().cancel(JOB_PREFIX + path)

    async def rotate_now(self, req: Request, fd: FieldData) -> Response:
        """Rotate at once (the schedule is unchanged); answers the new version's metadata like a data write."""
        path = lookup_path(fd.get("path"))
        if path is None or (await self._load(path))[0] is None:
            raise InvalidRequest("no rotation policy is set for this secret")
        meta = await self.rotate(path, trigger="manual")
        if meta is None:
            raise InternalError("rotation did not write a version")  # only a scheduled run is ever fenced off
        return Response(data=meta.version_view(meta.current_version))

    # -- the scheduled job -----------------------------------------------------------------------

    async def run_job(self, job: Job) -> float | None:
        """A scheduled rotation. Answers the next due time; raises (after recording it) to be retried."""
        path = str(job.payload.get("path", ""))
        state = (await self._load(path))[0] if path else None
        if state is None:
            return None  # the policy was removed: the job is finished
        await self.rotate(path, trigger="scheduled", due_at=job.due_at)
        after = (await self._load(path))[0]
        if after is None:
            return None
        now = self.engine.ctx.system.clock()
        # Counted from now, so a run overdue by many periods is followed by one period, not a burst.
        return after.next_due if after.next_due > now else after.policy.schedule.next_after(now)

    # -- rotating --------------------------------------------------------------------------------

    async def rotate(self, path: str, *, trigger: str, due_at: float | None = None) -> SecretMeta | None:
        """Generate and write a new version. None when a scheduled run finds ``due_at`` already served."""
        system = self.engine.ctx.system
        state = (await self._load(path))[0]
        if state is None:
            raise InvalidRequest("no rotation policy is set for this secret")
        if due_at is not None and state.served_due >= due_at:
            return None
        store = V2Store(self.storage)
        current = await store.meta(path)
        describe = {"mount": self.engine.ctx.mount_point, "path": path, "key": state.policy.key,
                    "current_version": current.current_version if current is not None else 0}
        try:
            fields = await generate(state.policy, system, self.egress, describe)
        except Exception as exc:  # recorded, counted, then raised: the caller (or the scheduler) sees it
            # Only the class name of a foreign error: its text may quote a value.
            message = (exc.message if isinstance(exc, StrongroomError) else type(exc).__name__)[:200]
            failures = await self._record_failure(path, trigger, message)
            self._report(path, succeeded=False, failures=failures, error=message)
            raise

        async def attempt() -> SecretMeta | None:
            state, state_guard = await self._load(path)
            if state is None:
                raise InvalidRequest("the rotation policy was removed while rotating")
            if due_at is not None and state.served_due >= due_at:
                return None  # another process served this due time meanwhile
            config = await store.config()
            meta, meta_guard = await store.meta_for_update(path)
            now = self.engine.now()
            meta = meta if meta is not None else self.engine.new_meta(now)
            data = await self._current_data(store, meta, now)
            data.update(fields)
            dropped = meta.add_version(now, config)
            changes: dict[str, Any] = {"next_due": state.policy.schedule.next_after(system.clock())}
            if due_at is not None:
                changes["served_due"] = due_at
            elif state.next_due:
                changes.pop("next_due")  # on demand: the schedule stays as it is
            new_state = state.record(Attempt(now, trigger, "success", meta.current_version), **changes)
            ops = [store.put_version(meta, meta.current_version, encode_entry(data)), store.put_meta(path, meta),
                   *store.delete_versions(meta, dropped), self._put(path, new_state)]
            await self.storage.transaction(ops, [meta_guard, state_guard])
            return meta

        async with self.engine.locks.for_key(path):
            meta = await self.engine.retry_on_conflict(attempt)
        if meta is not None:
            self._report(path, succeeded=True)
            mount = self.engine.ctx.mount_point
            self.engine.ctx.system.publish_event("kv-v2/data-write", f"{mount}data/{path}", {
                "path": f"{mount}data/{path}", "data_path": f"{mount}data/{path}", "operation": "rotate",
                "modified": True, "current_version": meta.current_version, "oldest_version": meta.oldest_version,
            })
        return meta

    async def _current_data(self, store: V2Store, meta: SecretMeta, now: int) -> dict[str, Any]:
        """The fields of the current version when it is readable: a rotation changes its key and keeps the rest."""
        version = meta.versions.get(meta.current_version)
        if version is None or not version.is_readable(now):
            return {}
        return await store.version_data(meta, meta.current_version) or {}

    async def _record_failure(self, path: str, trigger: str, message: str) -> int:
        """Put a failed attempt in the history; answers the failures in a row."""

        async def attempt() -> int:
            state, guard = await self._load(path)
            if state is None:
                return 1
            failed = state.record(Attempt(self.engine.now(), trigger, "failure", 0, message))
            await self.storage.transaction([self._put(path, failed)], [guard])
            return failed.consecutive_failures

        async with self.engine.locks.for_key(path):
            return await self.engine.retry_on_conflict(attempt)

    def _report(self, path: str, *, succeeded: bool, failures: int = 0, error: str = "") -> None:
        scheduler = self.engine.ctx.system.scheduler
        if scheduler is not None:
            scheduler.report_rotation(RotationOutcome("kv", path, succeeded, failures, error))
        if not succeeded:
            log.warning("rotation of %s%s failed (%d in a row): %s", self.engine.ctx.mount_point, path, failures,
                        error)

    # -- storage ---------------------------------------------------------------------------------

    async def _load(self, path: str) -> tuple[RotationState | None, Precondition]:
        raw, version = await self.storage.get_with_version(ROTATION_PREFIX + path)
        state = None if raw is None else RotationState.from_json(decode_entry(raw))
        return state, Precondition(ROTATION_PREFIX + path, version)

    @staticmethod
    def _put(path: str, state: RotationState) -> TxnOp:
        return TxnOp(ROTATION_PREFIX + path, encode_entry(state.to_json()))
