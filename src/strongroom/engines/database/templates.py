"""Rendering of usernames (``username_template``) and SQL statements (``{{name}}``, ``{{password}}``...).

Usernames keep only ``[a-zA-Z0-9_-]``, cut to the plugin's limits
(:class:`UsernameRules`: 63 characters for PostgreSQL, 32 or 16 for MySQL).
Statement templates are plain substitution, as in Vault: the statements quote
``"{{name}}"`` and ``'{{password}}'`` themselves, which is why
:func:`check_password` refuses passwords that could break out of a literal.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from strongroom.errors import InvalidRequest

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)(?:\s+(\d+))?\s*\}\}")
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class UsernameRules:
    """How a plugin wants generated usernames: the default template and the cuts (Vault's per plugin)."""

    default_template: str
    display_name_len: int
    role_len: int
    max_len: int


def random_text(length: int, random_bytes: Callable[[int], bytes]) -> str:
    """``length`` characters of ``[a-zA-Z0-9]`` from ``random_bytes`` (rejection sampling: uniform)."""
    out: list[str] = []
    while len(out) < length:
        for byte in random_bytes(length * 2):
            if byte < 248 and len(out) < length:  # 248 = 4 * 62: keeps the draw unbiased
                out.append(_ALPHABET[byte % 62])
    return "".join(out)


def validate_username_template(template: str) -> None:
    """InvalidRequest when ``template`` uses a placeholder :func:`render_username` does not know."""
    for match in _PLACEHOLDER.finditer(template):
        name, arg = match.group(1), match.group(2)
        if name not in ("display_name", "role", "random", "unix_time") or (name == "random") != (arg is not None):
            raise InvalidRequest(f"username_template: unknown placeholder {match.group(0)!r}")


def render_username(template: str, rules: UsernameRules, *, display_name: str, role: str, now: float,
                    random_bytes: Callable[[int], bytes]) -> str:
    """A database username from ``template`` (empty: the plugin's default), cut as Vault cuts it."""
    def replace(match: re.Match[str]) -> str:
        name, arg = match.group(1), match.group(2)
        if name == "display_name":
            return display_name[:rules.display_name_len]
        if name == "role":
            return role[:rules.role_len]
        if name == "random":
            return random_text(int(arg or "20"), random_bytes)
        return str(int(now))

    rendered = _UNSAFE.sub("-", _PLACEHOLDER.sub(replace, template or rules.default_template))
    if not rendered:
        raise InvalidRequest("username_template renders an empty username")
    return rendered[:rules.max_len]


def check_password(password: str) -> None:
    """Refuse a generated password that could end a quoted SQL literal or identifier (the message omits it)."""
    if any(c in password for c in "'\"\\") or not password.isprintable():
        raise InvalidRequest("password_policy produced a password with quotes, backslashes or control "
                             "characters, which cannot be placed in SQL statements")


def render_statement(statement: str, values: Mapping[str, str]) -> str:
    """``statement`` with ``{{key}}`` replaced for every key in ``values`` (others are left as written)."""
    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _PLACEHOLDER.sub(replace, statement)


def split_statements(text: str) -> list[str]:
    """``text`` cut at semicolons outside quotes (MySQL runs one statement per call); empty parts dropped."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == ";":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]
