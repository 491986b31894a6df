"""Kubernetes label selectors for ``bound_service_account_namespace_selector``.

The role stores the selector as Vault does: JSON or YAML of a ``LabelSelector``
(``matchLabels`` and ``matchExpressions`` with ``In``, ``NotIn``, ``Exists``,
``DoesNotExist``). It is parsed and validated when the role is written. An
empty selector is refused: Kubernetes reads it as "every namespace", which as
a login binding is almost certainly a mistake (write ``*`` in
``bound_service_account_namespaces`` to mean that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from strongroom.errors import InvalidRequest

_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
_FIELD = "bound_service_account_namespace_selector"


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str]

    def holds(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        return self.key not in labels or labels[self.key] not in self.values  # NotIn


@dataclass(frozen=True, slots=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every requirement holds for ``labels`` (a namespace's labels)."""
        return all(r.holds(labels) for r in self.requirements)


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRequest(f"{_FIELD}: {what} must be a list of strings")
    return value


def parse_selector(text: str) -> LabelSelector:
    """The selector in ``text`` (JSON or YAML); 400 for anything that is not a non-empty LabelSelector."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        raise InvalidRequest(f"{_FIELD} is not valid JSON or YAML") from None
    if not isinstance(raw, dict) or set(raw) - {"matchLabels", "matchExpressions"}:
        raise InvalidRequest(f"{_FIELD} must be an object with matchLabels and/or matchExpressions")
    requirements: list[Requirement] = []
    labels = raw.get("matchLabels") or {}
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise InvalidRequest(f"{_FIELD}: matchLabels must map strings to strings")
    requirements += [Requirement(k, "In", frozenset({v})) for k, v in labels.items()]
    expressions = raw.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise InvalidRequest(f"{_FIELD}: matchExpressions must be a list")
    for expression in expressions:
        if not isinstance(expression, dict) or not isinstance(expression.get("key"), str):
            raise InvalidRequest(f"{_FIELD}: each expression needs a key")
        operator = expression.get("operator")
        if operator not in _OPERATORS:
            raise InvalidRequest(f"{_FIELD}: operator must be one of In, NotIn, Exists, DoesNotExist")
        values = _strings(expression.get("values", []), "values")
        if (operator in {"In", "NotIn"}) != bool(values):
            raise InvalidRequest(f"{_FIELD}: In and NotIn need values, Exists and DoesNotExist take none")
        requirements.append(Requirement(expression["key"], str(operator), frozenset(values)))
    if not requirements:
        raise InvalidRequest(f"{_FIELD} is empty, which would match every namespace; use '*' in "
                             "bound_service_account_namespaces to mean that")
    return LabelSelector(tuple(requirements))
