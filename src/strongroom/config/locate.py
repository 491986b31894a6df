"""Find the line a configuration key came from, for error messages.

pyhcl returns plain dicts without positions, and ``json.loads`` does the
same, so semantic errors ("unknown key", "invalid duration") cannot ask the
parser where a key was. Instead we re-tokenise the source with pyhcl's own
lexer (which understands HCL *and* JSON tokens, comments and heredocs, so a
key name inside a string or a comment is never mistaken for a key) and walk
the token stream once, recording:

- every key with its *path* (the names of the enclosing blocks and labels,
  so ``listener "tcp" { address = ... }`` records ``("listener", "tcp",
  "address")``), and
- every object (block body) with its path and token span, in document order.

A lookup then says "the key ``adress`` inside the 2nd object whose path is
``("listener", "tcp")``". Labels and nesting are treated alike, so
``listener "tcp" {}``, ``listener { tcp {} }`` and JSON's
``{"listener": [{"tcp": {}}]}`` all give the same paths. Objects inside a
list belong to the list's key, which is how JSON spells repeated blocks.

The map is best effort: if the source cannot be tokenised (it already
parsed, so this should not happen) lookups return ``None`` and the error
message simply has no line number.
"""

from __future__ import annotations

from dataclasses import dataclass

from hcl.lexer import Lexer

Path = tuple[str, ...]

_NAME_TOKENS = frozenset({"IDENTIFIER", "STRING"})


@dataclass(frozen=True, slots=True)
class _Token:
    type: str
    value: object
    line: int


@dataclass(frozen=True, slots=True)
class _Key:
    path: Path
    line: int
    index: int


@dataclass(frozen=True, slots=True)
class _Object:
    path: Path
    line: int
    start: int
    end: int


def _tokenize(text: str) -> list[_Token]:
    lexer = Lexer()
    lexer.input(text)
    tokens: list[_Token] = []
    while True:
        tok = lexer.token()
        if tok is None:
            return tokens
        tokens.append(_Token(str(tok.type), tok.value, int(tok.lineno)))


class SourceMap:
    """Line lookups for keys and blocks of one configuration source."""

    def __init__(self, text: str) -> None:
        self._keys: list[_Key] = []
        self._objects: list[_Object] = []
        self._tokens: list[_Token] = []
        try:
            self._tokens = _tokenize(text)
        except ValueError:
            return  # no positions at all: every lookup answers None
        self._walk()

    # -- lookups -----------------------------------------------------------

    def block_line(self, path: Path, occurrence: int = 0) -> int | None:
        """Line where the ``occurrence``-th object at ``path`` starts."""
        found = self._object(path, occurrence)
        return found.line if found is not None else None

    def key_line(self, block: Path, occurrence: int, key: str, nth: int = 0) -> int | None:
        """Line of the ``nth`` writing of ``key`` directly inside the ``occurrence``-th object at ``block``.

        Falls back to the first writing when there are fewer, and to the
        block's own line when the key is not found there.
        """
        lines = self._key_lines(block, occurrence, key)
        if lines:
            return lines[nth] if nth < len(lines) else lines[0]
        return self.block_line(block, occurrence)

    def key_count(self, block: Path, occurrence: int, key: str) -> int:
        """How many times ``key`` is written directly inside that object."""
        return len(self._key_lines(block, occurrence, key))

    def _object(self, path: Path, occurrence: int) -> _Object | None:
        matches = [obj for obj in self._objects if obj.path == path]
        if occurrence < len(matches):
            return matches[occurrence]
        return matches[0] if matches else None

    def _key_lines(self, block: Path, occurrence: int, key: str) -> list[int]:
        obj = self._object(block, occurrence)
        if obj is None:
            return []
        wanted = (*block, key)
        return [k.line for k in self._keys if k.path == wanted and obj.start < k.index < obj.end]

    # -- the walk ----------------------------------------------------------

    def _walk(self) -> None:
        tokens = self._tokens
        if tokens and tokens[0].type == "LEFTBRACE":
            self._object_at(0, (), tokens[0].line)
        else:
            self._objects.append(_Object((), 1, -1, self._body(0, ()) + 1))
        # Objects are recorded when they close; lookups want document order.
        self._objects.sort(key=lambda obj: obj.start)

    def _body(self, i: int, path: Path) -> int:
        """Walk object items from ``i`` until a closing brace or the end; return its index."""
        tokens = self._tokens
        while i < len(tokens) and tokens[i].type != "RIGHTBRACE":
            tok = tokens[i]
            if tok.type not in _NAME_TOKENS:
                i += 1
                continue
            names: list[str] = []
            line = tok.line
            while i < len(tokens) and tokens[i].type in _NAME_TOKENS:
                names.append(str(tokens[i].value))
                self._keys.append(_Key((*path, *names), line, i))
                i += 1
            inner = (*path, *names)
            if i < len(tokens) and tokens[i].type in ("EQUAL", "COLON"):
                i = self._value(i + 1, inner, line)
            elif i < len(tokens) and tokens[i].type == "LEFTBRACE":
                i = self._object_at(i, inner, line)
        return i

    def _object_at(self, i: int, path: Path, line: int) -> int:
        """Record the object opening at ``i``; return the index after its closing brace."""
        end = self._body(i + 1, path)
        self._objects.append(_Object(path, line, i, end))
        return end + 1

    def _value(self, i: int, path: Path, line: int) -> int:
        tokens = self._tokens
        if i >= len(tokens):
            return i
        kind = tokens[i].type
        if kind == "LEFTBRACE":
            return self._object_at(i, path, line)
        if kind == "LEFTBRACKET":
            i += 1
            while i < len(tokens) and tokens[i].type != "RIGHTBRACKET":
                if tokens[i].type in ("LEFTBRACE", "LEFTBRACKET"):
                    i = self._value(i, path, tokens[i].line)
                else:
                    i += 1
            return i + 1
        if kind == "MINUS":
            i += 1
        # A scalar: consume it so a string value is never read as the next key.
        return i + 1
