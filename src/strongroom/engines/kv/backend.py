"""The ``kv`` secrets engine: one backend type, version 1 or 2 chosen by the mount option ``version``."""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.errors import InvalidRequest
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext

from .v1 import KVv1
from .v2 import KVv2


def mount_version(options: dict[str, str]) -> int:
    """The KV version a mount asks for: ``"1"`` (also when absent, as Vault) or ``"2"``."""
    raw = str(options.get("version", "") or "1").strip()
    if raw not in ("1", "2"):
        raise InvalidRequest("invalid kv version: the 'version' option must be 1 or 2")
    return int(raw)


class KVBackend(FrameworkBackend):
    """Vault's key/value engine. Construct with the mount's context; raises 400 for a bad ``version``."""

    type_name = "kv"
    kind = "secret"

    def __init__(self, ctx: BackendContext) -> None:
        super().__init__(ctx)
        self.version = mount_version(ctx.options)
        self._impl: KVv1 | KVv2 = KVv1(ctx) if self.version == 1 else KVv2(ctx)

    def paths(self) -> Sequence[Path]:
        return self._impl.paths()
