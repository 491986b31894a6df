"""Request-shape limits, enforced on every listener before any handler runs.

Defaults follow Vault's: 32 MiB bodies, JSON depth 300, 1 MiB strings, 10,000
entries per object or array. The body size is enforced while streaming, so an
oversized request is refused without being buffered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strongroom.errors import InvalidRequest

DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024


@dataclass(frozen=True)
class RequestLimits:
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
    max_json_depth: int = 300
    max_string_length: int = 1024 * 1024
    max_entries: int = 10_000


def check_json_shape(value: Any, limits: RequestLimits) -> None:
    """Walk a parsed JSON value iteratively (no recursion to exhaust) and enforce the limits."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > limits.max_json_depth:
                raise InvalidRequest(f"JSON input exceeds the maximum nesting depth of {limits.max_json_depth}")
            if len(item) > limits.max_entries:
                raise InvalidRequest(f"JSON object has more than {limits.max_entries} entries")
            for key, child in item.items():
                if len(key) > limits.max_string_length:
                    raise InvalidRequest("JSON object key exceeds the maximum string length")
                if isinstance(child, (dict, list, str)):
                    stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > limits.max_json_depth:
                raise InvalidRequest(f"JSON input exceeds the maximum nesting depth of {limits.max_json_depth}")
            if len(item) > limits.max_entries:
                raise InvalidRequest(f"JSON array has more than {limits.max_entries} elements")
            stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list, str)))
        elif isinstance(item, str) and len(item) > limits.max_string_length:
            raise InvalidRequest("JSON string value exceeds the maximum length")
