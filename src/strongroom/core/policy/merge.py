"""Merging the stanzas that share one pattern (from one policy or several), as Vault does.

* ``deny`` in any of them: the merged rule is deny, and its parameter lists are dropped.
* Otherwise capabilities are unioned.
* allowed/denied parameters: keys are unioned; for a key in both, an empty
  list (any value) wins, else the value lists are concatenated. Note this can
  narrow: a stanza without ``allowed_parameters`` merged with one that has
  them yields the constrained rule (Vault behaves the same way).
* required parameters are unioned.
* wrapping TTLs: the smaller non-zero value of each bound.
"""

from __future__ import annotations

from collections.abc import Mapping

from strongroom.core.policy.model import ParamValue, PathRule

_Params = Mapping[str, tuple[ParamValue, ...]]


def _merge_params(left: _Params, right: _Params) -> dict[str, tuple[ParamValue, ...]]:
    merged = dict(left)
    for key, values in right.items():
        if key not in merged:
            merged[key] = values
        elif not values or not merged[key]:
            merged[key] = ()
        else:
            merged[key] = merged[key] + values
    return merged


def _smaller_set(left: int, right: int) -> int:
    if left and right:
        return min(left, right)
    return left or right


def merge_rules(left: PathRule, right: PathRule) -> PathRule:
    """One rule equivalent to ``left`` and ``right`` together (same pattern)."""
    if left.pattern != right.pattern:
        raise ValueError("only rules for the same pattern can be merged")
    if left.denies or right.denies:
        return PathRule(pattern=left.pattern, capabilities=frozenset({"deny"}))
    return PathRule(
        pattern=left.pattern,
        capabilities=left.capabilities | right.capabilities,
        allowed_parameters=_merge_params(left.allowed_parameters, right.allowed_parameters),
        denied_parameters=_merge_params(left.denied_parameters, right.denied_parameters),
        required_parameters=tuple(dict.fromkeys(left.required_parameters + right.required_parameters)),
        min_wrapping_ttl=_smaller_set(left.min_wrapping_ttl, right.min_wrapping_ttl),
        max_wrapping_ttl=_smaller_set(left.max_wrapping_ttl, right.max_wrapping_ttl),
    )
