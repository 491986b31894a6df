"""Lockout settings: Vault's defaults, the server configuration's ``user_lockout`` blocks, and mount tuning.

Precedence, field by field (the first that sets a field wins):

1. the auth mount's ``user_lockout_config`` (``sys/auth/:path/tune``);
2. the configuration's ``user_lockout "<method type>" { ... }`` block;
3. the configuration's ``user_lockout "all" { ... }`` block;
4. Vault's defaults: 5 failures, locked for 15 minutes, counter reset after 15 minutes without a failure.

``disable_lockout`` exists for Vault compatibility (a method whose principals
are machines may prefer quotas); it is per method or per mount, never a
process-wide switch or an environment variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.fields import coerce, parse_duration
from strongroom.sdk.token_params import bounded

DEFAULT_THRESHOLD = 5
DEFAULT_DURATION = 15 * 60
DEFAULT_COUNTER_RESET = 15 * 60

#: The keys of ``user_lockout_config`` in a tune request (Vault's names) -> our field names.
TUNE_KEYS: Mapping[str, str] = {
    "lockout_threshold": "threshold",
    "lockout_duration": "duration",
    "lockout_counter_reset": "counter_reset",
    "lockout_disable": "disabled",
}
#: The keys of a configuration file's ``user_lockout`` block -> our field names.
CONFIG_KEYS: Mapping[str, str] = {
    "lockout_threshold": "threshold",
    "lockout_duration": "duration",
    "lockout_counter_reset": "counter_reset",
    "disable_lockout": "disabled",
}
ALL_METHODS = "all"


@dataclass(frozen=True, slots=True)
class LockoutSettings:
    """The rules for one auth mount. Durations in seconds."""

    threshold: int = DEFAULT_THRESHOLD
    duration: int = DEFAULT_DURATION
    counter_reset: int = DEFAULT_COUNTER_RESET
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class LockoutOverrides:
    """Some of the fields of :class:`LockoutSettings`; None means "inherit"."""

    threshold: int | None = None
    duration: int | None = None
    counter_reset: int | None = None
    disabled: bool | None = None

    def apply(self, base: LockoutSettings) -> LockoutSettings:
        changes = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        return replace(base, **changes)

    def to_json(self) -> dict[str, Any]:
        """The set fields under Vault's tune names (what a mount entry stores)."""
        names = {v: k for k, v in TUNE_KEYS.items()}
        return {names[f.name]: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @staticmethod
    def parse(raw: Mapping[str, Any], keys: Mapping[str, str], where: str) -> LockoutOverrides:
        """Validated overrides from ``raw`` (tune or config names per ``keys``); 400 naming the key."""
        values: dict[str, Any] = {}
        for key, value in raw.items():
            name = keys.get(key)
            if name is None:
                raise InvalidRequest(f"{where}: unknown key {key!r}" if key.isidentifier() else f"{where}: unknown key")
            if value is None or value == "":
                continue  # an empty value clears the override
            values[name] = _parse_value(name, value, key)
        return LockoutOverrides(**values)


def _parse_value(name: str, value: Any, key: str) -> Any:
    if name == "disabled":
        return coerce(T.BOOL, value, key)
    number = coerce(T.INT, value, key) if name == "threshold" else parse_duration(value, key)
    if number < 1:
        raise InvalidRequest(f"{key!r} must be at least 1" + ("" if name == "threshold" else " second"))
    return bounded(number, key)


def merge_tune(stored: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A mount's ``user_lockout_config`` after a tune: given keys replace (empty clears), others are kept."""
    if not isinstance(changes, Mapping):
        raise InvalidRequest("'user_lockout_config' must be an object")
    update = LockoutOverrides.parse(changes, TUNE_KEYS, "user_lockout_config").to_json()
    merged = {k: v for k, v in stored.items() if k not in changes}
    merged.update(update)
    return merged


@dataclass(frozen=True)
class LockoutDefaults:
    """The server configuration's ``user_lockout`` blocks: ``all`` and one per method type."""

    by_type: Mapping[str, LockoutOverrides] = field(default_factory=dict)

    @staticmethod
    def from_config(blocks: Mapping[str, Mapping[str, Any]]) -> LockoutDefaults:
        """From ``{label: {config key: value}}`` as the configuration loader hands them over."""
        return LockoutDefaults(
            {label: LockoutOverrides.parse(body, CONFIG_KEYS, f'user_lockout "{label}"')
             for label, body in blocks.items()}
        )

    def resolve(self, method_type: str, mount_config: Mapping[str, Any]) -> LockoutSettings:
        """The settings of one mount of ``method_type`` whose tuned ``user_lockout_config`` is ``mount_config``."""
        settings = LockoutSettings()
        for label in (ALL_METHODS, method_type):
            overrides = self.by_type.get(label)
            if overrides is not None:
                settings = overrides.apply(settings)
        tuned = LockoutOverrides.parse(mount_config, TUNE_KEYS, "user_lockout_config")
        return tuned.apply(settings)
