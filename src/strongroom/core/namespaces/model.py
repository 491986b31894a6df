"""The namespace table: which namespaces exist, their ids and paths.

A namespace is named by its full path from the root (``team/``, ``team/app/``,
always ending in '/'); its id is five random base62 characters, as in Vault.
The table lives in the root namespace's barrier at ``core/namespaces`` and
everything a namespace owns lives under ``namespaces/<id>/`` in the barrier, so
the root namespace's layout is exactly what it was before namespaces existed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from strongroom.core.tokens.ids import random_base62
from strongroom.errors import InvalidRequest
from strongroom.sdk.system import RandomBytes

TABLE_KEY = "core/namespaces"
ROOT_ID = "root"
ID_CHARS = 5
#: The first segment of a request path that can never be a namespace: it is a root-only prefix.
RESERVED_NAMES = frozenset({"root", "sys", "auth", "identity", "cubbyhole", "audit"})
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_DEPTH = 8


@dataclass
class NamespaceEntry:
    """One namespace. ``path`` is its full path from the root ('' for the root itself)."""

    id: str
    path: str
    custom_metadata: dict[str, str] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.path == ""

    @property
    def storage_prefix(self) -> str:
        return f"namespaces/{self.id}/"

    @property
    def parent_path(self) -> str:
        return self.path[:-1].rpartition("/")[0] + "/" if self.path.count("/") > 1 else ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "custom_metadata": dict(self.custom_metadata)}

    @staticmethod
    def from_json(raw: dict[str, Any]) -> NamespaceEntry:
        return NamespaceEntry(
            id=str(raw["id"]), path=str(raw["path"]), custom_metadata=dict(raw.get("custom_metadata") or {})
        )


ROOT = NamespaceEntry(id=ROOT_ID, path="")


def new_namespace_id(random_bytes: RandomBytes, taken: set[str]) -> str:
    while True:
        candidate = random_base62(ID_CHARS, random_bytes)
        if candidate not in taken and candidate != ROOT_ID:
            return candidate


def normalize_namespace_path(raw: str) -> str:
    """``"/team/app"`` -> ``"team/app/"``; '' (or 'root') is the root namespace.

    Segments are letters, digits, '_', '-' and '.', may not be a reserved name or
    '.'/'..', and a path has at most ``MAX_DEPTH`` of them.
    """
    cleaned = raw.strip().strip("/")
    if cleaned in ("", ROOT_ID):
        return ""
    segments = cleaned.split("/")
    if len(segments) > MAX_DEPTH:
        raise InvalidRequest(f"namespaces may be nested at most {MAX_DEPTH} deep")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment) or segment in ("..", ".") or segment in RESERVED_NAMES:
            raise InvalidRequest(f"{segment!r} is not a valid namespace name")
    return "/".join(segments) + "/"


def validate_metadata(raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise InvalidRequest("custom_metadata must be a map of strings to strings")
    return dict(raw)


def encode_table(entries: list[NamespaceEntry]) -> bytes:
    return orjson.dumps([e.to_json() for e in entries])


def decode_table(raw: bytes | None) -> list[NamespaceEntry]:
    return [NamespaceEntry.from_json(item) for item in orjson.loads(raw)] if raw else []
