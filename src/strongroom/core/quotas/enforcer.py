"""Applying rate-limit quotas to requests: one per process, tables reloaded with the storage generation.

The core asks :meth:`QuotaEnforcer.check` once per request, after the sealed
check and before the token is looked at (Vault's order: a flood of bad tokens
is limited like any other). With no quota defined the check is a list test.
The counting itself is shared by the node's workers (``counter``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from strongroom.core import telemetry
from strongroom.core.quotas.counter import Decision, SharedCounter, key_digest
from strongroom.core.quotas.matching import exempt, role_quota_mounts, select
from strongroom.core.quotas.model import ALWAYS_EXEMPT_PATHS, QuotaConfig, RateLimitQuota
from strongroom.core.quotas.store import QuotaStore
from strongroom.errors import RateLimited
from strongroom.sdk.storage import StorageBackend

log = logging.getLogger("strongroom.quotas")


@dataclass(frozen=True, slots=True)
class Verdict:
    quota: RateLimitQuota
    decision: Decision
    #: X-Ratelimit-* headers for the answer (empty unless the configuration enables them).
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def error(self, path: str) -> RateLimited:
        """Vault's 429: ``request path "<path>": rate limit quota exceeded``, with Retry-After."""
        retry = str(max(1, math.ceil(self.decision.reset)))
        return RateLimited(f'request path "{path}": rate limit quota exceeded',
                           headers={**self.headers, "Retry-After": retry})


class QuotaEnforcer:
    def __init__(
        self,
        storage: StorageBackend,
        *,
        counter: SharedCounter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock`` must be one clock for every process sharing ``counter`` (the default, monotonic, is)."""
        self.store = QuotaStore(storage)
        self._counter = counter
        self._clock = clock
        self._quotas: list[RateLimitQuota] = []
        self._role_mounts: frozenset[str] = frozenset()
        self.config = QuotaConfig()

    def use_counter(self, counter: SharedCounter) -> None:
        """Count in ``counter`` (the node's shared table) from now on."""
        self._counter = counter

    async def load(self) -> None:
        """Read quotas and configuration from the barrier (at unseal and when the generation changes)."""
        self._quotas = await self.store.all()
        self._role_mounts = role_quota_mounts(self._quotas)
        self.config = await self.store.config()

    def clear(self) -> None:
        self._quotas = []
        self._role_mounts = frozenset()
        self.config = QuotaConfig()

    @property
    def audit_rejections(self) -> bool:
        return self.config.enable_rate_limit_audit_logging

    def wants_role(self, mount_path: str) -> bool:
        """Whether a quota with a role is set on this auth mount (full path), so its logins' role matters."""
        return mount_path in self._role_mounts

    def check(self, path: str, remote_addr: str, role: str | None = None) -> Verdict | None:
        """Count this request against the quota that applies; ``None`` when none does.

        ``role`` is the role a login is made with, when ``wants_role`` said it matters.
        """
        if not self._quotas:
            return None
        if exempt(ALWAYS_EXEMPT_PATHS, path) or exempt(self.config.rate_limit_exempt_paths, path):
            return None
        quota = select(self._quotas, path, role)
        if quota is None:
            return None
        if self._counter is None:
            # First quota in a process nobody gave a shared table (tests, tools): count privately.
            self._counter = SharedCounter()
        decision = self._counter.hit(
            key_digest(quota.id, remote_addr),
            limit=quota.limit,
            interval=float(quota.interval),
            block=float(quota.block_interval),
            now=self._clock(),
        )
        headers: dict[str, str] = {}
        if self.config.enable_rate_limit_response_headers:
            headers = {
                "X-Ratelimit-Limit": str(decision.limit),
                "X-Ratelimit-Remaining": str(decision.remaining),
                "X-Ratelimit-Reset": str(max(0, math.ceil(decision.reset))),
            }
        if not decision.allowed:
            telemetry.QUOTA_REJECTIONS.labels(quota=quota.name).inc()
            log.debug("rate-limit quota %s refused a request", quota.name)
        return Verdict(quota, decision, headers)
