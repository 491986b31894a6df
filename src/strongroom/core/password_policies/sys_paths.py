"""``sys/policies/password/:name`` (GET, PUT/POST, DELETE), LIST ``sys/policies/password`` and
``sys/policies/password/:name/generate`` (GET), as in Vault.

Every write and delete lands in the barrier and bumps the storage generation, so each
worker drops its cached sampler before the call returns to a client that then talks
to another worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response

if TYPE_CHECKING:
    from strongroom.core.core import Core

R, U, D, L = Operation.READ, Operation.UPDATE, Operation.DELETE, Operation.LIST

_WRITE_FIELDS = {"policy": Field(T.STRING), "entropy_source": Field(T.STRING, "")}


def password_policy_paths(core: Core) -> list[Path]:
    store = core.password_policies

    async def read(req: Request, f: FieldData) -> Response:
        stored = await store.get(str(f.get("name")))
        if stored is None:
            raise NotFound()
        return Response(data={"policy": stored.text})

    async def write(req: Request, f: FieldData) -> None:
        # Imported here: sys_backend imports this module to merge these paths.
        from strongroom.core.sys_backend import decode_policy_text

        if not f.has("policy") or not str(f.get("policy")).strip():
            raise InvalidRequest("missing password policy")
        if f.get("entropy_source") != "":
            raise InvalidRequest("'entropy_source' is not supported: passwords always use the system source")
        await store.put(str(f.get("name")), decode_policy_text(str(f.get("policy"))))
        await core.bump_generation()

    async def delete(req: Request, f: FieldData) -> None:
        await store.delete(str(f.get("name")))
        await core.bump_generation()

    async def list_names(req: Request, f: FieldData) -> Response:
        return Response.list_of(await store.list())

    async def generate(req: Request, f: FieldData) -> Response:
        return Response(data={"password": await store.generate(str(f.get("name")))})

    return [
        Path("policies/password/?", {L: list_names}, help="Names of the password policies."),
        Path("policies/password/(?P<name>.+)/generate", {R: generate},
             help="A new password drawn uniformly from the named policy."),
        Path("policies/password/(?P<name>.+)", {R: read, U: write, D: delete}, _WRITE_FIELDS,
             help="One password policy: HCL or JSON rules (length, charset rules with min-chars)."),
    ]
