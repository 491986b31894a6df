"""``sys/namespaces`` (Vault Enterprise's API), merged into each namespace's ``sys/`` backend.

Paths are relative to the namespace the request is in: ``sys/namespaces/app`` sent
to ``team/`` creates ``team/app/``. Listings show the direct children; reads and
answers carry the full path from the root, as Vault does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strongroom.core.namespaces.model import NamespaceEntry, validate_metadata
from strongroom.errors import NotFound
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response

if TYPE_CHECKING:
    from strongroom.core.namespaces.manager import NamespaceManager
    from strongroom.core.namespaces.scope import NamespaceScope

_FIELDS = {"path": Field(T.STRING), "custom_metadata": Field(T.ANY)}


def namespace_json(entry: NamespaceEntry) -> dict[str, Any]:
    return {"id": entry.id, "path": entry.path, "custom_metadata": dict(entry.custom_metadata)}


def namespace_paths(manager: NamespaceManager, scope: NamespaceScope) -> list[Path]:
    async def list_children(req: Request, _: FieldData) -> Response:
        children = manager.children(scope)
        keys = [child.relative_to(scope) for child in children]
        info = {child.relative_to(scope): namespace_json(child.entry) for child in children}
        return Response(data={"keys": keys, "key_info": info})

    async def read(req: Request, f: FieldData) -> Response:
        from strongroom.core.namespaces.model import normalize_namespace_path

        found = manager.by_path(scope.path + normalize_namespace_path(f.get("path")))
        if found is None or found is scope:
            raise NotFound()
        return Response(data=namespace_json(found.entry))

    async def create(req: Request, f: FieldData) -> Response:
        entry = await manager.create(scope, f.get("path"), validate_metadata(f.raw.get("custom_metadata")))
        return Response(data=namespace_json(entry))

    async def patch(req: Request, f: FieldData) -> Response:
        entry = await manager.patch(scope, f.get("path"), validate_metadata(f.raw.get("custom_metadata")))
        return Response(data=namespace_json(entry))

    async def delete(req: Request, f: FieldData) -> None:
        await manager.delete(scope, f.get("path"))

    r, u, c, d, ls, p = (Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST,
                         Operation.PATCH)
    return [
        Path("namespaces/?", {ls: list_children}, help="List the namespaces directly below this one."),
        Path("namespaces/(?P<path>.+)", {r: read, u: create, c: create, p: patch, d: delete}, _FIELDS,
             help="Create, read, patch or delete a namespace (and everything in it)."),
    ]
