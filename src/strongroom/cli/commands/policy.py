"""``strongroom policy write|read|list|delete``: ACL policies under ``sys/policies/acl``."""

from __future__ import annotations

import click

from strongroom.cli import output
from strongroom.cli.errors import ApiError, doing
from strongroom.cli.kvargs import read_file
from strongroom.cli.session import Session, api_command, stdin_text


def register(cli: click.Group) -> None:
    @cli.group("policy")
    def policy() -> None:
        """Write, read, list and delete ACL policies."""

    @api_command(policy, "write", help='Upload the policy in FILE ("-" for stdin) as NAME.')
    @click.argument("name")
    @click.argument("source", metavar="FILE|-")
    def write(session: Session, *, name: str, source: str) -> int:
        text = stdin_text() if source == "-" else read_file(source)
        with doing(f"uploading policy {name}"):
            session.write(f"sys/policies/acl/{name}", {"policy": text})
        output.emit(f"Success! Uploaded policy: {name}")
        return 0

    @api_command(policy, "read", help="Print the policy NAME.")
    @click.argument("name")
    def read(session: Session, *, name: str) -> int:
        with doing(f"reading policy {name}"):
            answer = session.read(f"sys/policies/acl/{name}")
        data = answer.data or {}
        session.show(data, lambda: str(data.get("policy", "")).rstrip("\n"))
        return 0

    @api_command(policy, "list", help="List policy names.")
    def list_policies(session: Session) -> int:
        with doing("listing policies"):
            try:
                keys = list((session.list("sys/policies/acl").data or {}).get("keys") or [])
            except ApiError as exc:
                if exc.status != 404:
                    raise
                keys = []
        session.show(keys, lambda: "\n".join(keys) if keys else "No policies found")
        return 0

    @api_command(policy, "delete", help="Delete the policy NAME.")
    @click.argument("name")
    def delete(session: Session, *, name: str) -> int:
        with doing(f"deleting policy {name}"):
            session.delete(f"sys/policies/acl/{name}")
        output.emit(f"Success! Deleted policy: {name}")
        return 0
