"""What ``strongroom audit search`` knows of an audit entry's shape (docs/audit.md, "Entry format").

Which string leaves are written in clear, which are HMACs, and which are
neither: a string in a place the server hashes that is not an HMAC was logged
raw (a ``log_raw`` device, or a key a mount lists in ``audit_non_hmac_*_keys``;
the log cannot tell the two apart). :func:`redact` hides those, so search output
never repeats a secret unless asked to.

The clear places are an allow-list: a string anywhere else is treated as
possibly secret, so a field added to the format later is hidden until it is
listed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

HMAC_PATTERN = re.compile(r"hmac-sha256:[0-9a-f]{64}")
REDACTED = "<redacted: logged in clear; -show-raw shows it>"

#: Dotted paths of the string leaves written in clear; "#" stands for a list item.
_CLEAR = re.compile("|".join((
    r"type", r"time", r"error",
    r"chain\..+", r"checkpoint\..+",
    r"(response\.)?auth\.(policies|token_policies)\.#",
    # Accessors are clear with hmac_accessor=false: they name a token without being one.
    r"(response\.)?auth\.(entity_id|token_type|token_issue_time|accessor)",
    r"request\.(id|operation|mount_point|mount_type|mount_accessor|path|remote_address|namespace\.id"
    r"|client_token_accessor)",
    r"response\.(mount_point|mount_type|mount_accessor|warnings\.#)",
)))
#: Maps whose top-level keys are field names (clear) and whose contents are hashed.
_DATA_MAPS = ("request.data", "response.data")
#: Maps whose keys are clear and whose values are hashed.
_KEYED_MAPS = re.compile(r"(response\.)?auth\.metadata")
#: A non-JSON answer's description: clear only beside the hashed body it describes.
_RAW_ANSWER_CLEAR = frozenset({"http_content_type"})


def is_hmac(text: str) -> bool:
    return HMAC_PATTERN.fullmatch(text) is not None


def is_clear(path: str) -> bool:
    """True when docs/audit.md lists the string leaf at ``path`` as written in clear."""
    return _CLEAR.fullmatch(path) is not None


def strings(entry: Mapping[str, Any]) -> Iterator[tuple[str, bool]]:
    """Every string of ``entry`` that the server may have hashed, with True when it sits in a hashed place.

    Yields string leaves and the keys of maps inside ``data`` (below its
    top-level field names), where the server hashes keys too. Keys elsewhere
    are field names and are not yielded.
    """
    yield from _walk(entry, "", hashed_keys=False)


def _walk(value: Any, path: str, *, hashed_keys: bool) -> Iterator[tuple[str, bool]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if hashed_keys:
                yield str(key), True
            if path in _DATA_MAPS:
                yield from _data_field(str(key), item, child, value)
            elif _KEYED_MAPS.fullmatch(path):
                yield from _walk(item, f"{path}.*", hashed_keys=False)
            else:
                yield from _walk(item, child, hashed_keys=hashed_keys)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, f"{path}.#", hashed_keys=hashed_keys)
    elif isinstance(value, str):
        yield value, not is_clear(path)


def _data_field(key: str, value: Any, path: str, data: Mapping[str, Any]) -> Iterator[tuple[str, bool]]:
    if key in _RAW_ANSWER_CLEAR and "http_raw_body" in data and isinstance(value, str):
        yield value, False
        return
    if isinstance(value, str):
        yield value, True
        return
    yield from _walk(value, path, hashed_keys=True)


def raw_strings(entry: Mapping[str, Any]) -> Iterator[str]:
    """The strings in hashed places that are not HMACs: values logged raw."""
    return (text for text, hashed in strings(entry) if hashed and not is_hmac(text))


def redact(entry: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """``entry`` with every value logged raw replaced by :data:`REDACTED`, and how many were.

    Inside ``data``, a top-level field whose contents hold anything raw (a value
    or a nested key) is replaced whole, since its keys may be as secret as its values.
    """
    count = 0

    def scrub(value: Any, path: str) -> Any:
        nonlocal count
        if isinstance(value, Mapping):
            if path in _DATA_MAPS:
                out: dict[str, Any] = {}
                for key, item in value.items():
                    raw = any(hashed and not is_hmac(text) for text, hashed in _data_field(key, item, path, value))
                    count += raw
                    out[key] = REDACTED if raw else item
                return out
            if _KEYED_MAPS.fullmatch(path):
                return {key: scrub(item, f"{path}.*") for key, item in value.items()}
            return {key: scrub(item, f"{path}.{key}" if path else str(key)) for key, item in value.items()}
        if isinstance(value, list):
            return [scrub(item, f"{path}.#") for item in value]
        if isinstance(value, str) and not is_clear(path) and not is_hmac(value):
            count += 1
            return REDACTED
        return value

    cleaned = scrub(entry, "")
    return cleaned, count
