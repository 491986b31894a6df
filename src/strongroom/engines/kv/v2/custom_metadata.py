"""Parsing and Vault's limits for a secret's ``custom_metadata``.

Limits (as Vault): at most 64 keys; each key 1..128 bytes and each value 1..512
bytes of UTF-8; neither may hold unprintable characters. Every failing rule is
reported. Errors name a key only when the key itself is valid (short and
printable) and never quote a value.
"""

from __future__ import annotations

from typing import Any

from strongroom.errors import InvalidRequest

MAX_KEYS = 64
MAX_KEY_BYTES = 128
MAX_VALUE_BYTES = 512
_PREFIX = "custom_metadata validation failed"


def parse(raw: Any, *, allow_null: bool) -> dict[str, str | None]:
    """A string map from request input. Numbers become strings (as Vault's weak decoding does).

    With ``allow_null`` (PATCH), a ``null`` value is kept and means "remove this key".
    """
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{_PREFIX}: custom_metadata must be an object of strings")
    parsed: dict[str, str | None] = {}
    for key, value in raw.items():
        if value is None and allow_null:
            parsed[key] = None
        elif isinstance(value, str):
            parsed[key] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            parsed[key] = str(value)
        else:
            raise InvalidRequest(f"{_PREFIX}: the value for {_name(key)} must be a string")
    return parsed


def validate(custom: dict[str, str]) -> None:
    """Raise one InvalidRequest listing every broken limit, or return."""
    if len(custom) > MAX_KEYS:
        raise InvalidRequest(
            f"{_PREFIX}: payload must contain at most {MAX_KEYS} keys, provided {len(custom)}"
        )
    errors: list[str] = []
    for key, value in custom.items():
        key_bytes = len(key.encode())
        if not 0 < key_bytes <= MAX_KEY_BYTES:
            errors.append(
                f"{_PREFIX}: length of {_name(key)} is {key_bytes} "
                f"but must be 0 < len(key) <= {MAX_KEY_BYTES}"
            )
        value_bytes = len(value.encode())
        if not 0 < value_bytes <= MAX_VALUE_BYTES:
            errors.append(
                f"{_PREFIX}: length of value for {_name(key)} is {value_bytes} "
                f"but must be 0 < len(value) <= {MAX_VALUE_BYTES}"
            )
        if not key.isprintable():
            errors.append(f"{_PREFIX}: {_name(key)} contains unprintable characters")
        if not value.isprintable():
            errors.append(f"{_PREFIX}: value for {_name(key)} contains unprintable characters")
    if errors:
        raise InvalidRequest("; ".join(errors), errors=errors)


def _name(key: str) -> str:
    if 0 < len(key.encode()) <= MAX_KEY_BYTES and key.isprintable():
        return f"key {key!r}"
    return "a key"
