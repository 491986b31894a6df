"""Policy text to :class:`Policy`: Vault's ACL policy language, validated strictly.

Accepted (HCL or the equivalent JSON)::

    path "secret/data/app/*" {
      capabilities        = ["create", "read", "update", "patch", "delete", "list", "sudo", "deny", "subscribe"]
      policy              = "read" | "write" | "deny" | "sudo"   # legacy shorthand, unioned
      allowed_parameters  = { "name" = ["value", 1, true], "*" = [] }
      denied_parameters   = { "name" = [] }
      required_parameters = ["name"]
      min_wrapping_ttl    = "1m"      # or seconds
      max_wrapping_ttl    = 3600
    }

Everything else is refused with :class:`InvalidRequest` naming the key and the
line: unknown top-level or stanza keys, unknown capabilities, a stanza with
neither ``capabilities`` nor ``policy``, a key repeated inside one stanza,
non-simple parameter values, ``min_wrapping_ttl`` above ``max_wrapping_ttl``,
bad patterns (see :mod:`strongroom.core.policy.canonical`), and empty text.
The same pattern may appear in several stanzas: the ACL merges them as it
merges stanzas from different policies.
"""

from __future__ import annotations

from collections.abc import Callable

from strongroom.core.policy.canonical import canonical_policy_path
from strongroom.core.policy.model import CAPABILITIES, ParamValue, PathRule, Policy
from strongroom.core.policy.names import ROOT_POLICY_NAME, is_reserved, normalize_policy_name
from strongroom.core.policy.syntax import Block, Entry, Value, parse_document, where
from strongroom.core.policy.templates import check_template, is_template
from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import parse_duration

#: Vault's pre-0.5 shorthand, expanded the way Vault expands it.
_LEGACY_POLICY = {
    "deny": frozenset({"deny"}),
    "read": frozenset({"read", "list"}),
    "write": frozenset({"read", "list", "create", "update", "delete"}),
    "sudo": frozenset({"read", "list", "create", "update", "delete", "sudo"}),
}


def _error(line: int, message: str) -> InvalidRequest:
    return InvalidRequest(f"invalid policy: {where(line)}{message}")


def _string_list(entry: Entry) -> list[str]:
    if not isinstance(entry.value, list) or not all(isinstance(v, str) for v in entry.value):
        raise _error(entry.line, f"{entry.key!r} must be a list of strings")
    return [v for v in entry.value if isinstance(v, str)]


def _capabilities(entry: Entry) -> frozenset[str]:
    capabilities = frozenset(_string_list(entry))
    unknown = sorted(capabilities - CAPABILITIES)
    if unknown:
        raise _error(
            entry.line,
            f"unknown capability {unknown[0]!r}; expected one of {', '.join(sorted(CAPABILITIES))}",
        )
    return capabilities


def _legacy(entry: Entry) -> frozenset[str]:
    if not isinstance(entry.value, str) or entry.value not in _LEGACY_POLICY:
        raise _error(entry.line, "'policy' must be one of \"read\", \"write\", \"deny\" or \"sudo\"")
    return _LEGACY_POLICY[entry.value]


def _param_value(value: Value, entry: Entry) -> ParamValue:
    if isinstance(value, str | int | float | bool):  # bool is an int
        return value
    raise _error(entry.line, f"values in {entry.key!r} must be strings, numbers or booleans")


def _parameters(entry: Entry) -> dict[str, tuple[ParamValue, ...]]:
    if not isinstance(entry.value, Block):
        raise _error(entry.line, f"{entry.key!r} must be an object of lists")
    params: dict[str, tuple[ParamValue, ...]] = {}
    for item in entry.value.entries:
        name = item.key.lower()
        if name in params:
            raise _error(item.line, f"parameter {item.key!r} is listed twice in {entry.key!r}")
        if not isinstance(item.value, list):
            raise _error(item.line or entry.line, f"values of {item.key!r} in {entry.key!r} must be a list")
        params[name] = tuple(_param_value(v, entry) for v in item.value)
    return params


def _ttl(entry: Entry) -> int:
    if not isinstance(entry.value, str | int) or isinstance(entry.value, bool):
        raise _error(entry.line, f"{entry.key!r} must be a duration such as \"30s\" or a number of seconds")
    try:
        return parse_duration(entry.value, entry.key)
    except InvalidRequest as exc:
        raise _error(entry.line, exc.message) from None


class _Stanza:
    """Collects one path stanza's keys, refusing repeats."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.capabilities: frozenset[str] | None = None
        self.legacy: frozenset[str] | None = None
        self.allowed: dict[str, tuple[ParamValue, ...]] = {}
        self.denied: dict[str, tuple[ParamValue, ...]] = {}
        self.required: tuple[str, ...] = ()
        self.min_ttl = 0
        self.max_ttl = 0

    def set_capabilities(self, entry: Entry) -> None:
        self.capabilities = _capabilities(entry)

    def set_legacy(self, entry: Entry) -> None:
        self.legacy = _legacy(entry)

    def set_allowed(self, entry: Entry) -> None:
        self.allowed = _parameters(entry)

    def set_denied(self, entry: Entry) -> None:
        self.denied = _parameters(entry)

    def set_required(self, entry: Entry) -> None:
        self.required = tuple(dict.fromkeys(name.lower() for name in _string_list(entry)))

    def set_min_ttl(self, entry: Entry) -> None:
        self.min_ttl = _ttl(entry)

    def set_max_ttl(self, entry: Entry) -> None:
        self.max_ttl = _ttl(entry)


_KEYS: dict[str, Callable[[_Stanza, Entry], None]] = {
    "capabilities": _Stanza.set_capabilities,
    "policy": _Stanza.set_legacy,
    "allowed_parameters": _Stanza.set_allowed,
    "denied_parameters": _Stanza.set_denied,
    "required_parameters": _Stanza.set_required,
    "min_wrapping_ttl": _Stanza.set_min_ttl,
    "max_wrapping_ttl": _Stanza.set_max_ttl,
}


def _rule(entry: Entry) -> PathRule:
    templated = is_template(entry.key)
    try:
        # A templated path is kept as written; it is filled and canonicalised per caller.
        pattern = check_template(entry.key) if templated else canonical_policy_path(entry.key)
    except InvalidRequest as exc:
        raise _error(entry.line, exc.message) from None
    if not isinstance(entry.value, Block):
        raise _error(entry.line, f"path {entry.key!r} must be a block")
    stanza = _Stanza(pattern)
    seen: set[str] = set()
    for item in entry.value.entries:
        setter = _KEYS.get(item.key)
        if setter is None:
            raise _error(item.line, f"unknown key {item.key!r} in path {entry.key!r}; expected one of "
                         + ", ".join(sorted(_KEYS)))
        if item.key in seen:
            raise _error(item.line, f"key {item.key!r} is repeated in path {entry.key!r}")
        seen.add(item.key)
        setter(stanza, item)
    if stanza.capabilities is None and stanza.legacy is None:
        raise _error(entry.line, f"path {entry.key!r} must set 'capabilities'")
    capabilities = (stanza.capabilities or frozenset()) | (stanza.legacy or frozenset())
    if "deny" in capabilities:
        capabilities = frozenset({"deny"})
    if stanza.min_ttl and stanza.max_ttl and stanza.min_ttl > stanza.max_ttl:
        raise _error(entry.line, "max_wrapping_ttl cannot be less than min_wrapping_ttl")
    return PathRule(
        pattern=pattern,
        capabilities=capabilities,
        allowed_parameters=stanza.allowed,
        denied_parameters=stanza.denied,
        required_parameters=stanza.required,
        min_wrapping_ttl=stanza.min_ttl,
        max_wrapping_ttl=stanza.max_ttl,
        templated=templated,
    )


def _path_entries(value: Value, line: int) -> list[Entry]:
    blocks = value if isinstance(value, list) else [value]
    entries: list[Entry] = []
    for block in blocks:
        if not isinstance(block, Block):
            raise _error(line, "'path' must be followed by a quoted pattern and a block")
        entries.extend(block.entries)
    return entries


def parse_policy(name: str, text: str) -> Policy:
    """Parse and validate one policy. ``name`` is normalised; ``root`` is refused.

    Raises :class:`InvalidRequest` with a message naming the problem and, for
    HCL, its line. Never returns a partially valid policy.
    """
    if is_reserved(name):
        raise InvalidRequest(f"cannot create or update a policy named {ROOT_POLICY_NAME!r}")
    canonical_name = normalize_policy_name(name)
    if not text.strip():
        raise InvalidRequest("invalid policy: the policy text is empty")
    tree = parse_document(text)
    rules: list[PathRule] = []
    for entry in tree.entries:
        if entry.key != "path":
            raise _error(entry.line, f"unknown top-level key {entry.key!r}; only 'path' stanzas are allowed")
        rules.extend(_rule(path_entry) for path_entry in _path_entries(entry.value, entry.line))
    return Policy(name=canonical_name, raw=text, rules=tuple(rules))
