"""Policy lists on tokens: canonical form, subset checks, role globs.

A token's policy list is always canonical: every name normalised by the policy
package's normaliser, blank names dropped, duplicates removed, sorted. As in
Vault, a list that holds ``root`` collapses to exactly ``["root"]``; any
spelling or look-alike of ``root`` counts as ``root`` here, so it meets the
root-only-from-root rule instead of slipping past it.
"""

from __future__ import annotations

from collections.abc import Iterable

from strongroom.core.policy.names import (
    DEFAULT_POLICY_NAME,
    ROOT_POLICY_NAME,
    is_reserved,
    normalize_policy_name,
)

ROOT_POLICY = ROOT_POLICY_NAME
DEFAULT_POLICY = DEFAULT_POLICY_NAME
#: Vault reserves these for internal tokens; no caller may attach them.
NON_ASSIGNABLE = frozenset({"response-wrapping", "control-group"})


def sanitize_policies(names: Iterable[str], *, add_default: bool) -> list[str]:
    """The canonical policy list for ``names``; ``default`` is added when asked (never next to root).

    Raises InvalidRequest for a name the policy store could never hold.
    """
    result: set[str] = set()
    for raw in names:
        if not raw.strip():
            continue
        if is_reserved(raw):
            return [ROOT_POLICY]
        result.add(normalize_policy_name(raw))
    if add_default:
        result.add(DEFAULT_POLICY)
    return sorted(result)


def is_subset(candidate: Iterable[str], allowed: Iterable[str]) -> bool:
    """True when every canonical name in ``candidate`` is in ``allowed`` (both normalised first)."""
    allowed_set = set(sanitize_policies(allowed, add_default=False))
    return set(sanitize_policies(candidate, add_default=False)) <= allowed_set


def glob_match(pattern: str, name: str) -> bool:
    """Vault's policy glob: ``*`` matches any run of characters; nothing else is special."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == name
    head, *middle, tail = parts
    if not name.startswith(head) or not name.endswith(tail) or len(name) < len(head) + len(tail):
        return False
    pos = len(head)
    end = len(name) - len(tail)
    for part in middle:
        found = name.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def matches_any(patterns: Iterable[str], name: str) -> bool:
    return any(glob_match(p, name) for p in patterns)
