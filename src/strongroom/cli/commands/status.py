"""``strongroom status``: the seal status, with Vault's exit codes (0 unsealed, 2 sealed, 1 error)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import LOCAL_ERROR, REMOTE_ERROR, CliError, RemoteError
from strongroom.cli.session import Session, api_command


def seal_status_rows(status: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The rows Vault prints for a seal status (``status``, ``operator unseal``)."""
    rows: list[tuple[str, Any]] = [
        ("Seal Type", status.get("type", "shamir")),
        ("Initialized", status.get("initialized", False)),
        ("Sealed", status.get("sealed", True)),
        ("Total Shares", status.get("n", 0)),
        ("Threshold", status.get("t", 0)),
    ]
    if status.get("sealed", True):
        rows.append(("Unseal Progress", f"{status.get('progress', 0)}/{status.get('t', 0)}"))
        rows.append(("Unseal Nonce", status.get("nonce") or "n/a"))
    for key, label in (
        ("version", "Version"),
        ("storage_type", "Storage Type"),
        ("cluster_name", "Cluster Name"),
        ("cluster_id", "Cluster ID"),
    ):
        if status.get(key):
            rows.append((label, status[key]))
    return rows


def print_seal_status(session: Session, status: Mapping[str, Any]) -> None:
    session.show(status, lambda: output.key_value_table(seal_status_rows(status)))


def register(cli: click.Group) -> None:
    @api_command(cli, "status", help="Print the seal status. Exit code 0: unsealed, 2: sealed, 1: error.")
    def status_command(session: Session) -> int:
        try:
            answer = session.read("sys/seal-status", authenticated=False)
        except RemoteError as exc:
            # Vault's status reserves 2 for "sealed", so every error here is 1.
            raise CliError(exc.message, action="checking seal status", exit_code=LOCAL_ERROR) from None
        state = answer.body or {}
        print_seal_status(session, state)
        return REMOTE_ERROR if state.get("sealed", True) else 0
