"""allowed_parameters / denied_parameters / required_parameters, Vault's way, leaning to refuse.

Applied to create, update and patch requests only. Order, as in Vault:
required parameters must all be present; a request without data is then
allowed; a denied parameter refuses; then, if any parameters are allowed,
every parameter must be allowed.

Values are compared as text: strings as they are, booleans as ``true`` /
``false``, integral numbers without a fraction (so ``1``, ``1.0`` and ``"1"``
are equal). A policy value may be a glob: ``prefix*``, ``*suffix`` or
``*infix*``. An empty list means any value. Parameter names compare
case-insensitively. A string may be a comma-separated list (backends accept
``"a,b"`` for list fields): it is allowed when it matches as a whole or when
every non-empty part does, and denied when it or any part matches.
A list is allowed when it is non-empty and every element is; it is denied
when any element is.

Where we are stricter than Vault (deny wins when in doubt):

* denied values match case-insensitively after NFKC (``ROOT`` is denied by ``root``);
* a value that has no text form (null, an object, a nested list) is denied
  by any non-empty denied list and never matches a non-empty allowed list;
* an empty list or empty string never matches a non-empty allowed list;
* a ``"*"`` entry in ``allowed_parameters`` applies its value list to every
  parameter not named explicitly (Vault ignores those values);
* ``"*"`` in ``denied_parameters`` refuses any request that carries data (as Vault).

Refusal reasons name policy parameters at most, never request values.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from strongroom.core.policy.model import ParamValue, PathRule


def scalar_text(value: Any) -> str | None:
    """The text a simple value is compared as, or None when it has no text form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def glob_match(pattern: str, text: str) -> bool:
    """Vault's value globs: ``*x*`` contains, ``*x`` ends with, ``x*`` starts with, else equal."""
    if len(pattern) < 2:
        return pattern == text
    starts, ends = pattern.startswith("*"), pattern.endswith("*")
    if starts and ends:
        return pattern[1:-1] in text
    if starts:
        return text.endswith(pattern[1:])
    if ends:
        return text.startswith(pattern[:-1])
    return pattern == text


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").casefold()


def _comma_parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _texts(values: tuple[ParamValue, ...]) -> list[str]:
    return [text for text in (scalar_text(v) for v in values) if text is not None]


def _scalar_allowed(value: Any, allowed: list[str]) -> bool:
    text = scalar_text(value)
    if text is None:
        return False
    if any(glob_match(pattern, text) for pattern in allowed):
        return True
    if isinstance(value, str):
        parts = _comma_parts(value)
        return bool(parts) and all(any(glob_match(p, part) for p in allowed) for part in parts)
    return False


def value_allowed(value: Any, allowed: tuple[ParamValue, ...]) -> bool:
    """Is ``value`` within an allowed_parameters list (empty list: any value)?"""
    if not allowed:
        return True
    patterns = _texts(allowed)
    if isinstance(value, list):
        return bool(value) and all(_scalar_allowed(element, patterns) for element in value)
    if value == "":
        return "" in patterns
    return _scalar_allowed(value, patterns)


def _scalar_denied(value: Any, denied: list[str]) -> bool:
    text = scalar_text(value)
    if text is None:
        return True
    candidates = [text, *(_comma_parts(text) if isinstance(value, str) else [])]
    return any(glob_match(p, _fold(c)) for p in denied for c in candidates)


def value_denied(value: Any, denied: tuple[ParamValue, ...]) -> bool:
    """Is ``value`` hit by a denied_parameters list (empty list: every value)?"""
    if not denied:
        return True
    patterns = [_fold(text) for text in _texts(denied)]
    if isinstance(value, list):
        return any(_scalar_denied(element, patterns) for element in value)
    return _scalar_denied(value, patterns)


def _lookup(params: Mapping[str, tuple[ParamValue, ...]], name: str) -> tuple[ParamValue, ...] | None:
    return params.get(name.lower())


def check_parameters(rule: PathRule, data: Mapping[str, Any]) -> str | None:
    """None when ``data`` satisfies the rule's parameter constraints, else a reason for the log."""
    present = {key.lower() for key in data}
    for required in rule.required_parameters:
        if required not in present:
            return f"required parameter {required!r} is missing"
    if not data:
        return None
    denied = rule.denied_parameters
    if denied:
        if "*" in denied:
            return "all parameters are denied on this path"
        for key, value in data.items():
            values = _lookup(denied, key)
            if values is not None and value_denied(value, values):
                return "a parameter value is denied on this path"
    allowed = rule.allowed_parameters
    if not allowed:
        return None
    wildcard = allowed.get("*")
    for key, value in data.items():
        values = _lookup(allowed, key)
        if values is None:
            values = wildcard
        if values is None:
            return "a parameter is not in allowed_parameters for this path"
        if not value_allowed(value, values):
            return "a parameter value is not allowed on this path"
    return None
