"""What a parsed policy is: immutable values, shared by the parser, the ACL and the store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

#: Capabilities a policy may grant, in Vault's spelling.
CAPABILITIES = frozenset({"create", "read", "update", "patch", "delete", "list", "sudo", "deny", "subscribe"})

#: Everything the root policy grants (reported as ``["root"]`` by sys/capabilities).
ALL_GRANTS = CAPABILITIES - {"deny"}

#: A parameter value a policy may name: simple JSON/HCL types only.
ParamValue = str | int | float | bool


def _frozen_params(params: Mapping[str, tuple[ParamValue, ...]]) -> Mapping[str, tuple[ParamValue, ...]]:
    return MappingProxyType(dict(params))


@dataclass(frozen=True, slots=True)
class PathRule:
    """One ``path "<pattern>" { ... }`` stanza, after validation.

    ``pattern`` is canonical (see :mod:`strongroom.core.policy.canonical`).
    ``capabilities`` is ``{"deny"}`` alone whenever deny was listed (deny
    overrides everything else in the same stanza). Parameter names are
    lower-case; an empty value tuple means "any value". Wrapping TTLs are in
    seconds, 0 meaning unset.
    """

    pattern: str
    capabilities: frozenset[str]
    allowed_parameters: Mapping[str, tuple[ParamValue, ...]] = field(default_factory=dict)
    denied_parameters: Mapping[str, tuple[ParamValue, ...]] = field(default_factory=dict)
    required_parameters: tuple[str, ...] = ()
    min_wrapping_ttl: int = 0
    max_wrapping_ttl: int = 0
    #: ``pattern`` holds ``{{identity...}}`` expressions, filled per caller (:mod:`.templates`).
    templated: bool = False

    def __post_init__(self) -> None:
        # Read-only views so a shared rule cannot be changed after parsing.
        object.__setattr__(self, "allowed_parameters", _frozen_params(self.allowed_parameters))
        object.__setattr__(self, "denied_parameters", _frozen_params(self.denied_parameters))

    @property
    def denies(self) -> bool:
        return "deny" in self.capabilities


@dataclass(frozen=True, slots=True)
class Policy:
    """A named, parsed policy. ``raw`` is the text exactly as submitted.

    ``is_root`` is set only on :data:`ROOT_POLICY`; the parser refuses the
    name ``root``, so no stored text can produce a root policy.
    """

    name: str
    raw: str
    rules: tuple[PathRule, ...]
    is_root: bool = False

    @property
    def templated(self) -> bool:
        """Whether any path of this policy is a template (its ACL depends on the caller's identity)."""
        return any(rule.templated for rule in self.rules)


#: The built-in root policy: grants everything, including sudo, everywhere.
ROOT_POLICY = Policy(name="root", raw="", rules=(), is_root=True)
