"""``strongroom lease renew|revoke|lookup|list``: leases of dynamic secrets under ``sys/leases``."""

from __future__ import annotations

from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import ApiError, doing
from strongroom.cli.session import Session, api_command


def register(cli: click.Group) -> None:
    @cli.group("lease")
    def lease() -> None:
        """Renew, revoke, look up and list leases."""

    @api_command(lease, "renew", help="Renew the lease ID (within its max TTL).")
    @click.argument("lease_id", metavar="ID")
    @click.option("--increment", "-i", metavar="DURATION", help="Requested extension, e.g. 1h.")
    def renew(session: Session, *, lease_id: str, increment: str | None) -> int:
        body: dict[str, Any] = {"lease_id": lease_id}
        if increment:
            body["increment"] = increment
        with doing(f"renewing {lease_id}"):
            answer = session.write("sys/leases/renew", body)
        output.emit_secret(answer.body or {}, session.format)
        return 0

    @api_command(lease, "revoke", help="Revoke the lease ID (with -prefix: every lease under it).")
    @click.argument("lease_id", metavar="ID")
    @click.option("--prefix", is_flag=True, help="Treat ID as a prefix and revoke every lease under it.")
    @click.option("--force", "-f", is_flag=True,
                  help="With -prefix: forget the leases without asking their backend (cannot be undone).")
    def revoke(session: Session, *, lease_id: str, prefix: bool, force: bool) -> int:
        if force and not prefix:
            raise click.UsageError("-force requires -prefix")
        with doing(f"revoking {lease_id}"):
            if force:
                session.write(f"sys/leases/revoke-force/{lease_id}")
            elif prefix:
                session.write(f"sys/leases/revoke-prefix/{lease_id}")
            else:
                session.write("sys/leases/revoke", {"lease_id": lease_id})
        output.emit("All revocation operations queued successfully!")
        return 0

    @api_command(lease, "lookup", help="Show the lease ID's times and TTL.")
    @click.argument("lease_id", metavar="ID")
    def lookup(session: Session, *, lease_id: str) -> int:
        with doing(f"looking up {lease_id}"):
            answer = session.write("sys/leases/lookup", {"lease_id": lease_id})
        data = answer.data or {}
        session.show(data, lambda: output.key_value_table(sorted(data.items())))
        return 0

    @api_command(lease, "list", help="List the lease ids (and folders) directly under PREFIX.")
    @click.argument("prefix")
    def list_leases(session: Session, *, prefix: str) -> int:
        with doing(f"listing leases under {prefix}"):
            try:
                keys = list((session.list(f"sys/leases/lookup/{prefix}").data or {}).get("keys") or [])
            except ApiError as exc:
                if exc.status != 404:
                    raise
                keys = []
        session.show(keys, lambda: "\n".join(keys) if keys else "No leases found")
        return 0
