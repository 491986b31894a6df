"""Templated policy paths: ``{{identity...}}`` expressions filled from the caller's identity.

A path such as ``secret/data/{{identity.entity.aliases.auth_kubernetes_1.metadata.service_account_namespace}}/*``
is kept as written in the policy; each time an ACL is built for a caller the
expressions are replaced with that caller's values (:func:`resolve_template`).
Supported expressions (Vault's)::

    identity.entity.id | identity.entity.name | identity.entity.metadata.KEY
    identity.entity.aliases.MOUNT_ACCESSOR.(id | name | metadata.KEY | custom_metadata.KEY)
    identity.groups.ids.GROUP_ID.(name | metadata.KEY)
    identity.groups.names.GROUP_NAME.(id | metadata.KEY)

A group expression resolves only for a group the caller's entity belongs to.

Why values are refused rather than escaped: a value is copied into a path pattern,
so a value holding ``/``, ``*``, ``+``, ``..``, ``.``, braces, control characters or
nothing at all could add segments, become a wildcard or vanish, and the rule would
cover more than the policy author wrote. Such a value makes the expression
unresolvable, and a rule with an unresolvable expression is dropped from that
caller's ACL (Vault drops unresolvable paths the same way). Dropping can only take
grants away: a dropped ``deny`` rule removes a deny, which is why policy authors
should not rely on templated deny rules (``docs/policies.md`` says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strongroom.core.policy.canonical import _check_characters, canonical_policy_path
from strongroom.errors import InvalidRequest

_EXPRESSION = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
#: Characters a template value may never contain (path structure and wildcards).
_UNSAFE_CHARACTERS = frozenset("/*+{}")
#: Longest value accepted (a path segment, not a document).
MAX_VALUE_CHARS = 512

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class AliasFacts:
    mount_accessor: str
    id: str
    name: str
    metadata: Pairs = ()
    custom_metadata: Pairs = ()


@dataclass(frozen=True, slots=True)
class GroupFacts:
    id: str
    name: str
    metadata: Pairs = ()


@dataclass(frozen=True, slots=True)
class TemplateIdentity:
    """What templates may read about a caller. Hashable: ACLs are cached by it."""

    entity_id: str
    entity_name: str
    metadata: Pairs = ()
    aliases: tuple[AliasFacts, ...] = ()
    groups: tuple[GroupFacts, ...] = ()

    def value(self, expression: str) -> str | None:
        """The raw value of a (valid) expression for this caller, or None when it has none."""
        parts = _parse(expression)
        head, rest = parts[0], parts[1:]
        if head == "entity.id":
            return self.entity_id
        if head == "entity.name":
            return self.entity_name
        if head == "entity.metadata":
            return dict(self.metadata).get(rest[0])
        if head == "alias":
            alias = next((a for a in self.aliases if a.mount_accessor == rest[0]), None)
            return None if alias is None else _alias_value(alias, rest[1:])
        if head == "group.id":
            group = next((g for g in self.groups if g.id == rest[0]), None)
            return None if group is None else _group_value(group, "name", rest[1:])
        group = next((g for g in self.groups if g.name == rest[0]), None)
        return None if group is None else _group_value(group, "id", rest[1:])


def _alias_value(alias: AliasFacts, rest: tuple[str, ...]) -> str | None:
    if rest[0] == "id":
        return alias.id
    if rest[0] == "name":
        return alias.name
    source = alias.metadata if rest[0] == "metadata" else alias.custom_metadata
    return dict(source).get(rest[1])


def _group_value(group: GroupFacts, own: str, rest: tuple[str, ...]) -> str | None:
    if rest[0] == own:
        return group.name if own == "name" else group.id
    return dict(group.metadata).get(rest[1])


def _invalid(expression: str) -> InvalidRequest:
    return InvalidRequest(f"invalid policy path: unsupported template expression {expression!r}")


def _split_member(rest: str, own: str, expression: str) -> tuple[str, ...]:
    """``NAME.own`` or ``NAME.metadata.KEY`` (NAME may itself contain dots)."""
    key_at = rest.find(".metadata.")
    if key_at > 0 and rest[key_at + len(".metadata."):]:
        return (rest[:key_at], "metadata", rest[key_at + len(".metadata."):])
    suffix = "." + own
    if rest.endswith(suffix) and len(rest) > len(suffix):
        return (rest[: -len(suffix)], own)
    raise _invalid(expression)


def _parse(expression: str) -> tuple[str, ...]:
    """A valid expression as (kind, arguments...); InvalidRequest for anything else."""
    if expression in ("identity.entity.id", "identity.entity.name"):
        return (expression.removeprefix("identity."),)
    if expression.startswith("identity.entity.metadata.") and len(expression) > len("identity.entity.metadata."):
        return ("entity.metadata", expression[len("identity.entity.metadata."):])
    if expression.startswith("identity.entity.aliases."):
        accessor, _, rest = expression[len("identity.entity.aliases."):].partition(".")
        if accessor and rest in ("id", "name"):
            return ("alias", accessor, rest)
        kind, _, key = rest.partition(".")
        if accessor and kind in ("metadata", "custom_metadata") and key:
            return ("alias", accessor, kind, key)
        raise _invalid(expression)
    if expression.startswith("identity.groups.ids."):
        return ("group.id", *_split_member(expression[len("identity.groups.ids."):], "name", expression))
    if expression.startswith("identity.groups.names."):
        return ("group.name", *_split_member(expression[len("identity.groups.names."):], "id", expression))
    raise _invalid(expression)


def is_template(pattern: str) -> bool:
    return "{{" in pattern or "}}" in pattern


def _pieces(pattern: str) -> list[tuple[bool, str]]:
    """Literal text and expressions in order: ``(False, text)`` / ``(True, expression)``."""
    pieces: list[tuple[bool, str]] = []
    at = 0
    for match in _EXPRESSION.finditer(pattern):
        pieces.append((False, pattern[at : match.start()]))
        pieces.append((True, match.group(1)))
        at = match.end()
    pieces.append((False, pattern[at:]))
    return pieces


def check_template(pattern: str) -> str:
    """Validate a templated policy path when a policy is written; answers it unchanged.

    Every ``{{ }}`` must hold a supported expression, no stray braces may remain, and
    the path must be a valid pattern once the expressions hold ordinary values.
    """
    pieces = _pieces(pattern)
    for is_expression, text in pieces:
        if is_expression:
            _parse(text)
        elif "{" in text or "}" in text:
            raise InvalidRequest("invalid policy path: unbalanced '{{' or '}}' in a templated path")
    canonical_policy_path("".join("x" if is_expression else text for is_expression, text in pieces))
    return pattern


def safe_value(value: str) -> bool:
    """Whether ``value`` may be copied into a path pattern without changing its shape."""
    if not value or len(value) > MAX_VALUE_CHARS or value == "." or ".." in value:
        return False
    if any(char in _UNSAFE_CHARACTERS for char in value):
        return False
    try:
        _check_characters(value, "template value")
    except InvalidRequest:
        return False
    return True


def resolve_template(pattern: str, identity: TemplateIdentity | None) -> str | None:
    """The canonical pattern for this caller, or None when the rule must be dropped."""
    if identity is None:
        return None
    out: list[str] = []
    for is_expression, text in _pieces(pattern):
        if not is_expression:
            out.append(text)
            continue
        value = identity.value(text)
        if value is None or not safe_value(value):
            return None
        out.append(value)
    try:
        return canonical_policy_path("".join(out))
    except InvalidRequest:
        return None
