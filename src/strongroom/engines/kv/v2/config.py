"""KV v2 ``config``: the mount-wide max_versions, cas_required and delete_version_after."""

from __future__ import annotations

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request, Response

from .engine import Engine


class ConfigHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def read(self, req: Request, fd: FieldData) -> Response:
        config = await self.engine.store(req).config()
        return Response(data=config.view())

    async def write(self, req: Request, fd: FieldData) -> None:
        """Set the settings present in the request; the others keep their value (as Vault)."""
        max_versions: int = fd.get("max_versions") or 0
        if max_versions < 0:
            raise InvalidRequest("max_versions must be zero or a positive integer")
        store = self.engine.store(req)
        # "/config" is never a secret path; sharing a lock stripe with a secret only serialises the two.

        async def attempt() -> None:
            config, guard = await store.config_for_update()
            if fd.has("max_versions"):
                config.max_versions = max_versions
            if fd.has("cas_required"):
                config.cas_required = fd.get("cas_required")
            if fd.has("delete_version_after"):
                config.delete_version_after = fd.get("delete_version_after")
            await store.save_config(config, guard)

        async with self.engine.locks.for_key("/config"):
            await self.engine.retry_on_conflict(attempt)
