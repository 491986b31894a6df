"""JSON merge patch (RFC 7386), used by KV v2 PATCH on data and metadata."""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` and return the result; neither argument is modified.

    An object patch merges member by member, ``null`` removes a member, and any
    other patch value (array, string, number) replaces the target outright.
    """
    if not isinstance(patch, dict):
        return patch
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
