"""Render API answers as Vault's CLI does: tables by default, or JSON / YAML.

Tables are two or more columns separated by four spaces under a ``---``
rule. Values are printed the way Go's ``fmt`` prints them (``[a b]``,
``map[k:v]``, ``<nil>``), since that is what Vault users read and grep; lease
and token durations are shown as ``768h`` / ``1h30m`` and a zero token TTL as
``∞``. JSON and YAML print the answer's structure unchanged.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click
import yaml

from strongroom.cli.errors import LocalError

_GAP = "    "


def format_duration(seconds: int | float) -> str:
    """``3600`` -> ``1h``, ``5400`` -> ``1h30m``, ``90`` -> ``1m30s``, ``0`` -> ``0s``."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0s"


def format_value(value: Any) -> str:
    """One cell, as Go prints it: ``[a b]``, ``map[k:v]``, ``<nil>``; an empty string is ``n/a``."""
    if value is None:
        return "<nil>"
    if value == "":
        return "n/a"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + " ".join(format_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{key}:{format_value(value[key])}" for key in sorted(value)) + "]"
    return str(value)


def columns(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """Left-aligned columns with a header and a dash rule under it."""
    table = [list(headers), ["-" * len(h) for h in headers], *[list(row) for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append(_GAP.join(cells).rstrip())
    return "\n".join(lines)


def key_value_table(rows: Iterable[tuple[str, Any]]) -> str:
    """The classic Key/Value table."""
    return columns([(key, format_value(value)) for key, value in rows], ("Key", "Value"))


def section(title: str) -> str:
    """A Vault-style section header: ``====== Title ======``."""
    return f"{'=' * 6} {title} {'=' * 6}"


def dump(value: Any, output_format: str) -> str:
    """``value`` as indented JSON or block-style YAML."""
    if output_format == "yaml":
        return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, allow_unicode=True).rstrip("\n")
    return json.dumps(value, indent=2, ensure_ascii=False)


def auth_rows(auth: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The rows Vault prints for an ``auth`` block (login, token create, renew)."""
    duration = auth.get("lease_duration") or 0
    rows: list[tuple[str, Any]] = [
        ("token", auth.get("client_token")),
        ("token_accessor", auth.get("accessor")),
        ("token_duration", format_duration(duration) if duration else "∞"),
        ("token_renewable", auth.get("renewable", False)),
        ("token_policies", auth.get("token_policies") or auth.get("policies") or []),
        ("identity_policies", auth.get("identity_policies") or []),
        ("policies", auth.get("policies") or []),
    ]
    for key, value in sorted((auth.get("metadata") or {}).items()):
        rows.append((f"token_meta_{key}", value))
    return rows


def secret_rows(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The rows Vault prints for a response: lease fields, auth fields, then data keys sorted."""
    rows: list[tuple[str, Any]] = []
    duration = body.get("lease_duration") or 0
    if body.get("lease_id") or duration:
        if body.get("lease_id"):
            rows.append(("lease_id", body["lease_id"]))
        rows.append(("lease_duration", format_duration(duration)))
        rows.append(("lease_renewable", body.get("renewable", False)))
    auth = body.get("auth")
    if isinstance(auth, Mapping):
        rows.extend(auth_rows(auth))
    data = body.get("data")
    if isinstance(data, Mapping):
        rows.extend((key, data[key]) for key in sorted(data))
    return rows


def emit(text: str) -> None:
    """Print one block of output to stdout."""
    click.echo(text)


def emit_raw_field(value: Any) -> None:
    """``-field`` output: the bare value; a newline only when stdout is a terminal (like Vault)."""
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, list | dict)
        else format_value(value)
    )
    click.echo(text, nl=sys.stdout.isatty())


def emit_warnings(body: Mapping[str, Any] | None) -> None:
    """Server warnings go to stderr so they never pollute JSON output."""
    for warning in (body or {}).get("warnings") or []:
        click.echo(f"WARNING! {warning}", err=True)


def aligned(rows: Iterable[tuple[str, Any]]) -> str:
    """Two aligned columns without a header (Vault's key-status layout)."""
    cells = [(label, format_value(value)) for label, value in rows]
    width = max((len(label) for label, _ in cells), default=0)
    return "\n".join(f"{label.ljust(width)}{_GAP}{value}".rstrip() for label, value in cells)


def field_value(rows: Iterable[tuple[str, Any]], name: str) -> Any:
    """The value of row ``name`` (for ``-field``); LocalError naming the field when absent."""
    for key, value in rows:
        if key == name:
            return value
    raise LocalError(f'field "{name}" not present in the answer')


def emit_secret(body: Mapping[str, Any], output_format: str, field: str | None = None) -> None:
    """Print a whole response like ``vault read``: ``-field``, then table or structure."""
    if field:
        emit_raw_field(field_value(secret_rows(body), field))
        return
    emit_warnings(body)
    if output_format == "table":
        emit(key_value_table(secret_rows(body)))
    else:
        emit(dump(dict(body), output_format))
