"""``roles/:name`` (read, write, patch, delete) and ``LIST roles``.

A POST replaces the whole role (elided fields take their defaults); a PATCH
changes only the fields it names, as in Vault. Both answer the role as
stored. Roles live at ``role/<name>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import FieldData
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict

from .codec import decode, encode
from .role import ROLE_FIELDS, Role, role_from_fields
from .state import PKIState

ROLE_PREFIX = "role/"
#: Vault's role-name pattern: word characters, with '-' and '.' inside.
ROLE_NAME = r"(?P<name>\w(?:[\w.-]*\w)?)"


async def load_role(storage: StorageBackend, name: str) -> Role | None:
    raw = await storage.get(ROLE_PREFIX + name)
    return None if raw is None else Role.from_json(decode(raw))


async def require_role(storage: StorageBackend, name: str) -> Role:
    """The role ``name`` or a 400 with Vault's wording (the name matched the strict path pattern)."""
    role = await load_role(storage, name)
    if role is None:
        raise InvalidRequest(f"unknown role: {name}")
    return role


class RolePaths:
    def __init__(self, state: PKIState) -> None:
        self.state = state

    def paths(self) -> Sequence[Path]:
        return [
            Path(r"roles/?", {Operation.LIST: self.list_roles}, help="List the role names."),
            Path(
                "roles/" + ROLE_NAME,
                {Operation.READ: self.read, Operation.UPDATE: self.write, Operation.PATCH: self.patch,
                 Operation.DELETE: self.delete},
                ROLE_FIELDS,
                existence=self.exists,
                help="Manage the rules certificates issued under a role follow.",
            ),
        ]

    async def exists(self, req: Request, fd: FieldData) -> bool:
        return await self.state.storage(req).get(ROLE_PREFIX + fd.get("name")) is not None

    async def list_roles(self, req: Request, fd: FieldData) -> Response:
        names = await self.state.storage(req).list(ROLE_PREFIX)
        if not names:
            raise NotFound()
        return Response.list_of(names)

    async def read(self, req: Request, fd: FieldData) -> Response:
        role = await load_role(self.state.storage(req), fd.get("name"))
        if role is None:
            raise NotFound()
        return Response(data=role.to_json())

    async def write(self, req: Request, fd: FieldData) -> Response:
        role = role_from_fields(fd)
        await self.state.storage(req).put(ROLE_PREFIX + fd.get("name"), encode(role.to_json()))
        return Response(data=role.to_json())

    async def patch(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        key = ROLE_PREFIX + fd.get("name")

        async def attempt() -> Role:
            raw, version = await storage.get_with_version(key)
            if raw is None:
                raise NotFound()
            role = role_from_fields(fd, base=Role.from_json(decode(raw)))
            await storage.transaction([TxnOp(key, encode(role.to_json()))], [Precondition(key, version)])
            return role

        role = await retry_on_conflict(attempt, random_bytes=self.state.ctx.system.random_bytes)
        return Response(data=role.to_json())

    async def delete(self, req: Request, fd: FieldData) -> None:
        await self.state.storage(req).delete(ROLE_PREFIX + fd.get("name"))
