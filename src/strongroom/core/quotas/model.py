"""Rate-limit quotas and the quota configuration, as stored in the barrier and shown by the API.

A quota's ``path`` scopes it, as in Vault: ``""`` is global, ``"secret/"`` a
mount, ``"secret/data/app"`` one path, ``"secret/data/app/*"`` every path under
a prefix. Only the most specific quota matching a request applies, except that a
quota with a ``role`` (on an auth mount) wins for logins made with that role. Each client
address has its own allowance (Vault's per-client-IP limiter).

``id`` is new on every write, so editing a quota starts every client's count
afresh instead of judging new limits against old windows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from strongroom.errors import InternalError

QUOTA_TYPE = "rate-limit"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")

#: Vault's defaults for ``rate_limit_exempt_paths``.
DEFAULT_EXEMPT_PATHS = (
    "sys/generate-recovery-token/attempt",
    "sys/generate-recovery-token/update",
    "sys/generate-root/attempt",
    "sys/generate-root/update",
    "sys/health",
    "sys/seal-status",
    "sys/unseal",
)
#: Never limited, whatever the configuration says: monitoring must keep seeing the node.
ALWAYS_EXEMPT_PATHS = ("sys/health", "sys/seal-status")


@dataclass(frozen=True, slots=True)
class RateLimitQuota:
    name: str
    path: str
    rate: float
    interval: int = 1
    block_interval: int = 0
    id: str = ""
    #: A role of the auth mount ``path`` names: the quota limits only logins made with that role.
    role: str = ""

    @property
    def limit(self) -> int:
        """Requests allowed per interval per client: whole requests, at least one."""
        return max(1, math.floor(self.rate))

    def view(self) -> dict[str, Any]:
        """Vault's read answer for ``sys/quotas/rate-limit/:name``."""
        return {
            "name": self.name,
            "path": self.path,
            "type": QUOTA_TYPE,
            "rate": self.rate,
            "interval": self.interval,
            "block_interval": self.block_interval,
            "role": self.role,
            "inheritable": self.path == "",
        }

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "rate": self.rate, "interval": self.interval,
                "block_interval": self.block_interval, "id": self.id, "role": self.role}

    @staticmethod
    def from_json(raw: Any) -> RateLimitQuota:
        try:
            return RateLimitQuota(
                name=str(raw["name"]),
                path=str(raw["path"]),
                rate=float(raw["rate"]),
                interval=int(raw["interval"]),
                block_interval=int(raw["block_interval"]),
                id=str(raw["id"]),
                role=str(raw.get("role", "")),  # quotas stored before roles existed have none
            )
        except (KeyError, TypeError, ValueError):
            raise InternalError("a stored rate-limit quota is malformed") from None


@dataclass(frozen=True, slots=True)
class QuotaConfig:
    rate_limit_exempt_paths: tuple[str, ...] = field(default=DEFAULT_EXEMPT_PATHS)
    enable_rate_limit_audit_logging: bool = False
    enable_rate_limit_response_headers: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "rate_limit_exempt_paths": list(self.rate_limit_exempt_paths),
            "enable_rate_limit_audit_logging": self.enable_rate_limit_audit_logging,
            "enable_rate_limit_response_headers": self.enable_rate_limit_response_headers,
        }

    def to_json(self) -> dict[str, Any]:
        return self.view()

    @staticmethod
    def from_json(raw: Any) -> QuotaConfig:
        paths = raw.get("rate_limit_exempt_paths") if isinstance(raw, dict) else None
        if not isinstance(paths, list):
            raise InternalError("the stored quota configuration is malformed")
        try:
            return QuotaConfig(
                rate_limit_exempt_paths=tuple(str(p) for p in paths),
                enable_rate_limit_audit_logging=bool(raw["enable_rate_limit_audit_logging"]),
                enable_rate_limit_response_headers=bool(raw["enable_rate_limit_response_headers"]),
            )
        except (KeyError, TypeError):
            raise InternalError("the stored quota configuration is malformed") from None
