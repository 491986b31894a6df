"""``strongroom login [TOKEN]``: check a token and keep it in the token helper file."""

from __future__ import annotations

from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import LocalError, doing
from strongroom.cli.session import Session, api_command, ask_secret
from strongroom.cli.settings import env, warn
from strongroom.cli.token_helper import store_token, token_path


def auth_from_lookup(token: str, data: dict[str, Any]) -> dict[str, Any]:
    """An ``auth`` block (as login endpoints return it) built from a token lookup."""
    policies = list(data.get("policies") or [])
    return {
        "client_token": token,
        "accessor": data.get("accessor"),
        "policies": policies,
        "token_policies": policies,
        "identity_policies": list(data.get("identity_policies") or []),
        "metadata": data.get("meta") or {},
        "lease_duration": data.get("ttl") or 0,
        "renewable": bool(data.get("renewable", False)),
    }


def register(cli: click.Group) -> None:
    @api_command(
        cli,
        "login",
        help='Authenticate with TOKEN ("-": read stdin; omitted: prompted without echo) and store it.',
    )
    @click.argument("token", required=False)
    @click.option("--no-store", is_flag=True, help="Do not store the token in the token helper file.")
    @click.option("--field", metavar="NAME", help="Print only this field (e.g. token).")
    def login(session: Session, *, token: str | None, no_store: bool, field: str | None) -> int:
        token = ask_secret("Token (will be hidden)", token)
        if not token:
            raise LocalError("no token given")
        with doing("authenticating"):
            lookup = session.read("auth/token/lookup-self", token=token)
        auth = auth_from_lookup(token, lookup.data or {})
        body = {
            "request_id": (lookup.body or {}).get("request_id", ""),
            "auth": auth,
            "data": None,
            "lease_duration": 0,
            "renewable": False,
            "lease_id": "",
            "warnings": None,
        }
        if not no_store:
            with doing("storing token"):
                store_token(token_path(), token)
            if env("TOKEN") and env("TOKEN") != token:
                warn("STRONGROOM_TOKEN/VAULT_TOKEN is set and takes precedence over the stored token")
        if field:
            output.emit_raw_field(output.field_value(output.auth_rows(auth), field))
            return 0
        if session.format == "table":
            stored = "is stored in the token helper file" if not no_store else "was NOT stored (-no-store)"
            output.emit(f"Success! You are now authenticated. The token below {stored}.\n")
            output.emit(output.key_value_table(output.auth_rows(auth)))
        else:
            output.emit(output.dump(body, session.format))
        return 0
