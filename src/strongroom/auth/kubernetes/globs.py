"""Vault's name globs for role bindings: ``*`` matches any run of characters, nothing else is special."""

from __future__ import annotations


def glob_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern``, where only ``*`` is a wildcard (``?`` and ``[`` are literal)."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == value
    head, *middle, tail = pieces
    if not value.startswith(head) or not value.endswith(tail) or len(value) < len(head) + len(tail):
        return False
    position = len(head)
    end = len(value) - len(tail)
    for piece in middle:
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def any_match(patterns: tuple[str, ...], value: str) -> bool:
    """Whether one of ``patterns`` matches ``value``."""
    return any(glob_match(p, value) for p in patterns)
