"""The AppRole auth method: Vault's paths, fields and answers.

Paths (relative to the mount):

* ``role/`` (LIST), ``role/:role_name`` (read, create/update, delete),
  ``role/:role_name/role-id`` (read, update);
* ``role/:role_name/secret-id`` (generate; LIST: accessors),
  ``role/:role_name/custom-secret-id``, ``role/:role_name/secret-id/lookup``,
  ``role/:role_name/secret-id/destroy``, ``role/:role_name/secret-id-accessor/lookup``,
  ``role/:role_name/secret-id-accessor/destroy``;
* ``login`` with ``{"role_id", "secret_id"}``, reachable without a token;
* ``tidy/secret-id``.

Login checks, all before a secret-ID use is spent: the role ID names a role;
the request's address (the connection's, never a header) lies in the role's
``secret_id_bound_cidrs``, in the secret ID's ``cidr_list`` and in the CIDRs the
token would be bound to; the secret ID exists under *this* role, is not expired
and has a use left. Any failure is the same 400 ``invalid role or secret ID``
(the reason goes to the debug log only), so a caller cannot tell a valid role ID
from an invalid one, or a valid secret ID from the wrong network. The lockout
principal is the presented role ID, as in Vault.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from strongroom.auth.approle.ids import Hasher, canonical_role_name, load_hasher, new_uuid, usable_id
from strongroom.auth.approle.roles import RoleEntry, Roles
from strongroom.auth.approle.secret_ids import SecretIdEntry, SecretIds
from strongroom.auth.approle.terms import ROLE_FIELDS, SECRET_ID_FIELDS, checked_role_id, role_changes, secret_id_terms
from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.token_params import address_allowed

log = logging.getLogger("strongroom.auth.approle")

R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST
INVALID_LOGIN = "invalid role or secret ID"
_ROLE = r"role/(?P<role_name>[^/]+)"
_STR = Field(FieldType.STRING)


class AppRoleBackend(FrameworkBackend):
    """One AppRole mount."""

    type_name = "approle"
    kind = "auth"

    def __init__(self, ctx: BackendContext) -> None:
        super().__init__(ctx)
        self._hasher: tuple[StorageBackend, Hasher] | None = None

    async def setup(self) -> None:
        await self._stores_for(self.ctx.storage)

    def unauthenticated_paths(self) -> list[str]:
        return ["login"]

    def login_principal(self, req: Request) -> str | None:
        return usable_id(req.data.get("role_id")) if req.path == "login" else None

    login_roles = True

    async def login_role(self, req: Request) -> str | None:
        """The role the presented role ID belongs to (one index read), as Vault resolves it for quotas."""
        role_id = usable_id(req.data.get("role_id")) if req.path == "login" else None
        if role_id is None:
            return None
        role = await (await self._stores(req))[0].by_role_id(role_id)
        return None if role is None else role.name

    def paths(self) -> list[Path]:
        sid = {**SECRET_ID_FIELDS, "secret_id": _STR}
        return [
            Path("role/?", {L: self._list_roles}, help="List roles."),
            Path(f"{_ROLE}/role-id", {R: self._read_role_id, U: self._write_role_id}, {"role_id": _STR}),
            Path(f"{_ROLE}/secret-id/?", {U: self._generate, L: self._list_accessors}, SECRET_ID_FIELDS),
            Path(f"{_ROLE}/custom-secret-id", {U: self._custom}, sid),
            Path(f"{_ROLE}/secret-id/lookup", {U: self._lookup}, {"secret_id": _STR}),
            Path(f"{_ROLE}/secret-id/destroy", {U: self._destroy, D: self._destroy}, {"secret_id": _STR}),
            Path(f"{_ROLE}/secret-id-accessor/lookup", {U: self._lookup_accessor}, {"secret_id_accessor": _STR}),
            Path(f"{_ROLE}/secret-id-accessor/destroy", {U: self._destroy_accessor, D: self._destroy_accessor},
                 {"secret_id_accessor": _STR}),
            Path(_ROLE, {R: self._read_role, U: self._write_role, C: self._write_role, D: self._delete_role},
                 ROLE_FIELDS, existence=self._role_exists),
            Path("login", {U: self._login}, {"role_id": _STR, "secret_id": _STR}, help="Log in with an AppRole."),
            Path("tidy/secret-id", {U: self._tidy}, help="Remove expired and orphaned secret IDs."),
        ]

    # -- storage ---------------------------------------------------------------------------

    async def _stores_for(self, storage: StorageBackend) -> tuple[Roles, SecretIds]:
        if self._hasher is None or self._hasher[0] is not storage:
            self._hasher = (storage, await load_hasher(storage, self.ctx.system.random_bytes))
        hasher = self._hasher[1]
        system = self.ctx.system
        return (Roles(storage, hasher, system.random_bytes),
                SecretIds(storage, hasher, clock=system.clock, random_bytes=system.random_bytes))

    async def _stores(self, req: Request) -> tuple[Roles, SecretIds]:
        return await self._stores_for(req.storage or self.ctx.storage)

    def _uuid(self) -> str:
        return new_uuid(self.ctx.system.random_bytes)

    async def _role(self, req: Request, f: FieldData) -> tuple[RoleEntry, SecretIds]:
        roles, secret_ids = await self._stores(req)
        name = _role_name(f)
        role = await roles.get(name)
        if role is None:
            raise InvalidRequest("role does not exist")
        return role, secret_ids

    # -- roles -------------------------------------------------------------------------------

    async def _role_exists(self, req: Request, f: FieldData) -> bool:
        name = canonical_role_name(f.get("role_name"))
        return name is not None and await (await self._stores(req))[0].get(name) is not None

    async def _list_roles(self, req: Request, f: FieldData) -> Response:
        return Response.list_of(await (await self._stores(req))[0].names())

    async def _read_role(self, req: Request, f: FieldData) -> Response:
        role = await (await self._stores(req))[0].get(_role_name(f))
        if role is None:
            raise NotFound()
        data: dict[str, Any] = {
            "bind_secret_id": role.bind_secret_id,
            "local_secret_ids": False,
            "secret_id_bound_cidrs": list(role.secret_id_bound_cidrs),
            "secret_id_num_uses": role.secret_id_num_uses,
            "secret_id_ttl": role.secret_id_ttl,
            **role.token.response_data(),
        }
        if role.token.policies:
            data["policies"] = list(role.token.policies)  # Vault's older names, still read by clients
        if role.token.period:
            data["period"] = role.token.period
        return Response(data=data)

    async def _write_role(self, req: Request, f: FieldData) -> None:
        name = _role_name(f)
        roles, _ = await self._stores(req)

        async def change(current: RoleEntry | None) -> RoleEntry:
            base = current or RoleEntry(name=name, instance=self._uuid(), role_id=self._uuid())
            return role_changes(base, f)

        await roles.change(name, change)

    async def _delete_role(self, req: Request, f: FieldData) -> None:
        roles, secret_ids = await self._stores(req)
        role = await roles.delete(_role_name(f))
        if role is not None:
            # Unreachable already (filed under the deleted instance); removed now rather than at the next tidy.
            await secret_ids.tidy(await roles.instances())

    async def _read_role_id(self, req: Request, f: FieldData) -> Response:
        role = await (await self._stores(req))[0].get(_role_name(f))
        if role is None:
            raise NotFound()
        return Response(data={"role_id": role.role_id})

    async def _write_role_id(self, req: Request, f: FieldData) -> None:
        name = _role_name(f)
        if not f.has("role_id"):
            raise InvalidRequest("missing role_id")
        role_id = checked_role_id(f.get("role_id"))
        roles, _ = await self._stores(req)

        async def change(current: RoleEntry | None) -> RoleEntry:
            if current is None:
                raise InvalidRequest("role does not exist")
            return replace(current, role_id=role_id)

        await roles.change(name, change)

    # -- secret IDs --------------------------------------------------------------------------

    async def _generate(self, req: Request, f: FieldData) -> Response:
        return await self._issue(req, f, self._uuid())

    async def _custom(self, req: Request, f: FieldData) -> Response:
        secret_id = usable_id(f.get("secret_id")) if f.has("secret_id") else None
        if secret_id is None:
            raise InvalidRequest("missing secret_id")
        return await self._issue(req, f, secret_id)

    async def _issue(self, req: Request, f: FieldData, secret_id: str) -> Response:
        role, secret_ids = await self._role(req, f)
        if not role.bind_secret_id:
            raise InvalidRequest("bind_secret_id is not set on the role")
        terms = secret_id_terms(f, role)
        accessor = self._uuid()
        if await secret_ids.issue(role.instance, secret_id, accessor, terms) is None:
            raise InvalidRequest("SecretID is already registered")
        return Response(data={"secret_id": secret_id, "secret_id_accessor": accessor,
                              "secret_id_ttl": terms.ttl, "secret_id_num_uses": terms.num_uses})

    async def _list_accessors(self, req: Request, f: FieldData) -> Response:
        role, secret_ids = await self._role(req, f)
        return Response.list_of(await secret_ids.accessors(role.instance))

    async def _lookup(self, req: Request, f: FieldData) -> Response | None:
        role, secret_ids = await self._role(req, f)
        secret_id = usable_id(f.get("secret_id")) if f.has("secret_id") else None
        if secret_id is None:
            raise InvalidRequest("missing secret_id")
        found = await secret_ids.find(role.instance, secret_id)
        return Response(data=found[1].lookup_data()) if found else None  # Vault: 204 for an unknown secret ID

    async def _destroy(self, req: Request, f: FieldData) -> None:
        role, secret_ids = await self._role(req, f)
        secret_id = usable_id(f.get("secret_id")) if f.has("secret_id") else None
        if secret_id is None:
            raise InvalidRequest("missing secret_id")
        await secret_ids.destroy_presented(role.instance, secret_id)

    async def _by_accessor(self, req: Request, f: FieldData) -> tuple[str, SecretIdEntry, SecretIds]:
        role, secret_ids = await self._role(req, f)
        accessor = usable_id(f.get("secret_id_accessor")) if f.has("secret_id_accessor") else None
        if accessor is None:
            raise InvalidRequest("missing secret_id_accessor")
        found = await secret_ids.find_by_accessor(role.instance, accessor)
        if found is None:
            raise NotFound("no secret ID of this role has that accessor")
        return found[0], found[1], secret_ids

    async def _lookup_accessor(self, req: Request, f: FieldData) -> Response:
        _, entry, _ = await self._by_accessor(req, f)
        return Response(data=entry.lookup_data())

    async def _destroy_accessor(self, req: Request, f: FieldData) -> None:
        key, entry, secret_ids = await self._by_accessor(req, f)
        await secret_ids.destroy(key, entry)

    async def _tidy(self, req: Request, f: FieldData) -> Response:
        roles, secret_ids = await self._stores(req)
        removed = await secret_ids.tidy(await roles.instances())
        for key in await roles.stale_index_keys():
            await roles.storage.delete(key)
        log.info("approle tidy on %s removed %d secret IDs", self.ctx.mount_point, removed)
        return Response(status=202, warnings=[f"Tidy operation completed: {removed} secret IDs removed."])

    # -- login -------------------------------------------------------------------------------

    async def _login(self, req: Request, f: FieldData) -> Response:
        if not f.has("role_id") or f.get("role_id") == "":
            raise InvalidRequest("missing role_id")
        role_id = usable_id(f.get("role_id"))
        roles, secret_ids = await self._stores(req)
        role = await roles.by_role_id(role_id) if role_id is not None else None
        if role is None:
            log.debug("approle login refused: unknown role ID")
            raise InvalidRequest(INVALID_LOGIN)
        address = req.remote_addr

        def admits(entry: SecretIdEntry | None) -> bool:
            token_cidrs = entry.token_bound_cidrs if entry is not None and entry.token_bound_cidrs else None
            return (address_allowed(address, role.secret_id_bound_cidrs)
                    and (entry is None or address_allowed(address, entry.cidr_list))
                    and address_allowed(address, token_cidrs or role.token.bound_cidrs))

        entry: SecretIdEntry | None = None
        if role.bind_secret_id:
            secret_id = usable_id(f.get("secret_id")) if f.has("secret_id") else None
            if secret_id is not None:
                entry = await secret_ids.spend(role.instance, secret_id, admits, dry_run=req.login_locked)
            if entry is None:
                log.debug("approle login refused: secret ID unknown, expired, used up or from outside its CIDRs")
                raise InvalidRequest(INVALID_LOGIN)
        elif not admits(None):
            log.debug("approle login refused: source address outside the role's CIDRs")
            raise InvalidRequest(INVALID_LOGIN)
        if req.login_locked:
            raise InvalidRequest(INVALID_LOGIN)
        metadata = {**(entry.metadata if entry is not None else {}), "role_name": role.name}
        auth = role.token.auth(
            display_name="",
            metadata=metadata,
            alias_name=role.role_id,
            bound_cidrs=entry.token_bound_cidrs if entry is not None and entry.token_bound_cidrs else None,
            internal_data={"role_name": role.name, **({"secret_id_accessor": entry.accessor} if entry else {})},
        )
        auth.alias_metadata = {"role_name": role.name}
        return Response(auth=auth)


def _role_name(f: FieldData) -> str:
    name = canonical_role_name(f.get("role_name"))
    if name is None:
        raise InvalidRequest(
            "invalid role name: use letters, digits, '_', '-' and '.', starting and ending with a letter, "
            "digit or '_'"
        )
    return name

