"""The ``database`` engine's paths: connections, dynamic roles, credentials, and their leases.

Paths (Vault-compatible): ``config/:name`` (write/read/delete), LIST ``config/``;
``roles/:name`` (write/read/delete), LIST ``roles/``; ``creds/:name`` (read: a new
database user with a lease). Lease revocation drops the user and ends its sessions
(:meth:`DatabaseBackend.revoke_secret`); renewal moves its ``VALID UNTIL``.
Only ``postgresql-database-plugin`` is supported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, LeaseOptions, Operation, Request, Response, SecretLease

from .config import PLUGIN_POSTGRES, ConnectionConfig, RoleConfig
from .postgres import Postgres
from .templates import check_password, render_username, validate_username_template

CONFIG = "config/"
ROLE = "role/"
_NAME = r"(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)"
_VALID_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

_CONFIG_FIELDS = {
    "plugin_name": Field(T.STRING, "", "Database plugin; only postgresql-database-plugin."),
    "connection_url": Field(T.STRING, "", "postgres:// URL; may contain {{username}} and {{password}}."),
    "username": Field(T.STRING, "", "Connection user (fills {{username}})."),
    "password": Field(T.STRING, "", "Connection password (fills {{password}}; never returned)."),
    "allowed_roles": Field(T.STRING_LIST, [], "Role names (globs) that may use this connection."),
    "verify_connection": Field(T.BOOL, True, "Connect before storing the configuration."),
    "max_open_connections": Field(T.INT, 4, "Most connections open at once per server process."),
    "password_policy": Field(T.STRING, "", "Password policy for generated passwords (empty: default)."),
    "username_template": Field(T.STRING, "", "Template for generated usernames."),
}
_ROLE_FIELDS = {
    "db_name": Field(T.STRING, "", "The connection (database/config/:name) to use."),
    "creation_statements": Field(T.STRING_LIST, [], "SQL creating the user."),
    "revocation_statements": Field(T.STRING_LIST, [], "SQL dropping the user (empty: a safe default)."),
    "default_ttl": Field(T.DURATION, 0, "Lease TTL (0: the mount default)."),
    "max_ttl": Field(T.DURATION, 0, "Lease max TTL (0: the mount max)."),
}


class DatabaseBackend(FrameworkBackend):
    """Dynamic PostgreSQL credentials. ``egress`` decides which hosts a connection_url may reach."""

    type_name = "database"

    def __init__(self, ctx: BackendContext, egress: EgressPolicy | None = None) -> None:
        super().__init__(ctx)
        self.egress = egress or EgressPolicy()

    def paths(self) -> Sequence[Path]:
        return [
            Path("config/?", {Operation.LIST: self._list_configs}),
            Path(f"config/{_NAME}", {Operation.UPDATE: self._write_config, Operation.CREATE: self._write_config,
                                      Operation.READ: self._read_config, Operation.DELETE: self._delete_config},
                 {"name": Field(T.STRING), **_CONFIG_FIELDS}),
            Path("roles/?", {Operation.LIST: self._list_roles}),
            Path(f"roles/{_NAME}", {Operation.UPDATE: self._write_role, Operation.CREATE: self._write_role,
                                     Operation.READ: self._read_role, Operation.DELETE: self._delete_role},
                 {"name": Field(T.STRING), **_ROLE_FIELDS}),
            Path(f"creds/{_NAME}", {Operation.READ: self._creds}, {"name": Field(T.STRING)}),
        ]

    # -- connections -----------------------------------------------------------------------------

    async def _config(self, name: str) -> ConnectionConfig | None:
        raw = await self.ctx.storage.get(CONFIG + name)
        return None if raw is None else ConnectionConfig.decode(raw)

    async def _write_config(self, req: Request, f: FieldData) -> None:
        f.validate()
        name = f.get("name")
        old = await self._config(name)
        plugin = f.get("plugin_name") or (old.plugin_name if old else "")
        if plugin != PLUGIN_POSTGRES:
            raise InvalidRequest(f"plugin_name must be {PLUGIN_POSTGRES!r} (the only plugin supported)")

        def pick(key: str, current: Any) -> Any:
            return f.get(key) if f.has(key) or old is None else current

        template = pick("username_template", old.username_template if old else "")
        validate_username_template(template)
        config = ConnectionConfig(
            name=name, plugin_name=plugin,
            connection_url=pick("connection_url", old.connection_url if old else ""),
            username=pick("username", old.username if old else ""),
            password=pick("password", old.password if old else ""),
            allowed_roles=tuple(pick("allowed_roles", list(old.allowed_roles) if old else [])),
            max_open_connections=pick("max_open_connections", old.max_open_connections if old else 4),
            password_policy=pick("password_policy", old.password_policy if old else ""),
            username_template=template,
            verify_connection=f.get("verify_connection"),
        )
        if not config.connection_url:
            raise InvalidRequest("connection_url is required")
        if config.max_open_connections < 1:
            raise InvalidRequest("max_open_connections must be at least 1")
        if config.verify_connection:
            await Postgres(config, self.egress).verify()
        await self.ctx.storage.put(CONFIG + name, config.encode())

    async def _read_config(self, req: Request, f: FieldData) -> Response:
        config = await self._config(f.get("name"))
        if config is None:
            raise NotFound()
        return Response(data=config.public())

    async def _delete_config(self, req: Request, f: FieldData) -> None:
        await self.ctx.storage.delete(CONFIG + f.get("name"))

    async def _list_configs(self, req: Request, f: FieldData) -> Response:
        keys = [k for k in await self.ctx.storage.list(CONFIG) if not k.endswith("/")]
        if not keys:
            raise NotFound()
        return Response.list_of(sorted(keys))

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
        role = RoleConfig(name=f.get("name"), db_name=f.get("db_name"), creation_statements=tuple(statements),
                          revocation_statements=tuple(s for s in f.get("revocation_statements") if s.strip()),
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
        keys = [k for k in await self.ctx.storage.list(ROLE) if not k.endswith("/")]
        if not keys:
            raise NotFound()
        return Response.list_of(sorted(keys))

    # -- credentials -----------------------------------------------------------------------------

    async def _creds(self, req: Request, f: FieldData) -> Response:
        role = await self._role(f.get("name"))
        if role is None:
            raise InvalidRequest(f"unknown role: {f.get('name')}")
        config = await self._config(role.db_name)
        if config is None:
            raise InvalidRequest(f"database connection {role.db_name!r} does not exist")
        if not config.allows(role.name):
            raise InvalidRequest(f"role {role.name!r} is not allowed by database connection {config.name!r}")
        system = self.ctx.system
        now = system.clock()
        ttl = min(role.default_ttl or system.default_lease_ttl, role.max_ttl or system.max_lease_ttl,
                  system.max_lease_ttl)
        username = render_username(config.username_template, display_name=req.caller.display_name or "token",
                                   role=role.name, now=now, random_bytes=system.random_bytes)
        password = await self._password(config)
        await Postgres(config, self.egress).create_user(role.creation_statements, username, password, now + ttl)
        return Response(
            data={"username": username, "password": password},
            secret=LeaseOptions(ttl=ttl, max_ttl=role.max_ttl, renewable=True,
                                internal={"username": username, "db_name": config.name, "role": role.name}),
        )

    async def _password(self, config: ConnectionConfig) -> str:
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

    async def _lease_target(self, lease: SecretLease) -> tuple[Postgres, str, RoleConfig | None]:
        config = await self._config(str(lease.internal["db_name"]))
        if config is None:
            raise InvalidRequest(f"database connection {lease.internal['db_name']!r} no longer exists")
        role = await self._role(str(lease.internal["role"]))
        return Postgres(config, self.egress), str(lease.internal["username"]), role

    async def revoke_secret(self, lease: SecretLease) -> None:
        """Drop the lease's user (the role's revocation_statements, else the safe default). Idempotent."""
        db, username, role = await self._lease_target(lease)
        await db.revoke_user(username, role.revocation_statements if role else ())

    async def renew_secret(self, lease: SecretLease, increment: int) -> LeaseOptions:
        """Extend the user's ``VALID UNTIL`` to the renewed expiry (capped by the role's max TTL)."""
        db, username, role = await self._lease_target(lease)
        system = self.ctx.system
        now = system.clock()
        ttl = increment or (role.default_ttl if role and role.default_ttl else system.default_lease_ttl)
        cap = role.max_ttl if role and role.max_ttl else system.max_lease_ttl
        expire = min(now + ttl, lease.issue_time + min(cap, system.max_lease_ttl))
        await db.renew_user(username, expire)
        return LeaseOptions(ttl=max(0, int(expire - now)), renewable=True)


def database_factory(*, allow_loopback: bool) -> Callable[[BackendContext], DatabaseBackend]:
    """A registry factory; ``allow_loopback`` is the operator's choice (databases often run on localhost)."""
    policy = EgressPolicy(allow_loopback=allow_loopback)
    return lambda ctx: DatabaseBackend(ctx, policy)
