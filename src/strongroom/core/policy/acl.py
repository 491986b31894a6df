"""The ACL: a token's policies merged into one structure that answers "may this request pass?".

Matching (see :mod:`strongroom.core.policy.matching` for the pattern rules):

1. an exact pattern equal to the path wins over everything;
2. for list and scan, whose paths end in '/', an exact pattern equal to the
   path without its trailing '/' comes next (``secret/foo`` grants LIST on
   ``secret/foo/``, as in Vault);
3. otherwise the most specific wildcard pattern that matches the path (or,
   for list and scan, the path without its trailing '/') decides alone:
   rules are never combined across different patterns.

Stanzas with the same pattern are merged first (:mod:`strongroom.core.policy.merge`);
``deny`` anywhere in the merged stanza refuses everything on the paths it decides.

Paths must already be canonical (:func:`canonical_request_path`, applied once
by the core); a path that is not is refused rather than reinterpreted, so the
ACL can never judge a different path than the router serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from strongroom.core.policy.canonical import canonical_request_path, is_canonical_request_path
from strongroom.core.policy.matching import Pattern
from strongroom.core.policy.merge import merge_rules
from strongroom.core.policy.model import ALL_GRANTS, PathRule, Policy
from strongroom.core.policy.params import check_parameters
from strongroom.core.policy.templates import TemplateIdentity, resolve_template

#: The capability each operation needs (names of ``strongroom.sdk.logical.Operation``).
REQUIRED_CAPABILITY = {
    "create": "create",
    "read": "read",
    "update": "update",
    "patch": "patch",
    "delete": "delete",
    "list": "list",
    "scan": "list",
}
_LISTING = frozenset({"list", "scan"})
_PARAMETER_CHECKED = frozenset({"create", "update", "patch"})


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one request.

    ``capabilities`` are those of the deciding rule (empty when nothing
    matched, ``{"deny"}`` for a deny). ``sudo`` is True when that rule grants
    sudo (or for root). ``reason`` is for logs: it may name the deciding
    pattern and policy parameter names, never request data values.
    """

    allowed: bool
    sudo: bool
    capabilities: frozenset[str]
    reason: str
    pattern: str | None = None


def _refuse(reason: str, rule: PathRule | None = None) -> Decision:
    if rule is None:
        return Decision(allowed=False, sudo=False, capabilities=frozenset(), reason=reason)
    return Decision(
        allowed=False,
        sudo="sudo" in rule.capabilities and not rule.denies,
        capabilities=rule.capabilities,
        reason=reason,
        pattern=rule.pattern,
    )


def _wrapping_refusal(rule: PathRule, wrap_ttl: int | None) -> str | None:
    if rule.max_wrapping_ttl and (wrap_ttl is None or wrap_ttl > rule.max_wrapping_ttl):
        return "response wrapping TTL above this path's max_wrapping_ttl (or missing)"
    if rule.min_wrapping_ttl and (wrap_ttl is None or wrap_ttl < rule.min_wrapping_ttl):
        return "response wrapping TTL below this path's min_wrapping_ttl (or missing)"
    if rule.min_wrapping_ttl and rule.max_wrapping_ttl and rule.min_wrapping_ttl > rule.max_wrapping_ttl:
        return "merged policies leave no valid response wrapping TTL on this path"
    return None


def _filled(policies: list[Policy], identity: TemplateIdentity | None) -> Iterator[PathRule]:
    for policy in policies:
        for rule in policy.rules:
            if not rule.templated:
                yield rule
                continue
            pattern = resolve_template(rule.pattern, identity)
            if pattern is not None:
                yield replace(rule, pattern=pattern, templated=False)


class ACL:
    """Immutable once built; safe to cache and share between requests."""

    __slots__ = ("_exact", "_root", "_wildcards")

    def __init__(self, rules: Iterable[PathRule] = (), *, root: bool = False) -> None:
        merged: dict[str, PathRule] = {}
        for rule in rules:
            existing = merged.get(rule.pattern)
            merged[rule.pattern] = rule if existing is None else merge_rules(existing, rule)
        self._root = root
        self._exact: dict[str, PathRule] = {}
        wildcards: list[tuple[Pattern, PathRule]] = []
        for text, rule in merged.items():
            pattern = Pattern.compile(text)
            if pattern.exact:
                self._exact[text] = rule
            else:
                wildcards.append((pattern, rule))
        # Most specific first, so the first match is the deciding one.
        wildcards.sort(key=lambda item: item[0].priority, reverse=True)
        self._wildcards = tuple(wildcards)

    @classmethod
    def from_policies(cls, policies: Iterable[Policy], identity: TemplateIdentity | None = None) -> ACL:
        """Merge policies; the root policy among them makes an ACL that grants everything.

        Templated paths are filled from ``identity``; a path that cannot be filled
        (no identity, a missing value, an unsafe value) is left out of this ACL.
        """
        chosen = list(policies)
        root = any(policy.is_root for policy in chosen)
        return cls(_filled(chosen, identity), root=root)

    @property
    def is_root(self) -> bool:
        return self._root

    def match(self, path: str, *, listing: bool = False) -> PathRule | None:
        """The rule that decides for canonical ``path`` (None when nothing matches)."""
        rule = self._exact.get(path)
        if rule is not None:
            return rule
        trimmed = path[:-1] if listing and path.endswith("/") else None
        if trimmed is not None:
            rule = self._exact.get(trimmed)
            if rule is not None:
                return rule
        for pattern, candidate in self._wildcards:
            if pattern.matches(path) or (trimmed is not None and pattern.matches(trimmed)):
                return candidate
        return None

    def authorize(
        self, operation: str, path: str, data: Mapping[str, Any], *, wrap_ttl: int | None = None
    ) -> Decision:
        """May ``operation`` on canonical ``path`` with ``data`` proceed?

        ``wrap_ttl`` is the requested response-wrapping TTL in seconds (None
        when the request is not wrapped); it matters only for rules with
        min/max_wrapping_ttl. Unknown operations and non-canonical paths are
        refused.
        """
        op = str(operation)
        required = REQUIRED_CAPABILITY.get(op)
        if required is None:
            return _refuse("unknown operation")
        if not is_canonical_request_path(path):
            return _refuse("request path is not canonical")
        if self._root:
            return Decision(allowed=True, sudo=True, capabilities=ALL_GRANTS, reason="root policy")
        rule = self.match(path, listing=op in _LISTING)
        if rule is None:
            return _refuse("no policy grants access to this path")
        if rule.denies:
            return _refuse(f"denied by policy path {rule.pattern!r}", rule)
        if required not in rule.capabilities:
            return _refuse(f"policy path {rule.pattern!r} does not grant {required!r}", rule)
        refusal = _wrapping_refusal(rule, wrap_ttl)
        if refusal is None and op in _PARAMETER_CHECKED:
            refusal = check_parameters(rule, data)
        if refusal is not None:
            return _refuse(f"policy path {rule.pattern!r}: {refusal}", rule)
        return Decision(
            allowed=True,
            sudo="sudo" in rule.capabilities,
            capabilities=rule.capabilities,
            reason=f"granted by policy path {rule.pattern!r}",
            pattern=rule.pattern,
        )

    def has_access_under(self, prefix: str) -> bool:
        """Whether any non-deny rule reaches somewhere below ``prefix`` (a mount path ending in '/').

        Used only to decide whether a caller may learn a mount's type and options
        (``sys/internal/ui/mounts``), as Vault does; never to authorise a request.
        """
        if self._root:
            return True
        rules = [*self._exact.items(), *((p.text, r) for p, r in self._wildcards)]
        for text, rule in rules:
            if rule.denies or not rule.capabilities:
                continue
            if text.startswith(prefix) or (text.endswith("*") and prefix.startswith(text[:-1])):
                return True
        return False

    def capabilities(self, path: str) -> list[str]:
        """What sys/capabilities reports for ``path``: sorted names, ``["deny"]`` or ``["root"]``.

        ``path`` is canonicalised here (it comes from a request body, not the
        URL); :class:`InvalidRequest` for refused spellings. Trailing-slash
        fallbacks apply as for LIST, like Vault.
        """
        canonical = canonical_request_path(path)
        if self._root:
            return ["root"]
        rule = self.match(canonical, listing=True)
        if rule is None or rule.denies or not rule.capabilities:
            return ["deny"]
        return sorted(rule.capabilities)
