"""Key management: ``keys/:name`` (create, read, delete), ``keys`` (list), ``config``, ``rotate``, ``trim``."""

from __future__ import annotations

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request, Response

from .creation import CreateOptions, new_policy
from .describe import describe
from .encoding import field_bytes
from .engine import Engine
from .keytypes import parse_key_type
from .policy import KeyPolicy
from .rotation import rotate
from .tuning import ConfigChange, apply_config, trim


class KeyHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def create(self, req: Request, fd: FieldData) -> Response:
        """Create a key; an existing key is left as is and described, with Vault's warning."""
        name: str = fd.get("name")
        opts = CreateOptions(
            key_type=parse_key_type(fd.get("type")),
            derived=fd.get("derived"),
            convergent=fd.get("convergent_encryption"),
            exportable=fd.get("exportable"),
            allow_plaintext_backup=fd.get("allow_plaintext_backup"),
            auto_rotate_period=fd.get("auto_rotate_period"),
            key_size=fd.get("key_size"),
        )
        store = self.engine.store(req)
        existing = await store.get(name)
        if existing is None:
            fresh = await new_policy(name, opts, store.random_bytes, self.engine.now())
            existing, created = await store.create(fresh)
            if created:
                return Response(data=describe(existing))
        return Response(data=describe(existing), warnings=[f"key {name} already existed"])

    async def read(self, req: Request, fd: FieldData) -> Response:
        policy = await self.engine.store(req).get(fd.get("name"))
        if policy is None:
            raise NotFound()
        context = field_bytes(fd.get("context"), "context") if fd.get("context") else b""
        return Response(data=describe(policy, context))

    async def list(self, req: Request, fd: FieldData) -> Response:
        return Response.list_of(await self.engine.store(req).names())

    async def delete(self, req: Request, fd: FieldData) -> None:
        name: str = fd.get("name")

        def check(policy: KeyPolicy) -> None:
            if not policy.deletion_allowed:
                raise InvalidRequest(f"error deleting policy {name}: deletion is not allowed for this key")

        if not await self.engine.store(req).delete(name, check):
            raise InvalidRequest(f"error deleting policy {name}: could not delete key; not found")

    async def config(self, req: Request, fd: FieldData) -> Response:
        name: str = fd.get("name")
        change = ConfigChange(
            **{field: fd.get(field) if fd.has(field) else None for field in ConfigChange.__dataclass_fields__}
        )
        warnings: list[str] = []

        def apply(policy: KeyPolicy) -> KeyPolicy | None:
            warnings.clear()
            updated = apply_config(policy, change, warnings)
            return None if updated == policy else updated

        updated = await self.engine.store(req).update(name, apply)
        if updated is None:
            raise InvalidRequest(f"no existing key named {name} could be found")
        return Response(data=describe(updated), warnings=warnings)

    async def rotate(self, req: Request, fd: FieldData) -> Response:
        store = self.engine.store(req)
        policy = await store.get(fd.get("name"))
        if policy is None:
            raise InvalidRequest("key not found")
        return Response(data=describe(await rotate(store, policy, self.engine.now(), only_if_due=False)))

    async def trim(self, req: Request, fd: FieldData) -> Response:
        min_available: int = fd.get("min_available_version")
        store = self.engine.store(req)

        def apply(policy: KeyPolicy) -> KeyPolicy | None:
            updated = trim(policy, min_available)
            return None if updated == policy else updated

        updated = await store.update(fd.get("name"), apply)
        if updated is None:
            raise InvalidRequest("invalid key name")
        return Response(data=describe(updated))
