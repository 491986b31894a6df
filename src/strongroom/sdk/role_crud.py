"""The role endpoints auth methods share: ``role/:name`` read, write, delete and existence, ``role/`` list.

Each auth method keeps its own role type, validation and storage; this module
only wires them to paths, so the five handlers are written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request, Response


class RoleRecord(Protocol):
    def response_data(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=RoleRecord)


class RoleStore(Protocol[R]):
    async def get(self, name: str) -> R | None: ...

    async def put(self, name: str, role: R) -> None: ...

    async def delete(self, name: str) -> None: ...

    async def names(self) -> list[str]: ...


class RoleCrud(Generic[R]):
    """Handlers for ``role/:name`` (field ``name``) and ``role/``.

    ``roles`` opens the request's role store, ``check_name`` validates a name
    (raising InvalidRequest), and ``changes`` builds the new role from the stored
    one (None when new) and the request's fields.
    """

    def __init__(
        self,
        roles: Callable[[Request], RoleStore[R]],
        check_name: Callable[[str], str],
        changes: Callable[[R | None, FieldData], R],
    ) -> None:
        self._roles = roles
        self._check_name = check_name
        self._changes = changes

    async def find(self, req: Request, name: str) -> R | None:
        """The role called ``name`` for a login, or None (also for a name that could never be valid)."""
        try:
            checked = self._check_name(name)
        except InvalidRequest:
            return None
        return await self._roles(req).get(checked)

    async def exists(self, req: Request, f: FieldData) -> bool:
        return await self._roles(req).get(self._check_name(f.get("name"))) is not None

    async def list(self, req: Request, f: FieldData) -> Response:
        return Response.list_of(await self._roles(req).names())

    async def read(self, req: Request, f: FieldData) -> Response:
        role = await self._roles(req).get(self._check_name(f.get("name")))
        if role is None:
            raise NotFound()
        return Response(data=role.response_data())

    async def write(self, req: Request, f: FieldData) -> None:
        name = self._check_name(f.get("name"))
        roles = self._roles(req)
        await roles.put(name, self._changes(await roles.get(name), f))

    async def delete(self, req: Request, f: FieldData) -> None:
        await self._roles(req).delete(self._check_name(f.get("name")))
