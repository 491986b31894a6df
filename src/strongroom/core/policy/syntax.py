"""Policy text (HCL or JSON) to a small, lossless tree.

Why not ``hcl.loads``: pyhcl's parser silently merges duplicate blocks, so
``path "x" { capabilities = ["deny"] }`` followed by another ``path "x"``
stanza loses the deny; it also rejects booleans in lists and turns
comparison expressions into strings. We keep pyhcl's *lexer* (strings,
heredocs, comments, numbers) and parse the HCL subset that policies use with
a small recursive-descent parser that keeps every entry, in order, with its
line number. JSON goes through :mod:`json`, also keeping duplicate keys.

Grammar (HCL1 subset)::

    body   := (item ','?)*
    item   := key ('=' | ':') value  |  key label* '{' body '}'
    key    := IDENTIFIER | STRING ;  label := STRING
    value  := STRING | NUMBER | FLOAT | BOOL | '[' (value (',' value)* ','?)? ']' | '{' body '}'

A labelled block ``path "a" { ... }`` is the same tree as ``path = { "a" = { ... } }``.
Every failure is an :class:`InvalidRequest` naming the line where known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeAlias

from hcl.lexer import Lexer

from strongroom.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``key = value`` (or labelled block). ``line`` is 0 when unknown (JSON)."""

    key: str
    value: Value
    line: int


@dataclass(frozen=True, slots=True)
class Block:
    """An object: entries in source order, duplicates kept."""

    entries: tuple[Entry, ...]
    line: int


Value: TypeAlias = "str | int | float | bool | list[Value] | Block | None"


def where(line: int) -> str:
    """A message prefix naming the line, or nothing when the line is unknown."""
    return f"line {line}: " if line > 0 else ""


def _fail(line: int, message: str) -> InvalidRequest:
    return InvalidRequest(f"failed to parse policy: {where(line)}{message}")


_DESCRIBE = {
    "LEFTBRACE": "'{'",
    "RIGHTBRACE": "'}'",
    "LEFTBRACKET": "'['",
    "RIGHTBRACKET": "']'",
    "EQUAL": "'='",
    "COMMA": "','",
    "COLON": "':'",
}


class _Parser:
    def __init__(self, tokens: list[Any]) -> None:
        self._tokens = tokens
        self._pos = 0

    def _peek(self) -> Any | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self) -> Any:
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def _last_line(self) -> int:
        return int(self._tokens[-1].lineno) if self._tokens else 0

    def _unexpected(self, token: Any | None, expected: str) -> InvalidRequest:
        if token is None:
            return _fail(self._last_line(), f"unexpected end of policy, expected {expected}")
        shown = _DESCRIBE.get(token.type, token.type.lower())
        return _fail(int(token.lineno), f"unexpected {shown}, expected {expected}")

    def _expect(self, kind: str, expected: str) -> Any:
        token = self._peek()
        if token is None or token.type != kind:
            raise self._unexpected(token, expected)
        return self._take()

    def document(self) -> Block:
        block = self._body(line=1, closed=False)
        if self._peek() is not None:
            raise self._unexpected(self._peek(), "a key")
        return block

    def _body(self, line: int, *, closed: bool) -> Block:
        entries: list[Entry] = []
        while True:
            token = self._peek()
            if token is None:
                if closed:
                    raise self._unexpected(None, "'}'")
                break
            if closed and token.type == "RIGHTBRACE":
                self._take()
                break
            if token.type not in ("IDENTIFIER", "STRING"):
                raise self._unexpected(token, "a key" + (" or '}'" if closed else ""))
            entries.append(self._item())
            following = self._peek()
            if following is not None and following.type == "COMMA":
                self._take()
        return Block(tuple(entries), line)

    def _item(self) -> Entry:
        key = self._take()
        line = int(key.lineno)
        token = self._peek()
        if token is not None and token.type in ("EQUAL", "COLON"):
            self._take()
            return Entry(str(key.value), self._value(), line)
        labels: list[tuple[str, int]] = []
        while token is not None and token.type == "STRING":
            labels.append((str(self._take().value), int(token.lineno)))
            token = self._peek()
        brace = self._expect("LEFTBRACE", "'{'" if labels else "'=' or '{'")
        value: Value = self._body(int(brace.lineno), closed=True)
        for label, label_line in reversed(labels):
            value = Block((Entry(label, value, label_line),), label_line)
        return Entry(str(key.value), value, line)

    def _value(self) -> Value:
        token = self._peek()
        if token is None:
            raise self._unexpected(None, "a value")
        if token.type in ("STRING", "NUMBER", "FLOAT", "BOOL"):
            self._take()
            value: str | int | float | bool = token.value
            return value
        if token.type == "LEFTBRACKET":
            self._take()
            return self._list()
        if token.type == "LEFTBRACE":
            self._take()
            return self._body(int(token.lineno), closed=True)
        raise self._unexpected(token, "a value (a quoted string, number, boolean, list or object)")

    def _list(self) -> list[Value]:
        items: list[Value] = []
        while True:
            token = self._peek()
            if token is not None and token.type == "RIGHTBRACKET":
                self._take()
                return items
            items.append(self._value())
            token = self._peek()
            if token is not None and token.type == "COMMA":
                self._take()
                continue
            self._expect("RIGHTBRACKET", "',' or ']'")
            return items


def _tokens(text: str) -> list[Any]:
    # A fresh lexer per call: pyhcl's lexer keeps line numbers and state
    # (even a half-read string after an error) from one input to the next.
    lexer = Lexer()
    lexer.input(text)
    try:
        return list(iter(lexer.token, None))
    except ValueError as exc:  # pyhcl reports "Line N, column C, index I: message"
        raise InvalidRequest(f"failed to parse policy: {exc}") from None


def _from_json(text: str) -> Block:
    def pairs(items: list[tuple[str, Any]]) -> Block:
        return Block(tuple(Entry(key, value, 0) for key, value in items), 0)

    try:
        parsed = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise _fail(exc.lineno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise _fail(0, "invalid JSON: nested too deeply") from None
    if not isinstance(parsed, Block):
        raise _fail(0, "a JSON policy must be an object")
    return parsed


def parse_document(text: str) -> Block:
    """Parse policy text (JSON when it starts with '{', HCL otherwise) into a tree."""
    if text.lstrip().startswith("{"):
        return _from_json(text)
    try:
        return _Parser(_tokens(text)).document()
    except RecursionError:
        raise _fail(0, "nested too deeply") from None
