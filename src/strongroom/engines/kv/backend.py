"""The ``kv`` secrets engine: one backend type, version 1 or 2 chosen by the mount option ``version``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext
from strongroom.sdk.scheduling import Job

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

    def __init__(self, ctx: BackendContext, egress: EgressPolicy | None = None) -> None:
        super().__init__(ctx)
        self.version = mount_version(ctx.options)
        self._impl: KVv1 | KVv2 = KVv1(ctx) if self.version == 1 else KVv2(ctx, egress)

    def paths(self) -> Sequence[Path]:
        return self._impl.paths()

    async def run_job(self, job: Job) -> float | None:
        """A scheduled rotation (v2 only; a v1 mount never schedules a job, and drops one it is handed)."""
        return await self._impl.run_job(job) if isinstance(self._impl, KVv2) else None


def kv_factory(*, allow_loopback: bool = False) -> Callable[[BackendContext], KVBackend]:
    """KV mounts whose rotation webhooks may reach loopback addresses when the operator allows it."""
    egress = EgressPolicy(allow_loopback=allow_loopback)
    return lambda ctx: KVBackend(ctx, egress)
