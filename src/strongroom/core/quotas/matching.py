"""Which quota applies to a request path, and which paths no quota touches.

Paths are the core's canonical request paths (no leading slash, ``v1/``
stripped). Specificity, highest first: an exact path, then the longest prefix
(a mount ``"secret/"`` or a glob ``"secret/data/app/*"``), then the global
quota ``""``. Ties between equally specific quotas go to the first name in
sort order, so every worker picks the same one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from strongroom.core.quotas.model import RateLimitQuota


def rank(quota_path: str, path: str) -> tuple[int, int] | None:
    """How specifically ``quota_path`` covers ``path`` (higher is more specific), or ``None``."""
    if quota_path == "":
        return (0, 0)
    if quota_path.endswith("*"):
        prefix = quota_path[:-1]
        return (len(prefix), 1) if path.startswith(prefix) else None
    if quota_path.endswith("/"):
        return (len(quota_path), 1) if path.startswith(quota_path) else None
    if path.rstrip("/") == quota_path:
        return (len(quota_path), 2)
    return None


def select(quotas: Sequence[RateLimitQuota], path: str, role: str | None = None) -> RateLimitQuota | None:
    """The quota for ``path``; a login made with ``role`` is first matched against role quotas (Vault's order)."""
    if role is not None:
        for quota in sorted(quotas, key=lambda q: q.name):
            if quota.role and quota.role.lower() == role.lower() and path.startswith(quota.path):
                return quota
    best: RateLimitQuota | None = None
    best_rank = (-1, -1)
    for quota in quotas:
        if quota.role:
            continue
        found = rank(quota.path, path)
        if found is None:
            continue
        if found > best_rank or (found == best_rank and best is not None and quota.name < best.name):
            best, best_rank = quota, found
    return best


def exempt(patterns: Iterable[str], path: str) -> bool:
    """Whether ``path`` matches an exempt pattern: exact, or a prefix written with a trailing ``*``."""
    bare = path.rstrip("/")
    for pattern in patterns:
        if pattern.endswith("*"):
            if bare.startswith(pattern[:-1]):
                return True
        elif bare == pattern.rstrip("/"):
            return True
    return False


def role_quota_mounts(quotas: Iterable[RateLimitQuota]) -> frozenset[str]:
    """The auth mount paths that carry a quota with a role (only their logins need their role resolved)."""
    return frozenset(quota.path for quota in quotas if quota.role)
