"""``strongroom namespace create|list|lookup|patch|delete``: namespaces under ``sys/namespaces``.

Like Vault's CLI, every subcommand acts relative to the namespace given by
``-namespace`` / ``VAULT_NAMESPACE`` (the root namespace without one).
"""

from __future__ import annotations

from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import ApiError, doing
from strongroom.cli.session import Session, api_command


def _metadata(pairs: tuple[str, ...]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"-custom-metadata must be key=value, got {pair!r}")
        metadata[key] = value
    return metadata


def _rows(data: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("custom_metadata", data.get("custom_metadata") or {}), ("id", data.get("id", "")),
            ("path", data.get("path", ""))]


def register(cli: click.Group) -> None:
    @cli.group("namespace")
    def namespace() -> None:
        """Create, list, look up, patch and delete namespaces."""

    metadata_option = click.option(
        "--custom-metadata", "custom_metadata", multiple=True, metavar="KEY=VALUE",
        help="Custom metadata for the namespace (repeatable).",
    )

    @api_command(namespace, "create", help="Create the namespace PATH below the current one.")
    @click.argument("path")
    @metadata_option
    def create(session: Session, *, path: str, custom_metadata: tuple[str, ...]) -> int:
        body = {"custom_metadata": _metadata(custom_metadata)} if custom_metadata else {}
        with doing(f"creating namespace {path}"):
            answer = session.post(f"sys/namespaces/{path.strip('/')}", body)
        data = answer.data or {}
        session.show(data, lambda: output.key_value_table(_rows(data)))
        return 0

    @api_command(namespace, "patch", help="Add or change custom metadata of the namespace PATH.")
    @click.argument("path")
    @metadata_option
    def patch(session: Session, *, path: str, custom_metadata: tuple[str, ...]) -> int:
        with doing(f"patching namespace {path}"):
            answer = session.client.request(
                "PATCH", f"sys/namespaces/{path.strip('/')}",
                json_body={"custom_metadata": _metadata(custom_metadata)},
                content_type="application/merge-patch+json",
            )
        data = answer.data or {}
        session.show(data, lambda: output.key_value_table(_rows(data)))
        return 0

    @api_command(namespace, "lookup", help="Show the id and path of the namespace PATH.")
    @click.argument("path")
    def lookup(session: Session, *, path: str) -> int:
        with doing(f"looking up namespace {path}"):
            answer = session.read(f"sys/namespaces/{path.strip('/')}")
        data = answer.data or {}
        session.show(data, lambda: output.key_value_table(_rows(data)))
        return 0

    @api_command(namespace, "list", help="List the namespaces directly below the current one.")
    @click.option("--detailed", "detailed", is_flag=True, help="Show ids and custom metadata too.")
    def list_namespaces(session: Session, *, detailed: bool) -> int:
        with doing("listing namespaces"):
            try:
                data = session.list("sys/namespaces").data or {}
            except ApiError as exc:
                if exc.status != 404:
                    raise
                data = {}
        keys = list(data.get("keys") or [])
        info = data.get("key_info") or {}

        def table() -> str:
            if not keys:
                return "No namespaces found"
            if not detailed:
                return "\n".join(keys)
            rows = [[key, str(info.get(key, {}).get("id", "")), output.format_value(
                info.get(key, {}).get("custom_metadata") or {})] for key in keys]
            return output.columns(rows, ["Key", "Id", "Custom Metadata"])

        session.show(data if detailed else keys, table)
        return 0

    @api_command(namespace, "delete", help="Delete the namespace PATH and everything in it.")
    @click.argument("path")
    def delete(session: Session, *, path: str) -> int:
        with doing(f"deleting namespace {path}"):
            session.delete(f"sys/namespaces/{path.strip('/')}")
        output.emit(f"Success! Namespace deleted at: {path.strip('/')}/")
        return 0
