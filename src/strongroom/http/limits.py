"""Request-shape limits, enforced on every listener before any handler runs.

Defaults follow Vault's (32 MiB bodies, 1 MiB strings, 10,000 entries per
object or array) except the JSON depth: Vault allows 300 levels, but our JSON
codec (orjson) encodes at most 254, and an answer nests a request's values
deeper than the request did (a KV v2 read returns ``data.data``). A limit of
300 let a secret be written that every later read answered with a 500, so the
default depth leaves room for the answer's wrapping instead. The body size is
enforced while streaming, so an oversized request is refused without being
buffered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from strongroom.errors import InvalidRequest

DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024
#: The deepest value orjson can encode, and the levels an answer may add around a request's values.
CODEC_MAX_DEPTH = 254
ANSWER_WRAPPING_LEVELS = 4
DEFAULT_MAX_JSON_DEPTH = CODEC_MAX_DEPTH - ANSWER_WRAPPING_LEVELS


@dataclass(frozen=True)
class RequestLimits:
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    max_string_length: int = 1024 * 1024
    max_entries: int = 10_000


def check_json_shape(value: Any, limits: RequestLimits, *, encoded_size: int | None = None) -> None:
    """Walk a parsed JSON value iteratively (no recursion to exhaust) and enforce the limits.

    ``encoded_size`` is the length of the JSON text ``value`` was parsed from, when known.
    A text no longer than every limit cannot break one: each nesting level, each entry
    and each character of a decoded string takes at least one byte of the text. Such a
    value (most request bodies) is not walked at all.
    """
    if encoded_size is not None and encoded_size <= min(
        limits.max_json_depth, limits.max_entries, limits.max_string_length
    ):
        return
    max_depth = limits.max_json_depth
    max_entries = limits.max_entries
    max_string = limits.max_string_length
    if isinstance(value, str):
        if len(value) > max_string:
            raise InvalidRequest("JSON string value exceeds the maximum length")
        return
    # Only containers go on the stack; strings are checked where they are found.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise InvalidRequest(f"JSON input exceeds the maximum nesting depth of {max_depth}")
            if len(item) > max_entries:
                raise InvalidRequest(f"JSON object has more than {max_entries} entries")
            children: Iterable[Any] = item.values()
            for key in item:
                if len(key) > max_string:
                    raise InvalidRequest("JSON object key exceeds the maximum string length")
        elif isinstance(item, list):
            if depth > max_depth:
                raise InvalidRequest(f"JSON input exceeds the maximum nesting depth of {max_depth}")
            if len(item) > max_entries:
                raise InvalidRequest(f"JSON array has more than {max_entries} elements")
            children = item
        else:
            continue
        for child in children:
            if isinstance(child, str):
                if len(child) > max_string:
                    raise InvalidRequest("JSON string value exceeds the maximum length")
            elif isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
