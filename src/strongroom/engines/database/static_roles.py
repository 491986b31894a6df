"""Static roles: an existing database user whose password the engine owns and rotates.

``static-roles/:name`` stores the role and rotates the user's password at once
(as Vault does), so from then on only the engine knows it. ``static-creds/:name``
answers the current password, when it was last rotated and the seconds until the
next rotation. ``rotate-role/:name`` rotates now. Rotation on a period or a cron
schedule runs as a job of the core's scheduler (``static-role/<name>``).

A rotation first stores the new password as ``pending_password`` together with
the job's due time (``rotation_due``), then changes it in the database, then
stores it as the password. The due time is the scheduler's fencing token: a run
repeated for one due time (a crash after the claim) finishes the pending
rotation instead of rotating again, so one due time gives one rotation.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response
from strongroom.sdk.scheduling import Job, JobScheduler, Schedule

from .config import RotationTerms, StaticRole, failure_reason, rewrite, with_attempt

if TYPE_CHECKING:
    from .backend import DatabaseBackend

STATIC = "static-role/"
JOB = "static-role/"
#: Vault's floor for ``rotation_period`` and for ``rotation_window``.
MIN_PERIOD = 5
MIN_WINDOW = 3600
_NAME = r"(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)"

_FIELDS = {
    "db_name": Field(T.STRING, "", "The connection (database/config/:name) to use."),
    "username": Field(T.STRING, "", "The existing database user."),
    "rotation_period": Field(T.DURATION, 0, "Rotate this often (at least 5s)."),
    "rotation_schedule": Field(T.STRING, "", "Rotate at these cron times (5 fields, UTC)."),
    "rotation_window": Field(T.DURATION, 0, "How long after a scheduled time a rotation may still run (>= 1h)."),
    "rotation_statements": Field(T.STRING_LIST, [], "SQL setting the password (empty: the plugin's default)."),
    "credential_type": Field(T.STRING, "password", "Only 'password'."),
}


def check_rotation_terms(terms: RotationTerms, scheduler: JobScheduler | None, *, what: str) -> Schedule:
    """The parsed schedule, or a 400 (bad cron, both or neither set, window without schedule, no scheduler)."""
    schedule = Schedule.parse(interval=terms.period, cron=terms.schedule)
    if terms.period and terms.period < MIN_PERIOD:
        raise InvalidRequest(f"rotation_period must be at least {MIN_PERIOD} seconds")
    if terms.window and not terms.schedule:
        raise InvalidRequest("rotation_window is only valid with rotation_schedule")
    if terms.window and terms.window < MIN_WINDOW:
        raise InvalidRequest(f"rotation_window must be at least {MIN_WINDOW} seconds")
    if scheduler is None:
        raise InvalidRequest(f"scheduled {what} needs the server's job scheduler")
    return schedule


def next_rotation(terms: RotationTerms, now: float) -> float:
    return Schedule.parse(interval=terms.period, cron=terms.schedule).next_after(now)


@dataclass
class StaticRoles:
    """The static-role paths and rotations of one ``database`` mount."""

    backend: DatabaseBackend

    def __repr__(self) -> str:
        return "StaticRoles()"

    def paths(self) -> list[Path]:
        name = {"name": Field(T.STRING)}
        return [
            Path("static-roles/?", {Operation.LIST: self._list}),
            Path(f"static-roles/{_NAME}", {Operation.UPDATE: self._write, Operation.CREATE: self._write,
                                            Operation.READ: self._read, Operation.DELETE: self._delete},
                 {**name, **_FIELDS}),
            Path(f"static-creds/{_NAME}", {Operation.READ: self._creds}, name),
            Path(f"rotate-role/{_NAME}", {Operation.UPDATE: self._rotate_now}, name),
        ]

    async def role(self, name: str) -> StaticRole | None:
        raw = await self.backend.ctx.storage.get(STATIC + name)
        return None if raw is None else StaticRole.decode(raw)

    async def _must_role(self, name: str) -> StaticRole:
        role = await self.role(name)
        if role is None:
            raise NotFound()
        return role

    # -- paths -----------------------------------------------------------------------------------

    async def _write(self, req: Request, f: FieldData) -> None:
        f.validate()
        name = f.get("name")
        old = await self.role(name)
        if f.get("credential_type") != "password":
            raise InvalidRequest("credential_type must be 'password' (the only type supported)")
        username = f.get("username") if f.has("username") or old is None else old.username
        db_name = f.get("db_name") if f.has("db_name") or old is None else old.db_name
        if not username:
            raise InvalidRequest("username is required")
        if not db_name:
            raise InvalidRequest("db_name is required")
        if old is not None and username != old.username:
            raise InvalidRequest("cannot change the username of a static role")
        if old is not None and db_name != old.db_name:
            raise InvalidRequest("cannot change the db_name of a static role")
        timing = ("rotation_period", "rotation_schedule", "rotation_window")
        if old is None or any(f.has(key) for key in timing):
            period, cron, window = f.get("rotation_period"), f.get("rotation_schedule").strip(), \
                f.get("rotation_window")
        else:
            period, cron, window = old.rotation_period, old.rotation_schedule, old.rotation_window
        terms = RotationTerms(period, cron, window)
        check_rotation_terms(terms, self.backend.scheduler, what="static role rotation")
        config = await self.backend.usable_config(db_name, name)
        if old is None:
            await self._refuse_shared_username(name, config.name, username)
        statements = (tuple(s for s in f.get("rotation_statements") if s.strip())
                      if f.has("rotation_statements") or old is None else old.rotation_statements)
        role = StaticRole(name=name, db_name=config.name, username=username, rotation_period=period,
                          rotation_schedule=cron, rotation_window=window, rotation_statements=statements,
                          password=old.password if old else "", last_vault_rotation=old.last_vault_rotation if old
                          else 0.0, rotation_due=old.rotation_due if old else 0.0,
                          pending_password=old.pending_password if old else "",
                          rotation_history=old.rotation_history if old else ())
        if old is None:
            # Vault rotates at creation so that the engine alone knows the password. The role
            # is stored only once the database accepted it: a bad user or statement stores nothing.
            password = await self.backend.generate_password(config)
            plugin = await self.backend.plugin(config)
            await plugin.set_password(username, password, statements)
            now = self.backend.ctx.system.clock()
            role = replace(role, password=password, last_vault_rotation=now,
                           rotation_history=with_attempt((), now, "create"))
        await self.backend.ctx.storage.put(STATIC + name, role.encode())
        if old is None:
            self._published(role)  # the creation rotation is a rotation like any later one
        scheduler = self.backend.scheduler
        if old is not None and old.rotation == terms and scheduler and await scheduler.lookup(JOB + name):
            return  # same terms: the next rotation stays when it was due
        await self._schedule(role, role.last_vault_rotation if old is None else self.backend.ctx.system.clock())

    async def _refuse_shared_username(self, name: str, db_name: str, username: str) -> None:
        """400 if another static role already owns ``username`` on ``db_name`` (as Vault refuses).

        Two roles rotating one user would each hand out a password the other has replaced.
        """
        for key in await self.backend.ctx.storage.list(STATIC):
            other = None if key.endswith("/") or key == name else await self.role(key)
            if other is not None and other.db_name == db_name and other.username == username:
                raise InvalidRequest(f"username {username!r} is already managed by static role {key!r}")

    def _published(self, role: StaticRole) -> None:
        ctx = self.backend.ctx
        ctx.system.publish_event("database/static-rotate", f"{ctx.mount_point}static-creds/{role.name}",
                                 {"name": role.name, "username": role.username, "db_name": role.db_name})

    async def _schedule(self, role: StaticRole, since: float) -> None:
        scheduler = self.backend.scheduler
        assert scheduler is not None  # check_rotation_terms refused the role otherwise
        await scheduler.schedule(JOB + role.name, next_rotation(role.rotation, since),
                                 {"type": "static-role", "name": role.name})

    async def _read(self, req: Request, f: FieldData) -> Response:
        return Response(data=(await self._must_role(f.get("name"))).public())

    async def _delete(self, req: Request, f: FieldData) -> None:
        name = f.get("name")
        await self.backend.ctx.storage.delete(STATIC + name)
        if self.backend.scheduler is not None:
            await self.backend.scheduler.cancel(JOB + name)

    async def _list(self, req: Request, f: FieldData) -> Response:
        return await self.backend.list_names(STATIC)

    async def _creds(self, req: Request, f: FieldData) -> Response:
        role = await self._must_role(f.get("name"))
        now = self.backend.ctx.system.clock()
        job = await self.backend.scheduler.lookup(JOB + role.name) if self.backend.scheduler else None
        due = job.due_at if job is not None else next_rotation(role.rotation, role.last_vault_rotation)
        data = {"username": role.username, "password": role.password,
                "last_vault_rotation": role.public()["last_vault_rotation"], "ttl": max(0, int(due - now))}
        if role.rotation_schedule:
            data.update(rotation_schedule=role.rotation_schedule, rotation_window=role.rotation_window)
        else:
            data["rotation_period"] = role.rotation_period
        return Response(data=data)

    async def _rotate_now(self, req: Request, f: FieldData) -> None:
        role = await self._must_role(f.get("name"))
        try:
            await self.rotate(role.name, due=0.0, trigger="manual")
        except Exception as exc:
            await self.record_failure(role.name, "manual", failure_reason(exc))
            raise
        await self._schedule(role, self.backend.ctx.system.clock())

    # -- rotation --------------------------------------------------------------------------------

    async def run_job(self, job: Job, name: str) -> float | None:
        role = await self.role(name)
        if role is None:
            return None
        now = self.backend.ctx.system.clock()
        terms = role.rotation
        if terms.schedule and terms.window and now > job.due_at + terms.window:
            return next_rotation(terms, now)  # missed its window: wait for the next scheduled time
        await self.rotate(name, due=job.due_at, trigger="scheduled")
        return next_rotation(terms, self.backend.ctx.system.clock())

    async def rotate(self, name: str, *, due: float, trigger: str) -> None:
        """Rotate the role's password (see the module docstring); ``due`` 0 for an on-demand rotation.

        A success is kept in the role's history (``trigger``: manual or scheduled); the callers
        record a failure, which may come from any step, with :meth:`record_failure`.
        """
        served_before: list[float] = []

        async def mark(role: StaticRole) -> StaticRole | None:
            if due and role.rotation_due == due:
                if not role.pending_password:
                    return None  # this due time was served already
                return role  # finish the rotation a crash left pending, with its password
            config = await self.backend.usable_config(role.db_name, role.name)
            password = await self.backend.generate_password(config)
            served_before[:] = [role.rotation_due]
            return replace(role, pending_password=password, rotation_due=due or role.rotation_due)

        marked = await rewrite(self.backend.ctx.storage, STATIC + name, StaticRole, mark,
                               self.backend.ctx.system.random_bytes)
        if marked is None:
            return
        role = marked[1]
        password = role.pending_password
        config = await self.backend.usable_config(role.db_name, role.name)
        try:
            await (await self.backend.plugin(config)).set_password(role.username, password, role.rotation_statements)
        except Exception:
            # Not served after all: the retry of this due time must rotate, not skip.
            await self._settle(name, password, done=False,
                               rotation_due=served_before[0] if served_before else 0.0)
            raise
        await self._settle(name, password, done=True, trigger=trigger)
        self._published(role)

    async def record_failure(self, name: str, trigger: str, error: str) -> None:
        """Keep a failed rotation in the role's history (a role deleted meanwhile has none)."""
        at = self.backend.ctx.system.clock()

        async def add(role: StaticRole) -> StaticRole:
            return replace(role, rotation_history=with_attempt(role.rotation_history, at, trigger, error))

        with suppress(NotFound):
            await rewrite(self.backend.ctx.storage, STATIC + name, StaticRole, add,
                          self.backend.ctx.system.random_bytes)

    async def _settle(self, name: str, password: str, *, done: bool, rotation_due: float = 0.0,
                      trigger: str = "") -> None:
        now = self.backend.ctx.system.clock()

        async def settle(role: StaticRole) -> StaticRole | None:
            if role.pending_password != password:
                return None  # a later rotation took over
            if done:
                return replace(role, password=password, pending_password="", last_vault_rotation=now,
                               rotation_history=with_attempt(role.rotation_history, now, trigger))
            return replace(role, pending_password="", rotation_due=rotation_due)

        with suppress(NotFound):  # deleted meanwhile: nothing to settle
            await rewrite(self.backend.ctx.storage, STATIC + name, StaticRole, settle,
                          self.backend.ctx.system.random_bytes)
