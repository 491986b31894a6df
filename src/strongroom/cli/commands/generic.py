"""``strongroom read|write|list|delete PATH``: raw access to any API path, like Vault's."""

from __future__ import annotations

import click

from strongroom.cli import output
from strongroom.cli.errors import ApiError, RemoteError, doing
from strongroom.cli.kvargs import parse_kv_args
from strongroom.cli.kvpaths import clean
from strongroom.cli.session import Session, api_command, stdin_text


def register(cli: click.Group) -> None:
    @api_command(cli, "read", help="Read PATH; K=V arguments become query parameters.")
    @click.option("--field", metavar="NAME", help="Print only this field.")
    @click.argument("path")
    @click.argument("pairs", nargs=-1, metavar="[K=V...]")
    def read(session: Session, *, field: str | None, path: str, pairs: tuple[str, ...]) -> int:
        params = parse_kv_args(pairs, stdin_text) or None
        target = clean(path)
        with doing(f"reading {target}"):
            try:
                answer = session.read(target, params=params)
            except ApiError as exc:
                if exc.status == 404 and not exc.errors:
                    raise RemoteError(f"No value found at {target}", action="") from None
                raise
        output.emit_secret(answer.body or {}, session.format, field)
        return 0

    @api_command(cli, "write", help="Write K=V data (or - for JSON on stdin) to PATH.")
    @click.option("--field", metavar="NAME", help="Print only this field of the answer.")
    @click.argument("path")
    @click.argument("pairs", nargs=-1, metavar="[K=V...|-]")
    def write(session: Session, *, field: str | None, path: str, pairs: tuple[str, ...]) -> int:
        data = parse_kv_args(pairs, stdin_text)
        target = clean(path)
        with doing(f"writing data to {target}"):
            answer = session.write(target, data)
        if answer.body:
            output.emit_secret(answer.body, session.format, field)
        else:
            output.emit(f"Success! Data written to: {target}")
        return 0

    @api_command(cli, "list", help="List the keys under PATH.")
    @click.argument("path")
    def list_keys(session: Session, *, path: str) -> int:
        target = clean(path) + "/"
        with doing(f"listing {target}"):
            try:
                keys = list((session.list(target).data or {}).get("keys") or [])
            except ApiError as exc:
                if exc.status == 404 and not exc.errors:
                    raise RemoteError(f"No value found at {target}", action="") from None
                raise
        session.show(keys, lambda: output.columns([[key] for key in keys], ["Keys"]))
        return 0

    @api_command(cli, "delete", help="Delete PATH; K=V arguments become query parameters.")
    @click.argument("path")
    @click.argument("pairs", nargs=-1, metavar="[K=V...]")
    def delete(session: Session, *, path: str, pairs: tuple[str, ...]) -> int:
        params = parse_kv_args(pairs, stdin_text) or None
        target = clean(path)
        with doing(f"deleting {target}"):
            session.delete(target, params=params)
        output.emit(f"Success! Data deleted (if it existed) at: {target}")
        return 0
