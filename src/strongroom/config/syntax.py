"""Turn configuration text (HCL or JSON) into plain Python values.

The format is chosen like pyhcl chooses it: text whose first non-blank
character is ``{`` is JSON, anything else is HCL. Syntax errors become a
:class:`ConfigError` naming the file and, where the parser knows it, the line.

One deliberate difference from ``hcl.loads``: at the top level pyhcl lets a
repeated key *overwrite* the earlier one and merges repeated blocks, so two
``listener "tcp"`` blocks would silently become one. Our parser keeps every
occurrence (a repeated key becomes a list, exactly as pyhcl already does
inside blocks), and the schema decides whether repetition is allowed.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from typing import Any

from hcl.parser import HclParser

from strongroom.errors import ConfigError

_POSITIONED = re.compile(r"^Line (\d+), column \d+(?:, index \d+)?: (.*?)(?:; expected .*)?$", re.DOTALL)
_EOF = re.compile(r"^Unexpected end of file", re.IGNORECASE)


class _KeepRepeatsParser(HclParser):  # type: ignore[misc]  # pyhcl ships no type hints
    """pyhcl's grammar with top-level repeats kept (see the module docstring)."""

    def objectlist_flat(self, lt: Any, replace: bool) -> Any:
        return super().objectlist_flat(lt, False)


# Building the LALR tables costs ~20 ms, parsing a file well under 1 ms, so one
# parser is kept. ply keeps parse state on the instance: the lock makes that safe.
_PARSE_LOCK = threading.Lock()


@functools.cache
def _parser() -> _KeepRepeatsParser:
    return _KeepRepeatsParser()


def is_json(text: str) -> bool:
    """True when the text is JSON by pyhcl's rule (first non-blank char is ``{``)."""
    return text.lstrip()[:1] == "{"


def parse_source(text: str, filename: str) -> dict[str, object]:
    """The top-level mapping of a configuration source.

    Raises ConfigError (``file:line: syntax error: ...``) when the text is
    not valid HCL/JSON or its top level is not a mapping.
    """
    if is_json(text):
        try:
            data: object = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    else:
        try:
            with _PARSE_LOCK:
                data = _parser().parse(text)
        except ValueError as exc:
            raise ConfigError(_hcl_syntax_message(str(exc), text, filename)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}: syntax error: the top level must be a mapping of keys")
    return data


def _hcl_syntax_message(message: str, text: str, filename: str) -> str:
    positioned = _POSITIONED.match(message)
    if positioned is not None:
        detail = positioned.group(2).replace("unexpected ", "unexpected token ", 1)
        return f"{filename}:{positioned.group(1)}: syntax error: {detail}"
    if _EOF.match(message):
        last_line = text.count("\n") + (0 if text.endswith("\n") else 1)
        return f"{filename}:{max(last_line, 1)}: syntax error: unexpected end of file (unclosed block or list?)"
    return f"{filename}: syntax error: {message.split(';', 1)[0]}"
