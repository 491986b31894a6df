"""``strongroom secrets enable|disable|list|tune``: secrets engine mounts under ``sys/mounts``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import doing
from strongroom.cli.kvargs import parse_pairs
from strongroom.cli.kvpaths import clean
from strongroom.cli.session import Session, api_command


def mount_path(path: str) -> str:
    """``secret`` / ``/secret/`` -> ``secret/`` (Vault prints mounts with one trailing slash)."""
    return clean(path) + "/"


def enable_body(
    engine: str,
    *,
    description: str | None,
    version: int | None,
    options: tuple[str, ...],
    default_lease_ttl: str | None,
    max_lease_ttl: str | None,
) -> dict[str, Any]:
    """The ``sys/mounts/:path`` body. ``kv-v2`` means ``kv`` with ``version=2``, as in Vault."""
    opts = parse_pairs(options, "options")
    if engine == "kv-v2":
        engine, version = "kv", 2
    if version is not None:
        opts["version"] = str(version)
    body: dict[str, Any] = {"type": engine}
    if description is not None:
        body["description"] = description
    if opts:
        body["options"] = opts
    config = {
        key: value
        for key, value in (("default_lease_ttl", default_lease_ttl), ("max_lease_ttl", max_lease_ttl))
        if value is not None
    }
    if config:
        body["config"] = config
    return body


def mounts_table(mounts: Mapping[str, Any], detailed: bool) -> str:
    headers = ["Path", "Type", "Accessor", "Description"]
    if detailed:
        headers[3:3] = ["Default TTL", "Max TTL", "Options"]
    rows = []
    for path in sorted(mounts):
        info = mounts[path]
        if not isinstance(info, Mapping):
            continue
        row = [path, str(info.get("type", "")), str(info.get("accessor", ""))]
        if detailed:
            config = info.get("config") or {}
            row += [
                _ttl(config.get("default_lease_ttl")),
                _ttl(config.get("max_lease_ttl")),
                output.format_value(info.get("options")),
            ]
        row.append(str(info.get("description") or "n/a"))
        rows.append(row)
    return output.columns(rows, headers)


def _ttl(value: Any) -> str:
    return "system" if not value else output.format_duration(int(value))


def register(cli: click.Group) -> None:
    @cli.group("secrets")
    def secrets() -> None:
        """Enable, disable, list and tune secrets engines."""

    @api_command(secrets, "enable", help="Enable the secrets engine TYPE (at -path, default: TYPE/).")
    @click.argument("engine", metavar="TYPE")
    @click.option("--path", metavar="PATH", help="Where to mount it (default: the type's name).")
    @click.option("--description", metavar="TEXT", help="Human-readable description.")
    @click.option("--version", type=click.IntRange(1, 2), help="KV version (kv only).")
    @click.option("--options", multiple=True, metavar="K=V", help="Engine options (repeatable).")
    @click.option("--default-lease-ttl", metavar="DURATION", help="Default lease TTL for this mount.")
    @click.option("--max-lease-ttl", metavar="DURATION", help="Maximum lease TTL for this mount.")
    def enable(
        session: Session,
        *,
        engine: str,
        path: str | None,
        description: str | None,
        version: int | None,
        options: tuple[str, ...],
        default_lease_ttl: str | None,
        max_lease_ttl: str | None,
    ) -> int:
        target = mount_path(path or engine)
        body = enable_body(
            engine,
            description=description,
            version=version,
            options=options,
            default_lease_ttl=default_lease_ttl,
            max_lease_ttl=max_lease_ttl,
        )
        with doing(f"enabling {engine} at {target}"):
            session.post(f"sys/mounts/{target}", body)
        output.emit(f"Success! Enabled the {body['type']} secrets engine at: {target}")
        return 0

    @api_command(secrets, "disable", help="Disable the secrets engine at PATH (its data is deleted).")
    @click.argument("path")
    def disable(session: Session, *, path: str) -> int:
        target = mount_path(path)
        with doing(f"disabling secrets engine at {target}"):
            session.delete(f"sys/mounts/{target}")
        output.emit(f"Success! Disabled the secrets engine (if it existed) at: {target}")
        return 0

    @api_command(secrets, "list", help="List the enabled secrets engines.")
    @click.option("--detailed", is_flag=True, help="Also show TTLs and options.")
    def list_mounts(session: Session, *, detailed: bool) -> int:
        with doing("listing secrets engines"):
            answer = session.read("sys/mounts")
        body = answer.body or {}
        mounts = answer.data if isinstance(answer.data, Mapping) else body
        mounts = {key: value for key, value in mounts.items() if isinstance(value, Mapping)}
        session.show(mounts, lambda: mounts_table(mounts, detailed))
        return 0

    @api_command(secrets, "tune", help="Tune the secrets engine at PATH.")
    @click.argument("path")
    @click.option("--description", metavar="TEXT", help="New description.")
    @click.option("--default-lease-ttl", metavar="DURATION", help="Default lease TTL.")
    @click.option("--max-lease-ttl", metavar="DURATION", help="Maximum lease TTL.")
    @click.option("--options", multiple=True, metavar="K=V", help="Engine options (repeatable).")
    @click.option("--version", type=click.IntRange(1, 2), help="Upgrade a kv mount to version 2.")
    def tune(
        session: Session,
        *,
        path: str,
        description: str | None,
        default_lease_ttl: str | None,
        max_lease_ttl: str | None,
        options: tuple[str, ...],
        version: int | None,
    ) -> int:
        target = mount_path(path)
        body: dict[str, Any] = {}
        for key, value in (
            ("description", description),
            ("default_lease_ttl", default_lease_ttl),
            ("max_lease_ttl", max_lease_ttl),
        ):
            if value is not None:
                body[key] = value
        opts = parse_pairs(options, "options")
        if version is not None:
            opts["version"] = str(version)
        if opts:
            body["options"] = opts
        with doing(f"tuning secrets engine {target}"):
            session.post(f"sys/mounts/{target}/tune", body)
        output.emit(f"Success! Tuned the secrets engine at: {target}")
        return 0
