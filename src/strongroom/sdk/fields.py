"""Typed request fields: declared as data, parsed once, with Vault's coercions.

Vault clients send numbers as strings, durations as "1h30m" or seconds,
booleans as "true", lists as comma-separated strings. ``FieldData`` applies
the same coercions and raises :class:`InvalidRequest` with the field's name
(never its value) when a value does not fit.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strongroom.errors import InvalidRequest


class FieldType(enum.Enum):
    STRING = "string"
    INT = "int"
    BOOL = "bool"
    DURATION = "duration"  # seconds as int; accepts "90", 90, "1h30m", "15s"
    STRING_LIST = "string_list"  # list of strings; accepts "a,b" too
    MAP = "map"
    STRING_MAP = "string_map"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Field:
    type: FieldType = FieldType.STRING
    default: Any = None
    description: str = ""
    required: bool = False


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any, name: str = "duration") -> int:
    """Seconds from a Vault duration: an int, a numeric string, or Go-style "1h2m3s"."""
    if isinstance(value, bool):
        raise InvalidRequest(f"invalid value for {name!r}: expected a duration")
    if isinstance(value, int):
        if value < 0:
            raise InvalidRequest(f"invalid value for {name!r}: negative duration")
        return value
    if isinstance(value, float):
        if value < 0:
            raise InvalidRequest(f"invalid value for {name!r}: negative duration")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0
        if text.isdigit():
            return int(text)
        pos = 0
        total = 0.0
        for match in _DURATION_PART.finditer(text):
            if match.start() != pos:
                break
            total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            pos = match.end()
        if pos == len(text) and pos > 0:
            return int(total)
    raise InvalidRequest(f"invalid value for {name!r}: expected a duration such as 30s, 15m or 24h")


def _to_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.lower() in ("true", "1", "t", "yes"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "f", "no", ""):
        return False
    raise InvalidRequest(f"invalid value for {name!r}: expected a boolean")


def _to_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidRequest(f"invalid value for {name!r}: expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise InvalidRequest(f"invalid value for {name!r}: expected an integer")


def _to_string_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise InvalidRequest(f"invalid value for {name!r}: expected a list of strings")


def coerce(field_type: FieldType, value: Any, name: str) -> Any:
    """Convert ``value`` to ``field_type`` or raise InvalidRequest naming ``name``."""
    if field_type is FieldType.ANY:
        return value
    if field_type is FieldType.STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise InvalidRequest(f"invalid value for {name!r}: expected a string")
    if field_type is FieldType.INT:
        return _to_int(value, name)
    if field_type is FieldType.BOOL:
        return _to_bool(value, name)
    if field_type is FieldType.DURATION:
        return parse_duration(value, name)
    if field_type is FieldType.STRING_LIST:
        return _to_string_list(value, name)
    if field_type is FieldType.MAP:
        if isinstance(value, dict):
            return value
        raise InvalidRequest(f"invalid value for {name!r}: expected an object")
    if field_type is FieldType.STRING_MAP:
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            return dict(value)
        raise InvalidRequest(f"invalid value for {name!r}: expected an object of strings")
    raise AssertionError(field_type)


class FieldData:
    """Raw request data plus the declared schema; values are coerced on access."""

    def __init__(self, schema: Mapping[str, Field], raw: Mapping[str, Any]) -> None:
        self.schema = schema
        self.raw = raw

    def get(self, name: str) -> Any:
        spec = self.schema.get(name)
        if spec is None:
            raise KeyError(f"field {name!r} is not declared")
        if name not in self.raw or self.raw[name] is None:
            if spec.required:
                raise InvalidRequest(f"missing required field {name!r}")
            return spec.default
        return coerce(spec.type, self.raw[name], name)

    def has(self, name: str) -> bool:
        return name in self.raw and self.raw[name] is not None

    def validate(self) -> None:
        """Coerce every provided declared field now so bad input fails before any write."""
        for name in self.schema:
            self.get(name)

    def unknown(self) -> list[str]:
        return sorted(k for k in self.raw if k not in self.schema)
