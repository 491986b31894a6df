"""The ``auth/token/`` backend: Vault's token auth method API over a :class:`TokenStore`.

Paths and answers follow Vault's token auth method API. Status codes follow
Vault too: looking up a token that is not alive answers 403 ``bad token``;
revoking one answers 204 (revocation is idempotent); renewing one answers 400
``token not found``; an unknown accessor answers 400 ``invalid accessor``
except for revoke-accessor (204).

The caller's own token is ``req.client_token``; its right to ``sudo`` on the
path is ``req.sudo`` (the core's ACL decision). A root token always counts
as sudo. ``accessors`` and ``revoke-orphan`` are also declared as sudo paths
so the core refuses callers without sudo before dispatch.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strongroom.core.tokens.create import CREATE_FIELDS, plan_token
from strongroom.core.tokens.entry import TokenEntry
from strongroom.core.tokens.policies import ROOT_POLICY
from strongroom.core.tokens.responses import lookup_data, token_auth
from strongroom.core.tokens.roles import ROLE_FIELDS, ROLE_NAME, RoleStore, TokenRole, apply_role_fields
from strongroom.core.tokens.store import TokenStore
from strongroom.errors import InvalidRequest, NotFound, PermissionDenied
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, Operation, Request, Response

C, R, U, D, L = Operation.CREATE, Operation.READ, Operation.UPDATE, Operation.DELETE, Operation.LIST
TOKEN = {"token": Field(T.STRING, "", "the token to act on")}
ACCESSOR = {"accessor": Field(T.STRING, "", "the accessor of the token to act on")}
INCREMENT = {"increment": Field(T.DURATION, 0, "requested extension; may be capped or ignored")}
DEFAULT_MOUNT = "auth/token/"
#: The core's lookup of a caller token across namespaces: (entry, id of the namespace it lives in, that
#: namespace's token store) or None.
FindCaller = Callable[[str], Awaitable[tuple[TokenEntry, str, TokenStore] | None]]


class TokenBackend(FrameworkBackend):
    """Built in at ``auth/token/``; the core constructs it with the core's token store."""

    type_name = "token"
    kind = "auth"

    def __init__(self, ctx: BackendContext, store: TokenStore, *, find_caller: FindCaller | None = None) -> None:
        super().__init__(ctx)
        self.store = store
        #: Finds the caller's token where it lives: in a namespace, a token of an ancestor
        #: namespace may act here too (the core's namespace-aware lookup).
        self.find_caller = find_caller
        self.roles = RoleStore(ctx.storage)
        #: The identity policies of a token now (set by the mount manager); token lookups show them.
        self.identity_policies: Callable[[TokenEntry], Awaitable[list[str]]] | None = None

    def sudo_paths(self) -> Sequence[str]:
        return ("accessors/?", "revoke-orphan")

    def paths(self) -> Sequence[Path]:
        role = f"(?P<role_name>{ROLE_NAME})"
        return [
            Path("create", {U: self._create}, CREATE_FIELDS, help="create a child token"),
            Path("create-orphan", {U: self._create_orphan}, CREATE_FIELDS, help="create an orphan token"),
            Path(f"create/{role}", {U: self._create_with_role}, CREATE_FIELDS, help="create through a role"),
            Path("lookup", {U: self._lookup, R: self._lookup}, TOKEN, help="look up a token"),
            Path("lookup-self", {R: self._lookup_self, U: self._lookup_self}, help="look up the caller"),
            Path("lookup-accessor", {U: self._lookup_accessor}, ACCESSOR, help="look up by accessor"),
            Path("renew", {U: self._renew}, {**TOKEN, **INCREMENT}, help="renew a token"),
            Path("renew-self", {U: self._renew_self}, INCREMENT, help="renew the caller"),
            Path("renew-accessor", {U: self._renew_accessor}, {**ACCESSOR, **INCREMENT}, help="renew"),
            Path("revoke", {U: self._revoke}, TOKEN, help="revoke a token and its children"),
            Path("revoke-self", {U: self._revoke_self}, help="revoke the caller and its children"),
            Path("revoke-accessor", {U: self._revoke_accessor}, ACCESSOR, help="revoke by accessor"),
            Path("revoke-orphan", {U: self._revoke_orphan}, TOKEN, help="revoke, orphan the children"),
            Path("roles/?", {L: self._list_roles}, help="list token roles"),
            Path(
                f"roles/{role}",
                {R: self._read_role, C: self._write_role, U: self._write_role, D: self._delete_role},
                ROLE_FIELDS,
                existence=self._role_exists,
                help="manage a token role",
            ),
            Path("accessors/?", {L: self._list_accessors}, help="list accessors (sudo)"),
            Path("tidy", {U: self._tidy}, help="clean up after interrupted revocations"),
        ]

    # -- create ----------------------------------------------------------------------------

    async def _create(self, req: Request, data: FieldData) -> Response:
        return await self._create_common(req, data, orphan_endpoint=False, role=None)

    async def _create_orphan(self, req: Request, data: FieldData) -> Response:
        return await self._create_common(req, data, orphan_endpoint=True, role=None)

    async def _create_with_role(self, req: Request, data: FieldData) -> Response:
        name: str = data.get("role_name")
        role = await self.roles.get(name)
        if role is None:
            raise InvalidRequest(f"unknown role {name}")
        return await self._create_common(req, data, orphan_endpoint=False, role=role)

    async def _create_common(
        self, req: Request, data: FieldData, *, orphan_endpoint: bool, role: TokenRole | None
    ) -> Response:
        parent = await self.store.lookup(req.client_token) if req.client_token else None
        outer_parent = ""
        if parent is None and req.client_token and self.find_caller is not None:
            found = await self.find_caller(req.client_token)
            if found is not None:
                # The caller's token lives in an ancestor namespace: the new token hangs from it there.
                parent, outer_parent = found[0], f"{found[1]}:{found[0].id_hash}"
        if parent is None:
            raise InvalidRequest("parent token lookup failed: no parent found")
        plan = plan_token(
            data,
            parent=parent,
            role=role,
            sudo=req.sudo,
            orphan_endpoint=orphan_endpoint,
            path=(req.mount_point or DEFAULT_MOUNT) + req.path,
        )
        warnings = list(plan.warnings)
        token, entry = await self.store.create(
            plan.spec, creator=parent, system=self.ctx.system, orphan=plan.orphan, warnings=warnings,
            outer_parent=outer_parent,
        )
        return Response(auth=token_auth(entry, client_token=token), warnings=warnings)

    # -- lookup ----------------------------------------------------------------------------

    async def _lookup(self, req: Request, data: FieldData) -> Response:
        return await self._lookup_token(req, data.get("token") or req.client_token)

    async def _lookup_self(self, req: Request, data: FieldData) -> Response:
        if req.client_token and self.find_caller is not None and await self.store.lookup(req.client_token) is None:
            # The caller's token comes from an ancestor namespace: it is described as it is there.
            found = await self.find_caller(req.client_token)
            if found is not None:
                return Response(data=await self._described(found[0], req.client_token))
        return await self._lookup_token(req, req.client_token)

    async def _lookup_token(self, req: Request, token: str) -> Response:
        if not token:
            raise InvalidRequest("missing token ID")
        # The caller's own token may be on its last use, which this very request is spending.
        own = bool(req.client_token) and hmac.compare_digest(token.encode(), req.client_token.encode())
        entry = await self.store.lookup(token, include_pending=own)
        if entry is None:
            raise PermissionDenied("bad token")
        return Response(data=await self._described(entry, token))

    async def _lookup_accessor(self, req: Request, data: FieldData) -> Response:
        entry = await self._by_accessor(data)
        return Response(data=await self._described(entry, ""))

    async def _described(self, entry: TokenEntry, token_id: str) -> dict[str, Any]:
        identity = await self.identity_policies(entry) if self.identity_policies is not None else None
        return lookup_data(entry, token_id=token_id, now=self.store.now(), identity_policies=identity)

    # -- renew -----------------------------------------------------------------------------

    async def _renew(self, req: Request, data: FieldData) -> Response:
        token: str = data.get("token")
        if not token:
            raise InvalidRequest("missing token ID")
        return await self._renew_entry(await self._existing(token), data.get("increment"), client_token=token)

    async def _renew_self(self, req: Request, data: FieldData) -> Response:
        if not req.client_token:
            raise InvalidRequest("missing token ID")
        entry = await self._existing(req.client_token)
        return await self._renew_entry(entry, data.get("increment"), client_token=req.client_token)

    async def _renew_accessor(self, req: Request, data: FieldData) -> Response:
        entry = await self._by_accessor(data)
        return await self._renew_entry(entry, data.get("increment"), client_token="")

    async def _existing(self, token: str) -> TokenEntry:
        entry = await self.store.lookup(token)
        if entry is None:
            raise InvalidRequest("token not found")
        return entry

    async def _renew_entry(self, entry: TokenEntry, increment: int, *, client_token: str) -> Response:
        if entry.role and await self.roles.get(entry.role) is None:
            raise InvalidRequest(f"original token role {entry.role!r} could not be found, not renewing")
        warnings: list[str] = []
        renewed = await self.store.renew(entry, increment, system=self.ctx.system, warnings=warnings)
        auth = token_auth(renewed, client_token=client_token)
        return Response(auth=auth, warnings=warnings)

    # -- revoke ----------------------------------------------------------------------------

    async def _revoke(self, req: Request, data: FieldData) -> None:
        token: str = data.get("token")
        if not token:
            raise InvalidRequest("missing token ID")
        await self._revoke_if_alive(token)

    async def _revoke_self(self, req: Request, data: FieldData) -> None:
        if not req.client_token:
            raise InvalidRequest("missing token ID")
        if self.find_caller is not None and await self.store.lookup(req.client_token) is None:
            # A token of an ancestor namespace revokes itself where it lives.
            found = await self.find_caller(req.client_token)
            if found is not None:
                await found[2].revoke_tree(found[0])
                return
        await self._revoke_if_alive(req.client_token)

    async def _revoke_if_alive(self, token: str) -> None:
        entry = await self.store.lookup(token)
        if entry is not None:
            await self.store.revoke_tree(entry)

    async def _revoke_accessor(self, req: Request, data: FieldData) -> None:
        accessor: str = data.get("accessor")
        if not accessor:
            raise InvalidRequest("missing accessor")
        entry = await self.store.lookup_accessor(accessor)
        if entry is not None:
            await self.store.revoke_tree(entry)

    async def _revoke_orphan(self, req: Request, data: FieldData) -> None:
        if not self._sudo(req):
            raise InvalidRequest("root or sudo privileges required to revoke and orphan")
        token: str = data.get("token")
        if not token:
            raise InvalidRequest("missing token ID")
        entry = await self.store.lookup(token)
        if entry is None:
            raise InvalidRequest("token to revoke not found")
        await self.store.revoke_orphan(entry)

    # -- roles -----------------------------------------------------------------------------

    async def _list_roles(self, req: Request, data: FieldData) -> Response:
        return Response.list_of(await self.roles.names())

    async def _read_role(self, req: Request, data: FieldData) -> Response:
        role = await self.roles.get(data.get("role_name"))
        if role is None:
            raise NotFound()
        return Response(data=role.to_data())

    async def _write_role(self, req: Request, data: FieldData) -> Response | None:
        name: str = data.get("role_name")
        existing = await self.roles.get(name)
        role, warnings = apply_role_fields(
            existing or TokenRole(name=name), data, creating=existing is None, system=self.ctx.system
        )
        await self.roles.put(role)
        return Response(warnings=warnings) if warnings else None

    async def _delete_role(self, req: Request, data: FieldData) -> None:
        await self.roles.delete(data.get("role_name"))

    async def _role_exists(self, req: Request, data: FieldData) -> bool:
        return await self.roles.get(data.get("role_name")) is not None

    # -- accessors and tidy ------------------------------------------------------------------

    async def _list_accessors(self, req: Request, data: FieldData) -> Response:
        if not self._sudo(req):
            raise PermissionDenied()
        return Response.list_of(await self.store.list_accessors())

    async def _tidy(self, req: Request, data: FieldData) -> Response:
        report = await self.store.tidy()
        return Response(
            data={
                "tokens_scanned": report.tokens_scanned,
                "tokens_revoked": report.tokens_revoked,
                "accessors_deleted": report.accessors_deleted,
                "parent_index_entries_deleted": report.parent_index_entries_deleted,
            }
        )

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _sudo(req: Request) -> bool:
        return req.sudo or ROOT_POLICY in req.caller.policies

    async def _by_accessor(self, data: FieldData) -> TokenEntry:
        accessor: str = data.get("accessor")
        if not accessor:
            raise InvalidRequest("missing accessor")
        entry = await self.store.lookup_accessor(accessor)
        if entry is None:
            raise InvalidRequest("invalid accessor")
        return entry
