"""Shared helpers for audit tests: the structural redaction check, log reading, and event builders."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson

from strongroom.core.hooks import AuditEvent
from strongroom.core.mounts import MountEntry
from strongroom.sdk.logical import Operation, Request, Response

T = TypeVar("T")

HMAC = re.compile(r"hmac-sha256:[0-9a-f]{64}")

#: The string leaves docs/audit.md lists as clear ("What is never hashed"), as dotted paths; list items are "#".
CLEAR_LEAVES = [re.compile(p) for p in (
    r"type", r"time", r"error",
    r"chain\..+", r"checkpoint\..+",
    r"(response\.)?auth\.(policies|token_policies)\.#",
    r"(response\.)?auth\.(entity_id|token_type|token_issue_time)",
    r"request\.(id|operation|mount_point|mount_type|mount_accessor|path|remote_address|namespace\.id)",
    r"response\.(mount_point|mount_type|mount_accessor|warnings\.#)",
    r"response\.data\.http_content_type",
)]
DATA_MAPS = ("request.data", "response.data")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def unhashed(entry: dict[str, Any], *, accessors_clear: bool = False) -> list[str]:
    """Every string leaf, and every map key nested inside ``data``, that is neither an HMAC nor documented clear."""
    found: list[str] = []
    clear = list(CLEAR_LEAVES)
    if accessors_clear:
        clear.append(re.compile(r"(response\.)?auth\.accessor|request\.client_token_accessor"))

    def walk(value: Any, path: str, data_depth: int | None) -> None:
        # data_depth: None outside request.data / response.data, 0 at the data map, then deeper.
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if data_depth is not None and data_depth >= 1 and not HMAC.fullmatch(str(key)):
                    found.append(f"key {child}")
                if data_depth is not None:
                    walk(item, child, data_depth + 1)
                else:
                    walk(item, child, 0 if child in DATA_MAPS else None)
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}.#", data_depth)
        elif isinstance(value, str) and not HMAC.fullmatch(value) and not any(p.fullmatch(path) for p in clear):
            found.append(path)

    walk(entry, "", None)
    return found


def read_entries(path: Path, prefix: bytes = b"") -> list[dict[str, Any]]:
    """Every line of an audit file, parsed (the prefix removed)."""
    entries = []
    for line in path.read_bytes().splitlines():
        assert line.startswith(prefix), line[:80]
        entries.append(orjson.loads(line[len(prefix):]))
    return entries


def requests_and_responses(entries: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (e for e in entries if e["type"] in ("request", "response"))


def mount(non_hmac_request: list[str] | None = None, non_hmac_response: list[str] | None = None) -> MountEntry:
    entry = MountEntry(path="secret/", type="kv", kind="secret", uuid="u-1", accessor="kv_0a1b2c3d")
    entry.config.audit_non_hmac_request_keys = list(non_hmac_request or [])
    entry.config.audit_non_hmac_response_keys = list(non_hmac_response or [])
    return entry


def event(data: dict[str, Any] | None = None, *, operation: Operation = Operation.UPDATE, path: str = "data/app",
          token: str = "hvs.client-token", response: Response | None = None, entry: MountEntry | None = None,
          request_id: str = "req-1") -> AuditEvent:
    req = Request(operation=operation, path=path, data=data or {}, client_token=token, remote_addr="10.1.2.3",
                  request_id=request_id)
    return AuditEvent(request=req, mount=entry or mount(), client_token=token, response=response)
