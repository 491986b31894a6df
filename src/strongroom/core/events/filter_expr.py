"""The ``filter`` parameter of an event subscription: a small subset of Vault's go-bexpr syntax.

Accepted: comparisons ``<selector> == <value>`` and ``<selector> != <value>`` joined by
``and`` / ``or`` (``and`` binds tighter; no parentheses, no ``not``, no ``matches``/``in``).
A value is a double-quoted string or a bare word. A selector names an event metadata
field (``data_path``, ``operation``, ``modified``, ...), ``event_type``, or a
``plugin_info`` field (``mount_path``, ``plugin``, ...); an unknown field compares as empty.
Anything else is a 400 when subscribing, never a stream that silently matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strongroom.errors import InvalidRequest

_TOKEN = re.compile(r'\s*(?:(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<op>==|!=)|(?P<word>[^\s"=!]+))')
_MAX_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class Comparison:
    selector: str
    equal: bool
    value: str

    def holds(self, event: Mapping[str, Any]) -> bool:
        return (_select(event, self.selector) == self.value) == self.equal


#: Disjunction of conjunctions; empty: everything matches.
FilterExpr = tuple[tuple[Comparison, ...], ...]


def parse_filter(text: str) -> FilterExpr:
    text = text.strip()
    if not text:
        return ()
    if len(text) > _MAX_LENGTH:
        raise InvalidRequest("the event filter is too long")
    tokens = _tokens(text)
    alternatives: list[tuple[Comparison, ...]] = []
    current: list[Comparison] = []
    i = 0
    while True:
        if i + 3 > len(tokens):
            raise _bad()
        (kind_s, selector), (kind_o, op), (kind_v, value) = tokens[i : i + 3]
        if kind_s != "word" or kind_o != "op" or kind_v == "op":
            raise _bad()
        current.append(Comparison(selector, op == "==", value))
        i += 3
        if i == len(tokens):
            break
        kind_j, joiner = tokens[i]
        if kind_j != "word" or joiner not in ("and", "or"):
            raise _bad()
        if joiner == "or":
            alternatives.append(tuple(current))
            current = []
        i += 1
    alternatives.append(tuple(current))
    return tuple(alternatives)


def matches(expr: FilterExpr, event: Mapping[str, Any]) -> bool:
    return not expr or any(all(c.holds(event) for c in conjunction) for conjunction in expr)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        found = _TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            raise _bad()
        pos = found.end()
        if found.group("quoted") is not None:
            tokens.append(("value", re.sub(r"\\(.)", r"\1", found.group("quoted")[1:-1])))
        elif found.group("op") is not None:
            tokens.append(("op", found.group("op")))
        else:
            tokens.append(("word", found.group("word")))
    return tokens


def _select(event: Mapping[str, Any], selector: str) -> str:
    data = event.get("data") or {}
    if selector == "event_type":
        return str(data.get("event_type", ""))
    name = selector.removeprefix("plugin_info.").removeprefix("metadata.")
    metadata = (data.get("event") or {}).get("metadata") or {}
    if not selector.startswith("plugin_info.") and name in metadata:
        return str(metadata[name])
    return str((data.get("plugin_info") or {}).get(name, ""))


def _bad() -> InvalidRequest:
    return InvalidRequest(
        'invalid event filter: expected comparisons such as data_path == "secret/data/app" joined by and/or'
    )
