"""``strongroom login``: authenticate (a token, or an auth method's login) and keep the token in the helper file."""

from __future__ import annotations

from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.commands.login_methods import METHODS
from strongroom.cli.errors import LocalError, RemoteError, doing
from strongroom.cli.kvargs import parse_kv_args
from strongroom.cli.session import Session, api_command, ask_secret, stdin_text
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
        help=(
            'Authenticate and store the token. -method=token (default): ARGS is the token ("-": read stdin; '
            "omitted: prompted without echo). -method=userpass: username=NAME [password=...]. "
            "-method=approle: role_id=... [secret_id=...]."
        ),
    )
    @click.argument("args", nargs=-1)
    @click.option("--method", type=click.Choice(["token", *METHODS]), default="token", show_default=True,
                  help="The auth method to log in with.")
    @click.option("--path", "mount", metavar="MOUNT", default="",
                  help="Where the auth method is mounted (default: the method's name).")
    @click.option("--no-store", is_flag=True, help="Do not store the token in the token helper file.")
    @click.option("--field", metavar="NAME", help="Print only this field (e.g. token).")
    def login(session: Session, *, args: tuple[str, ...], method: str, mount: str, no_store: bool,
              field: str | None) -> int:
        if method == "token":
            token, body = _token_login(session, args)
        else:
            token, body = _method_login(session, method, mount.strip("/") or method, args)
        auth = body["auth"]
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


def _token_login(session: Session, args: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Check a token (lookup-self) and build the answer a login endpoint would give for it."""
    if len(args) > 1:
        raise LocalError("-method=token takes at most one argument: the token")
    given = args[0] if args else None
    if given is not None and given.startswith("token="):
        given = given.removeprefix("token=")
    token = ask_secret("Token (will be hidden)", given)
    if not token:
        raise LocalError("no token given")
    with doing("authenticating"):
        lookup = session.read("auth/token/lookup-self", token=token)
    body = {
        "request_id": (lookup.body or {}).get("request_id", ""),
        "auth": auth_from_lookup(token, lookup.data or {}),
        "data": None,
        "lease_duration": 0,
        "renewable": False,
        "lease_id": "",
        "warnings": None,
    }
    return token, body


def _method_login(session: Session, method: str, mount: str, args: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Log in at ``auth/<mount>/`` with ``method``'s request built from ``key=value`` arguments."""
    path, request = METHODS[method](mount, parse_kv_args(args, stdin_text))
    with doing("authenticating"):
        answer = session.write(path, request, authenticated=False)
    body = dict(answer.body or {})
    auth = body.get("auth")
    if not isinstance(auth, dict) or not auth.get("client_token"):
        raise RemoteError("the server answered without a token", action="authenticating")
    return str(auth["client_token"]), body
