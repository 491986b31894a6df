"""Turn ``key=value`` arguments into a request body, the way ``vault write`` does.

- ``key=value`` sets a string; repeating a key makes a list (``policies=a policies=b``).
- ``key=@path`` reads the value from a file; ``\\@`` escapes a literal leading ``@``.
- ``key=-`` reads the value from stdin (once per command).
- a lone ``-`` reads a whole JSON object from stdin; a lone ``@path`` reads one from a file.

Values stay strings: the server coerces them by field type, as Vault does.
Errors name the argument's key, never its value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from strongroom.cli.errors import LocalError


def read_file(path: str) -> str:
    """A file's text, or LocalError naming the file."""
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise LocalError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise LocalError(f"cannot read {path}: not valid UTF-8") from None


def _json_object(text: str, origin: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LocalError(f"invalid JSON in {origin}: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(value, dict):
        raise LocalError(f"{origin} must hold a JSON object")
    return value


def parse_kv_args(args: Sequence[str], stdin: Callable[[], str]) -> dict[str, Any]:
    """The request body that ``args`` describe; ``stdin`` is read at most once."""
    data: dict[str, Any] = {}
    stdin_used = False

    def from_stdin(what: str) -> str:
        nonlocal stdin_used
        if stdin_used:
            raise LocalError(f"stdin can only be read once ({what})")
        stdin_used = True
        return stdin()

    for position, arg in enumerate(args, start=1):
        if arg == "-":
            data.update(_json_object(from_stdin("-"), "stdin"))
            continue
        if arg.startswith("@") and "=" not in arg:
            data.update(_json_object(read_file(arg[1:]), arg[1:]))
            continue
        key, eq, value = arg.partition("=")
        if not eq or not key:
            # The argument may be a mistyped secret: name its position, not its text.
            raise LocalError(f"invalid argument #{position}: expected key=value")
        if value == "-":
            value = from_stdin(key).removesuffix("\n")
        elif value.startswith("@"):
            value = read_file(value[1:])
        elif value.startswith("\\@"):
            value = value[1:]
        if key in data:
            existing = data[key]
            data[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[key] = value
    return data


def parse_pairs(pairs: Sequence[str], flag: str) -> dict[str, str]:
    """``-metadata k=v`` style repeated flags into a dict; errors name the flag."""
    out: dict[str, str] = {}
    for position, pair in enumerate(pairs, start=1):
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise LocalError(f"invalid -{flag} #{position}: expected key=value")
        out[key] = value
    return out
