"""``strongroom token create|lookup|renew|revoke``: the token auth method's endpoints."""

from __future__ import annotations

from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import LocalError, doing
from strongroom.cli.kvargs import parse_pairs
from strongroom.cli.session import Session, api_command


def create_body(
    *,
    policies: tuple[str, ...],
    ttl: str | None,
    explicit_max_ttl: str | None,
    period: str | None,
    orphan: bool,
    use_limit: int | None,
    display_name: str | None,
    metadata: tuple[str, ...],
    renewable: bool,
    token_id: str | None,
    token_type: str | None,
) -> dict[str, Any]:
    """The ``auth/token/create`` body for the given flags (unset flags are omitted)."""
    body: dict[str, Any] = {"renewable": renewable}
    if policies:
        body["policies"] = [p.strip() for item in policies for p in item.split(",") if p.strip()]
    for key, value in (
        ("ttl", ttl),
        ("explicit_max_ttl", explicit_max_ttl),
        ("period", period),
        ("display_name", display_name),
        ("id", token_id),
        ("type", token_type),
    ):
        if value is not None:
            body[key] = value
    if orphan:
        body["no_parent"] = True
    if use_limit is not None:
        body["num_uses"] = use_limit
    if metadata:
        body["meta"] = parse_pairs(metadata, "metadata")
    return body


def register(cli: click.Group) -> None:
    @cli.group("token")
    def token() -> None:
        """Create, look up, renew and revoke tokens."""

    @api_command(token, "create", help="Create a token (a child of the current one unless -orphan).")
    @click.option("--policy", "policies", multiple=True, metavar="NAME", help="Policy to attach (repeatable).")
    @click.option("--ttl", metavar="DURATION", help="Initial TTL, e.g. 1h.")
    @click.option("--explicit-max-ttl", metavar="DURATION", help="Hard cap on the token's lifetime.")
    @click.option("--period", metavar="DURATION", help="Make a periodic token renewed by this period.")
    @click.option("--orphan", is_flag=True, help="Create the token without a parent.")
    @click.option("--use-limit", type=click.IntRange(min=0), help="Number of uses (0 = unlimited).")
    @click.option("--display-name", metavar="NAME", help="Display name.")
    @click.option("--metadata", multiple=True, metavar="K=V", help="Metadata (repeatable).")
    @click.option("--renewable/--no-renewable", default=True, help="Whether the token can be renewed.")
    @click.option("--role", metavar="NAME", help="Create against this token role.")
    @click.option("--id", "token_id", metavar="ID", help="Token ID to use (root only).")
    @click.option("--type", "token_type", type=click.Choice(["service", "batch", "default"]), help="Token type.")
    @click.option("--field", metavar="NAME", help="Print only this field (e.g. token).")
    def create(session: Session, *, role: str | None, field: str | None, **flags: Any) -> int:
        body = create_body(**flags)
        path = f"auth/token/create/{role}" if role else "auth/token/create"
        with doing("creating token"):
            answer = session.post(path, body)
        output.emit_secret(answer.body or {}, session.format, field)
        return 0

    @api_command(token, "lookup", help="Look up a token (the current one when omitted).")
    @click.argument("token_or_accessor", metavar="[TOKEN]", required=False)
    @click.option("--accessor", is_flag=True, help="The argument is an accessor, not a token.")
    def lookup(session: Session, *, token_or_accessor: str | None, accessor: bool) -> int:
        with doing("looking up token"):
            if accessor:
                if not token_or_accessor:
                    raise LocalError("-accessor needs the accessor as argument")
                answer = session.post("auth/token/lookup-accessor", {"accessor": token_or_accessor})
            elif token_or_accessor:
                answer = session.post("auth/token/lookup", {"token": token_or_accessor})
            else:
                answer = session.read("auth/token/lookup-self")
        output.emit_secret(answer.body or {}, session.format)
        return 0

    @api_command(token, "renew", help="Renew a token (the current one when omitted).")
    @click.argument("token_or_accessor", metavar="[TOKEN]", required=False)
    @click.option("--increment", "-i", metavar="DURATION", help="Requested extension, e.g. 1h.")
    @click.option("--accessor", is_flag=True, help="The argument is an accessor, not a token.")
    def renew(session: Session, *, token_or_accessor: str | None, increment: str | None, accessor: bool) -> int:
        body: dict[str, Any] = {"increment": increment} if increment else {}
        with doing("renewing token"):
            if accessor:
                if not token_or_accessor:
                    raise LocalError("-accessor needs the accessor as argument")
                answer = session.post("auth/token/renew-accessor", {**body, "accessor": token_or_accessor})
            elif token_or_accessor:
                answer = session.post("auth/token/renew", {**body, "token": token_or_accessor})
            else:
                answer = session.post("auth/token/renew-self", body)
        output.emit_secret(answer.body or {}, session.format)
        return 0

    @api_command(token, "revoke", help="Revoke a token and, unless -mode=orphan, its children.")
    @click.argument("token_or_accessor", metavar="[TOKEN]", required=False)
    @click.option("--accessor", is_flag=True, help="The argument is an accessor, not a token.")
    @click.option("--self", "revoke_self", is_flag=True, help="Revoke the current token.")
    @click.option("--mode", type=click.Choice(["orphan"]), help="orphan: revoke the token but keep its children.")
    def revoke(
        session: Session, token_or_accessor: str | None, accessor: bool, revoke_self: bool, mode: str | None
    ) -> int:
        if revoke_self == bool(token_or_accessor):
            raise LocalError("give exactly one of a token (or accessor) argument and -self")
        with doing("revoking token"):
            if revoke_self:
                session.post("auth/token/revoke-self")
            elif accessor:
                session.post("auth/token/revoke-accessor", {"accessor": token_or_accessor})
            elif mode == "orphan":
                session.post("auth/token/revoke-orphan", {"token": token_or_accessor})
            else:
                session.post("auth/token/revoke", {"token": token_or_accessor})
        output.emit("Success! Revoked token (if it existed)")
        return 0
