"""Policy names: one canonical spelling, and the reserved names.

The rules live in :mod:`strongroom.sdk.policy_names` so that plug-ins (auth
methods storing policy lists) apply exactly the same ones; this module is the
core's name for them.
"""

from __future__ import annotations

from strongroom.sdk.policy_names import (
    DEFAULT_POLICY_NAME,
    ROOT_POLICY_NAME,
    deletable_policy_name,
    is_default,
    is_reserved,
    normalize_policy_name,
    writable_policy_name,
)

__all__ = [
    "DEFAULT_POLICY_NAME",
    "ROOT_POLICY_NAME",
    "deletable_policy_name",
    "is_default",
    "is_reserved",
    "normalize_policy_name",
    "writable_policy_name",
]
