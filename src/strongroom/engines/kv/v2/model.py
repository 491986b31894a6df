"""KV v2's records (mount config, secret metadata, version metadata) and the rules over them.

Pure data and pure functions: no storage, no clock. Times are integer
nanoseconds since the epoch; the handlers pass "now" in.

Rules (docs/kv.md explains each against Vault):

* max versions: the secret's ``max_versions`` when set, else the mount's, else 10
  (Vault's documented rule). Adding a version past it drops the oldest ones.
* delete_version_after: the lower non-zero of the mount's and the secret's; a new
  version's ``deletion_time`` is its creation time plus that, 0 meaning never.
* a version is deleted from its ``deletion_time`` on (inclusive), destroyed once
  ``destroyed`` is set; either way reads answer 404 with its metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strongroom.errors import InternalError

from ..common import format_duration, format_time

DEFAULT_MAX_VERSIONS = 10
_NANOS = 1_000_000_000


def _lower_nonzero(a: int, b: int) -> int:
    positive = [value for value in (a, b) if value > 0]
    return min(positive) if positive else 0


@dataclass
class MountConfig:
    """The mount-wide settings written at ``config``."""

    max_versions: int = 0
    cas_required: bool = False
    delete_version_after: int = 0  # seconds; 0 = versions are never deleted by age

    def to_json(self) -> dict[str, Any]:
        return {
            "max_versions": self.max_versions,
            "cas_required": self.cas_required,
            "delete_version_after": self.delete_version_after,
        }

    @classmethod
    def from_json(cls, raw: Any) -> MountConfig:
        try:
            return cls(int(raw["max_versions"]), bool(raw["cas_required"]), int(raw["delete_version_after"]))
        except (KeyError, TypeError, ValueError):
            raise InternalError("the kv config entry is malformed") from None

    def view(self) -> dict[str, Any]:
        """The body of a ``config`` read, as Vault shapes it."""
        return {
            "cas_required": self.cas_required,
            "delete_version_after": format_duration(self.delete_version_after),
            "max_versions": self.max_versions,
        }


@dataclass
class VersionMeta:
    created_ns: int
    deletion_ns: int | None = None
    destroyed: bool = False

    def is_deleted(self, now: int) -> bool:
        return self.deletion_ns is not None and self.deletion_ns <= now

    def is_readable(self, now: int) -> bool:
        return not self.destroyed and not self.is_deleted(now)


@dataclass
class SecretMeta:
    """One secret: its settings and the metadata of every version still kept.

    ``id`` is random and names the secret's version entries in storage, so a
    secret deleted and then written again can never meet its old versions.
    ``oldest_version`` stays 0 until a version is first dropped (as in Vault).
    """

    id: str
    created_ns: int
    updated_ns: int
    current_version: int = 0
    oldest_version: int = 0
    max_versions: int = 0
    cas_required: bool = False
    delete_version_after: int = 0
    custom_metadata: dict[str, str] | None = None
    versions: dict[int, VersionMeta] = field(default_factory=dict)

    def add_version(self, now: int, config: MountConfig) -> list[int]:
        """Record a new current version created at ``now``; return the version numbers it pushed out."""
        self.current_version += 1
        dva = _lower_nonzero(config.delete_version_after, self.delete_version_after)
        self.versions[self.current_version] = VersionMeta(now, now + dva * _NANOS if dva else None)
        self.updated_ns = now
        keep = self.max_versions or config.max_versions or DEFAULT_MAX_VERSIONS
        if self.current_version - self.oldest_version < keep:
            return []
        cutoff = self.current_version - keep
        dropped = sorted(number for number in self.versions if number <= cutoff)
        for number in dropped:
            del self.versions[number]
        self.oldest_version = cutoff + 1
        return dropped

    def undelete_deadline(self, now: int, config: MountConfig) -> int | None:
        """The ``deletion_time`` an undeleted version gets: a fresh delete_version_after period, if any."""
        dva = _lower_nonzero(config.delete_version_after, self.delete_version_after)
        return now + dva * _NANOS if dva else None

    def _custom_copy(self) -> dict[str, str] | None:
        # Views go into responses; the metadata itself may be shared (see meta_cache).
        return None if self.custom_metadata is None else dict(self.custom_metadata)

    def version_view(self, number: int) -> dict[str, Any]:
        """A version's metadata as Vault returns it from a data write or read."""
        version = self.versions[number]
        return {
            "created_time": format_time(version.created_ns),
            "custom_metadata": self._custom_copy(),
            "deletion_time": format_time(version.deletion_ns),
            "destroyed": version.destroyed,
            "version": number,
        }

    def metadata_view(self) -> dict[str, Any]:
        """The body of a ``metadata/:path`` read."""
        return {
            "cas_required": self.cas_required,
            "created_time": format_time(self.created_ns),
            "current_version": self.current_version,
            "custom_metadata": self._custom_copy(),
            "delete_version_after": format_duration(self.delete_version_after),
            "max_versions": self.max_versions,
            "oldest_version": self.oldest_version,
            "updated_time": format_time(self.updated_ns),
            "versions": {
                str(number): {
                    "created_time": format_time(version.created_ns),
                    "deletion_time": format_time(version.deletion_ns),
                    "destroyed": version.destroyed,
                }
                for number, version in sorted(self.versions.items())
            },
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created_ns,
            "updated": self.updated_ns,
            "current": self.current_version,
            "oldest": self.oldest_version,
            "max_versions": self.max_versions,
            "cas_required": self.cas_required,
            "delete_version_after": self.delete_version_after,
            "custom_metadata": self.custom_metadata,
            "versions": {
                str(number): [version.created_ns, version.deletion_ns, version.destroyed]
                for number, version in self.versions.items()
            },
        }

    @classmethod
    def from_json(cls, raw: Any) -> SecretMeta:
        try:
            versions = {
                int(number): VersionMeta(int(created), None if deleted is None else int(deleted), bool(gone))
                for number, (created, deleted, gone) in raw["versions"].items()
            }
            custom = raw["custom_metadata"]
            return cls(
                id=str(raw["id"]),
                created_ns=int(raw["created"]),
                updated_ns=int(raw["updated"]),
                current_version=int(raw["current"]),
                oldest_version=int(raw["oldest"]),
                max_versions=int(raw["max_versions"]),
                cas_required=bool(raw["cas_required"]),
                delete_version_after=int(raw["delete_version_after"]),
                custom_metadata=None if custom is None else {str(k): str(v) for k, v in custom.items()},
                versions=versions,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InternalError("a kv metadata entry is malformed") from None
