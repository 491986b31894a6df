"""Coerce raw configuration values the way Vault's config loader does.

HCL and JSON give us str/int/float/bool/list/dict. Vault is lenient about
scalar spelling (``tls_disable = 1``, ``tls_disable = "true"``,
``max_request_size = "1024"``) and so are we. Each function raises
:class:`ValueProblem` with a short message; the caller adds file, line and
key. Values are echoed only when they are not secret by nature (durations,
levels, versions, addresses) and then shortened.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import parse_duration

_ECHO_LIMIT = 40
_TRUE = frozenset({"true", "1", "t", "yes", "on"})
_FALSE = frozenset({"false", "0", "f", "no", "off"})


class ValueProblem(Exception):
    """A value does not fit its key; the message never contains a secret.

    ``key`` names a nested key when the problem is inside a block value.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


def echo(value: object) -> str:
    """A short, quoted rendering of a non-secret value for messages."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > _ECHO_LIMIT:
        text = text[: _ECHO_LIMIT - 3] + "..."
    return '"' + text.replace('"', '\\"') + '"'


def kind(value: object) -> str:
    """The HCL/JSON name of a value's type, for "expected X, got Y" messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a block"
    return "a value"


def as_str(value: object) -> str:
    """A string; numbers are accepted and rendered as Vault would (``8200``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueProblem(f"expected a string, got {kind(value)}")


def as_bool(value: object) -> bool:
    """A boolean from ``true``, ``1``, ``"true"``, ``"1"`` and their negatives."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueProblem(f"invalid boolean {echo(value)}")
    raise ValueProblem(f"expected a boolean, got {kind(value)}")


def as_int(value: object) -> int:
    """An integer from a number or a decimal string (possibly negative)."""
    if isinstance(value, bool):
        raise ValueProblem("expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isdigit():
            return int(text)
        raise ValueProblem(f"invalid number {echo(value)}")
    raise ValueProblem(f"expected a whole number, got {kind(value)}")


def as_duration(value: object) -> int:
    """Whole seconds from a Vault duration: ``768h``, ``"1h30m"``, ``"90"`` or ``90``."""
    if isinstance(value, str) and value.strip() == "":
        raise ValueProblem('invalid duration ""')
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueProblem(f"expected a duration, got {kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueProblem(f"invalid duration {echo(value)}")
    if isinstance(value, int | float) and value < 0:
        raise ValueProblem(f"invalid duration {echo(value)}: must not be negative")
    try:
        return parse_duration(value)
    except InvalidRequest:
        raise ValueProblem(f"invalid duration {echo(value)}") from None


def string_map(value: object) -> Mapping[str, str]:
    """A flat ``key = scalar`` block as strings, like Vault's ``map[string]string``."""
    if not isinstance(value, dict):
        raise ValueProblem(f"expected a block, got {kind(value)}")
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            out[key] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            out[key] = str(item)
        else:
            raise ValueProblem(f"expected a string, got {kind(item)}", key=key)
    return MappingProxyType(out)


def frozen_mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    """A deep read-only copy: mappings become mapping proxies, lists become tuples."""
    return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})


def _frozen(value: object) -> object:
    if isinstance(value, dict):
        return frozen_mapping(value)
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def split_host_port(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` to its parts; the port must be 0..65535."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueProblem(f"invalid address {echo(address)}: expected host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueProblem(f"invalid address {echo(address)}: write IPv6 hosts as [addr]:port")
    port = int(port_text)
    if port > 65535:
        raise ValueProblem(f"invalid address {echo(address)}: port out of range")
    return host, port
