"""The ``database`` engine's paths: connections, dynamic and static roles, credentials, rotation.

Paths (Vault-compatible): ``config/:name`` (write/read/delete), LIST ``config/``,
``reset/:name``, ``rotate-root/:name``; ``roles/:name`` (write/read/delete),
LIST ``roles/``, ``creds/:name`` (read: a new database user with a lease);
``static-roles/:name``, LIST ``static-roles/``, ``static-creds/:name``,
``rotate-role/:name`` (``static_roles.py``). Lease revocation drops the user and
ends its sessions (:meth:`DatabaseBackend.revoke_secret`). Scheduled rotations
(static roles, the root credential) run from the core's scheduler through
:meth:`DatabaseBackend.run_job`. The database itself is behind a plugin
(``postgres.py``, ``mysql.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import replace
from typing import Any

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, LeaseOptions, Operation, Request, Response, SecretLease
from strongroom.sdk.scheduling import Job, JobScheduler, RotationOutcome

from .config import PLUGIN_POSTGRES, PLUGINS, ConnectionConfig, RoleConfig, failure_reason, rewrite, with_attempt
from .connections import Connections
from .plugin import DatabasePlugin
from .static_roles import StaticRoles, check_rotation_terms, next_rotation
from .templates import check_password, render_username, validate_username_template

CONFIG = "config/"
ROLE = "role/"
ROOT_JOB = "root/"
NAME = r"(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)"
_VALID_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

_CONFIG_FIELDS = {
    "plugin_name": Field(T.STRING, "", "Database plugin: " + ", ".join(PLUGINS) + "."),
    "connection_url": Field(T.STRING, "", "Connection URL; may contain {{username}} and {{password}}."),
    "username": Field(T.STRING, "", "Connection user (fills {{username}})."),
    "password": Field(T.STRING, "", "Connection password (fills {{password}}; never returned)."),
    "allowed_roles": Field(T.STRING_LIST, [], "Role names (globs) that may use this connection."),
    "verify_connection": Field(T.BOOL, True, "Connect before storing the configuration."),
    "max_open_connections": Field(T.INT, 4, "Most connections open at once per server process."),
    "max_idle_seconds": Field(T.DURATION, 300, "Idle pooled connections are closed after this long."),
    "password_policy": Field(T.STRING, "", "Password policy for generated passwords (empty: default)."),
    "username_template": Field(T.STRING, "", "Template for generated usernames."),
    "root_rotation_statements": Field(T.STRING_LIST, [], "SQL changing the root password (empty: default)."),
    "root_rotation_period": Field(T.DURATION, 0, "Rotate the root password this often (0: never)."),
    "root_rotation_schedule": Field(T.STRING, "", "Rotate the root password at these cron times (UTC)."),
    "root_rotation_window": Field(T.DURATION, 0, "How long after a scheduled time a rotation may still run."),
    "tls_ca": Field(T.STRING, "", "MySQL: PEM CA certificate(s) the server's certificate must chain to."),
    "tls_certificate_key": Field(T.STRING, "", "MySQL: PEM client certificate and private key (never returned)."),
}
#: Vault's own spellings of the same config fields, accepted as aliases.
_CONFIG_ALIASES = {
    "root_credentials_rotate_statements": "root_rotation_statements",
    "rotation_period": "root_rotation_period",
    "rotation_schedule": "root_rotation_schedule",
    "rotation_window": "root_rotation_window",
}
_ROLE_FIELDS = {
    "db_name": Field(T.STRING, "", "The connection (database/config/:name) to use."),
    "creation_statements": Field(T.STRING_LIST, [], "SQL creating the user."),
    "revocation_statements": Field(T.STRING_LIST, [], "SQL dropping the user (empty: a safe default)."),
    "rollback_statements": Field(T.STRING_LIST, [], "SQL undoing a failed creation (then the user is dropped)."),
    "renew_statements": Field(T.STRING_LIST, [], "SQL run on lease renewal (empty: the plugin's default)."),
    "default_ttl": Field(T.DURATION, 0, "Lease TTL (0: the mount default)."),
    "max_ttl": Field(T.DURATION, 0, "Lease max TTL (0: the mount max)."),
    "credential_type": Field(T.STRING, "password", "Only 'password'."),
}


class DatabaseBackend(FrameworkBackend):
    """Database credentials. ``egress`` decides which hosts a connection_url may reach."""

    type_name = "database"

    def __init__(self, ctx: BackendContext, egress: EgressPolicy | None = None) -> None:
        super().__init__(ctx)
        self.connections = Connections(egress or EgressPolicy(), ctx.system.clock)
        self.static = StaticRoles(self)

    @property
    def egress(self) -> EgressPolicy:
        return self.connections.egress

    @egress.setter
    def egress(self, policy: EgressPolicy) -> None:
        self.connections.egress = policy

    def paths(self) -> Sequence[Path]:
        aliases = {alias: _CONFIG_FIELDS[field] for alias, field in _CONFIG_ALIASES.items()}
        return [
            Path("config/?", {Operation.LIST: self._list_configs}),
            Path(f"config/{NAME}", {Operation.UPDATE: self._write_config, Operation.CREATE: self._write_config,
                                     Operation.READ: self._read_config, Operation.DELETE: self._delete_config},
                 {"name": Field(T.STRING), **_CONFIG_FIELDS, **aliases}),
            Path(f"reset/{NAME}", {Operation.UPDATE: self._reset}, {"name": Field(T.STRING)}),
            Path(f"rotate-root/{NAME}", {Operation.UPDATE: self._rotate_root_path}, {"name": Field(T.STRING)}),
            Path("roles/?", {Operation.LIST: self._list_roles}),
            Path(f"roles/{NAME}", {Operation.UPDATE: self._write_role, Operation.CREATE: self._write_role,
                                    Operation.READ: self._read_role, Operation.DELETE: self._delete_role},
                 {"name": Field(T.STRING), **_ROLE_FIELDS}),
            Path(f"creds/{NAME}", {Operation.READ: self._creds}, {"name": Field(T.STRING)}),
            *self.static.paths(),
        ]

    async def cleanup(self) -> None:
        await self.connections.close_all()

    @property
    def scheduler(self) -> JobScheduler | None:
        return self.ctx.system.scheduler

    # -- connections -----------------------------------------------------------------------------

    async def config(self, name: str) -> ConnectionConfig | None:
        raw = await self.ctx.storage.get(CONFIG + name)
        return None if raw is None else ConnectionConfig.decode(raw)

    async def plugin(self, config: ConnectionConfig) -> DatabasePlugin:
        return await self.connections.plugin(config)

    async def usable_config(self, db_name: str, role: str) -> ConnectionConfig:
        """The connection ``role`` names, if it exists and its ``allowed_roles`` let the role use it."""
        config = await self.config(db_name)
        if config is None:
            raise InvalidRequest(f"database connection {db_name!r} does not exist")
        if not config.allows(role):
            raise InvalidRequest(f"role {role!r} is not allowed by database connection {config.name!r}")
        return config

    async def _write_config(self, req: Request, f: FieldData) -> None:
        f.validate()
        for alias, field in _CONFIG_ALIASES.items():
            if f.has(alias) and not f.has(field):
                req.data[field] = req.data[alias]
        f = FieldData({"name": Field(T.STRING), **_CONFIG_FIELDS}, req.data | {"name": f.get("name")})
        name = f.get("name")
        old = await self.config(name)
        plugin_name = f.get("plugin_name") or (old.plugin_name if old else "")
        if plugin_name not in PLUGINS:
            raise InvalidRequest(f"plugin_name must be one of {', '.join(PLUGINS)}")

        def pick(key: str, default: Any) -> Any:
            if f.has(key) or old is None:
                value = f.get(key) if f.has(key) else default
                return tuple(value) if isinstance(value, list) else value
            return getattr(old, key)

        template = pick("username_template", "")
        validate_username_template(template)
        config = ConnectionConfig(
            name=name, plugin_name=plugin_name,
            connection_url=pick("connection_url", ""), username=pick("username", ""),
            password=pick("password", ""), allowed_roles=pick("allowed_roles", ()),
            max_open_connections=pick("max_open_connections", 4), max_idle_seconds=pick("max_idle_seconds", 300),
            password_policy=pick("password_policy", ""), username_template=template,
            verify_connection=f.get("verify_connection"),
            root_rotation_statements=tuple(s for s in pick("root_rotation_statements", ()) if s.strip()),
            root_rotation_period=pick("root_rotation_period", 0),
            root_rotation_schedule=pick("root_rotation_schedule", "").strip(),
            root_rotation_window=pick("root_rotation_window", 0),
            last_root_rotation=old.last_root_rotation if old else 0.0,
            # A rotation cut short may have left the database on the pending password: keep it
            # unless the operator sets the password anew.
            pending_password=old.pending_password if old and not f.has("password") else "",
            tls_ca=pick("tls_ca", ""), tls_certificate_key=pick("tls_certificate_key", ""),
            rotation_history=old.rotation_history if old else (),
        )
        if not config.connection_url:
            raise InvalidRequest("connection_url is required")
        if plugin_name == PLUGIN_POSTGRES and (config.tls_ca or config.tls_certificate_key):
            raise InvalidRequest("tls_ca and tls_certificate_key are MySQL options; PostgreSQL takes "
                                 "sslmode and sslrootcert in connection_url")
        if config.max_open_connections < 1:
            raise InvalidRequest("max_open_connections must be at least 1")
        if config.max_idle_seconds < 1:
            raise InvalidRequest("max_idle_seconds must be at least 1 second")
        terms = config.root_rotation
        if terms.automatic:
            check_rotation_terms(terms, self.scheduler, what="root rotation")
        elif terms.window:
            raise InvalidRequest("root_rotation_window needs root_rotation_schedule")
        plugin = await self.connections.plugin(config)  # refuses a malformed connection_url
        if config.verify_connection:
            await plugin.verify()
        await self.ctx.storage.put(CONFIG + name, config.encode())
        await self._schedule_root(config, old)

    async def _schedule_root(self, config: ConnectionConfig, old: ConnectionConfig | None) -> None:
        """(Re)schedule the root rotation job; a write that keeps the terms keeps the job's due time."""
        scheduler = self.scheduler
        if scheduler is None:
            return
        terms = config.root_rotation
        if not terms.automatic:
            await scheduler.cancel(ROOT_JOB + config.name)
            return
        if old is not None and old.root_rotation == terms and await scheduler.lookup(ROOT_JOB + config.name):
            return
        now = self.ctx.system.clock()
        await scheduler.schedule(ROOT_JOB + config.name, next_rotation(terms, now),
                                 {"type": "root", "name": config.name})

    async def _read_config(self, req: Request, f: FieldData) -> Response:
        config = await self.config(f.get("name"))
        if config is None:
            raise NotFound()
        return Response(data=config.public())

    async def _delete_config(self, req: Request, f: FieldData) -> None:
        name = f.get("name")
        await self.ctx.storage.delete(CONFIG + name)
        await self.connections.drop(name)
        if self.scheduler is not None:
            await self.scheduler.cancel(ROOT_JOB + name)

    async def _list_configs(self, req: Request, f: FieldData) -> Response:
        return await self.list_names(CONFIG)

    async def list_names(self, prefix: str) -> Response:
        keys = [k for k in await self.ctx.storage.list(prefix) if not k.endswith("/")]
        if not keys:
            raise NotFound()
        return Response.list_of(sorted(keys))

    async def _reset(self, req: Request, f: FieldData) -> None:
        """Close the connection's pool and open the connection again from its stored config."""
        config = await self.config(f.get("name"))
        if config is None:
            raise NotFound()
        await self.connections.drop(config.name)
        if config.verify_connection:
            await (await self.connections.plugin(config)).verify()

    # -- root rotation ---------------------------------------------------------------------------

    async def _rotate_root_path(self, req: Request, f: FieldData) -> None:
        name = f.get("name")
        if await self.config(name) is None:
            raise NotFound()
        try:
            await self.rotate_root(name, trigger="manual")
        except Exception as exc:
            await self._record_root_failure(name, "manual", failure_reason(exc))
            raise

    async def _record_root_failure(self, name: str, trigger: str, error: str) -> None:
        at = self.ctx.system.clock()

        async def add(config: ConnectionConfig) -> ConnectionConfig:
            return replace(config, rotation_history=with_attempt(config.rotation_history, at, trigger, error))

        with suppress(NotFound):  # deleted meanwhile
            await rewrite(self.ctx.storage, CONFIG + name, ConnectionConfig, add, self.ctx.system.random_bytes)

    async def rotate_root(self, name: str, *, trigger: str) -> None:
        """Give the connection user a new password in the database, then store it (never returned).

        The new password is stored as ``pending_password`` before the database changes,
        so a crash in between loses nothing: connections fall back to it. The pool is
        rebuilt with the new password; the old one stops working.
        """
        password = await self.generate_password(await self._must_config(name))

        async def mark(config: ConnectionConfig) -> ConnectionConfig:
            return replace(config, pending_password=password)

        marked = await rewrite(self.ctx.storage, CONFIG + name, ConnectionConfig, mark, self.ctx.system.random_bytes)
        assert marked is not None
        before = marked[0]
        try:
            await (await self.connections.plugin(before)).rotate_root(password, before.root_rotation_statements)
        except Exception:
            await self._settle_root(name, password, done=False)
            raise
        await self._settle_root(name, password, done=True, trigger=trigger)
        self.ctx.system.publish_event("database/root-rotate", f"{self.ctx.mount_point}config/{name}",
                                      {"name": name, "username": before.username})

    async def _settle_root(self, name: str, password: str, *, done: bool, trigger: str = "") -> None:
        now = self.ctx.system.clock()

        async def settle(config: ConnectionConfig) -> ConnectionConfig | None:
            if config.pending_password != password:
                return None  # a later rotation took over
            if done:
                return replace(config, password=password, pending_password="", last_root_rotation=now,
                               rotation_history=with_attempt(config.rotation_history, now, trigger))
            return replace(config, pending_password="")

        with suppress(NotFound):  # deleted meanwhile: nothing to settle
            await rewrite(self.ctx.storage, CONFIG + name, ConnectionConfig, settle, self.ctx.system.random_bytes)
        await self.connections.drop(name)

    async def _must_config(self, name: str) -> ConnectionConfig:
        config = await self.config(name)
        if config is None:
            raise NotFound()
        return config

    # -- scheduled jobs --------------------------------------------------------------------------

    async def run_job(self, job: Job) -> float | None:
        """A scheduled rotation: a static role's password or a connection's root password.

        Every attempt is reported to the scheduler's metrics and alerts (never a
        password: a Strongroom error's scrubbed message, or a foreign error's class name).
        A failure raises, so the scheduler retries the same due time with backoff.
        """
        kind, name = job.payload.get("type"), str(job.payload.get("name", ""))
        if kind not in ("static-role", "root"):
            return None
        subject = ("static-roles/" if kind == "static-role" else "config/") + name
        outcome_kind = "database-static-role" if kind == "static-role" else "database-root"
        try:
            if kind == "static-role":
                next_due = await self.static.run_job(job, name)
            else:
                next_due = await self._run_root_job(job, name)
        except Exception as exc:
            error = failure_reason(exc)
            if kind == "static-role":
                await self.static.record_failure(name, "scheduled", error)
            else:
                await self._record_root_failure(name, "scheduled", error)
            self._report(RotationOutcome(outcome_kind, subject, False, job.attempt + 1, error[:200]))
            raise
        self._report(RotationOutcome(outcome_kind, subject, True))
        return next_due

    def _report(self, outcome: RotationOutcome) -> None:
        if self.scheduler is not None:
            self.scheduler.report_rotation(outcome)

    async def _run_root_job(self, job: Job, name: str) -> float | None:
        config = await self.config(name)
        if config is None or not config.root_rotation.automatic:
            return None
        now = self.ctx.system.clock()
        terms = config.root_rotation
        if terms.schedule and terms.window and now > job.due_at + terms.window:
            return next_rotation(terms, now)  # missed its window: wait for the next scheduled time
        if config.last_root_rotation < job.due_at:  # the due time is the fencing token: once per due time
            await self.rotate_root(name, trigger="scheduled")
        return next_rotation(terms, self.ctx.system.clock())

    # -- roles -----------------------------------------------------------------------------------

    async def _role(self, name: str) -> RoleConfig | None:
        raw = await self.ctx.storage.get(ROLE + name)
        return None if raw is None else RoleConfig.decode(raw)

    async def _write_role(self, req: Request, f: FieldData) -> None:
        f.validate()
        statements = [s for s in f.get("creation_statements") if s.strip()]
        if not statements:
            raise InvalidRequest("creation_statements must not be empty")
        if not _VALID_NAME.fullmatch(f.get("db_name")):
            raise InvalidRequest("db_name must name a database connection")
        if f.get("credential_type") != "password":
            raise InvalidRequest("credential_type must be 'password' (the only type supported)")

        def listed(key: str) -> tuple[str, ...]:
            return tuple(s for s in f.get(key) if s.strip())

        role = RoleConfig(name=f.get("name"), db_name=f.get("db_name"), creation_statements=tuple(statements),
                          revocation_statements=listed("revocation_statements"),
                          rollback_statements=listed("rollback_statements"),
                          renew_statements=listed("renew_statements"),
                          default_ttl=f.get("default_ttl"), max_ttl=f.get("max_ttl"))
        if role.max_ttl and role.default_ttl > role.max_ttl:
            raise InvalidRequest("default_ttl cannot be greater than max_ttl")
        await self.ctx.storage.put(ROLE + role.name, role.encode())

    async def _read_role(self, req: Request, f: FieldData) -> Response:
        role = await self._role(f.get("name"))
        if role is None:
            raise NotFound()
        return Response(data=role.public())

    async def _delete_role(self, req: Request, f: FieldData) -> None:
        await self.ctx.storage.delete(ROLE + f.get("name"))

    async def _list_roles(self, req: Request, f: FieldData) -> Response:
        return await self.list_names(ROLE)

    # -- credentials -----------------------------------------------------------------------------

    async def _creds(self, req: Request, f: FieldData) -> Response:
        role = await self._role(f.get("name"))
        if role is None:
            raise InvalidRequest(f"unknown role: {f.get('name')}")
        config = await self.usable_config(role.db_name, role.name)
        plugin = await self.plugin(config)
        system = self.ctx.system
        now = system.clock()
        ttl = min(role.default_ttl or system.default_lease_ttl, role.max_ttl or system.max_lease_ttl,
                  system.max_lease_ttl)
        username = render_username(config.username_template, plugin.username_rules,
                                   display_name=req.caller.display_name or "token", role=role.name, now=now,
                                   random_bytes=system.random_bytes)
        password = await self.generate_password(config)
        await plugin.create_user(role.creation_statements, role.rollback_statements, username, password, now + ttl)
        return Response(
            data={"username": username, "password": password},
            secret=LeaseOptions(ttl=ttl, max_ttl=role.max_ttl, renewable=True,
                                internal={"username": username, "db_name": config.name, "role": role.name}),
        )

    async def generate_password(self, config: ConnectionConfig) -> str:
        generate = self.ctx.system.generate_password
        if generate is None:
            raise InvalidRequest("password generation is not available outside a server core")
        try:
            password = await generate(config.password_policy)
        except NotFound:
            raise InvalidRequest(f"password_policy {config.password_policy!r} does not exist") from None
        check_password(password)
        return password

    # -- leases ----------------------------------------------------------------------------------

    async def _lease_target(self, lease: SecretLease) -> tuple[DatabasePlugin, str, RoleConfig | None]:
        config = await self.config(str(lease.internal["db_name"]))
        if config is None:
            raise InvalidRequest(f"database connection {lease.internal['db_name']!r} no longer exists")
        role = await self._role(str(lease.internal["role"]))
        return await self.plugin(config), str(lease.internal["username"]), role

    async def revoke_secret(self, lease: SecretLease) -> None:
        """Drop the lease's user (the role's revocation_statements, else the safe default). Idempotent."""
        db, username, role = await self._lease_target(lease)
        await db.revoke_user(username, role.revocation_statements if role else ())

    async def renew_secret(self, lease: SecretLease, increment: int) -> LeaseOptions:
        """Extend the user's expiry to the renewed one (capped by the role's max TTL)."""
        db, username, role = await self._lease_target(lease)
        system = self.ctx.system
        now = system.clock()
        ttl = increment or (role.default_ttl if role and role.default_ttl else system.default_lease_ttl)
        cap = role.max_ttl if role and role.max_ttl else system.max_lease_ttl
        expire = min(now + ttl, lease.issue_time + min(cap, system.max_lease_ttl))
        await db.renew_user(username, role.renew_statements if role else (), expire)
        return LeaseOptions(ttl=max(0, int(expire - now)), renewable=True)


def database_factory(*, allow_loopback: bool) -> Callable[[BackendContext], DatabaseBackend]:
    """A registry factory; ``allow_loopback`` is the operator's choice (databases often run on localhost)."""
    policy = EgressPolicy(allow_loopback=allow_loopback)
    return lambda ctx: DatabaseBackend(ctx, policy)
