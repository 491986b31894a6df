"""``strongroom kv rotate PATH`` and ``strongroom kv rotation put|get|delete PATH``: KV v2 scheduled rotation.

A Strongroom extension (docs/rotation.md): the policy lives at
``<mount>/rotation/<path>``, on-demand rotation at ``<mount>/rotate/<path>``.
Only version 2 mounts rotate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import ApiError, LocalError, RemoteError, doing
from strongroom.cli.kvpaths import clean
from strongroom.cli.session import Session, api_command

#: Options of ``kv rotation put`` and the policy field each sets.
_POLICY_OPTIONS = (
    ("interval", "DURATION", "Rotate this often (e.g. 24h); or give --cron."),
    ("cron", "EXPR", "Rotate at these times: a 5-field cron expression in UTC."),
    ("generator", "NAME", "password, random, keypair or webhook."),
    ("key", "FIELD", "The field of the secret that gets the new value (default: value)."),
    ("password-policy", "NAME", "password: the password policy (default: Vault's default policy)."),
    ("bytes", "N", "random: how many bytes (default 32)."),
    ("encoding", "ENC", "random: base64 (default) or hex."),
    ("key-type", "TYPE", "keypair: rsa, ec or ed25519 (default)."),
    ("key-bits", "BITS", "keypair: rsa 2048/3072/4096, ec 256/384/521."),
    ("url", "URL", "webhook: the endpoint to POST to; its JSON answer's value is the new value."),
)


def _rotation_path(session: Session, path: str, mount: str | None, what: str) -> tuple[str, str]:
    """``(<mount>/<what>/<secret>, <mount>/<secret>)``; only KV version 2 mounts rotate."""
    from strongroom.cli.commands.kv import find_mount

    kv_mount, secret = find_mount(session, path, mount)
    if kv_mount.version != 2:
        raise LocalError(f"{kv_mount.path} is a KV version 1 mount: only version 2 secrets rotate")
    secret = clean(secret)
    return f"{kv_mount.path}{what}/{secret}", f"{kv_mount.path}{secret}"


def register_rotation(kv: click.Group, mount_option: Callable[[Any], Any]) -> None:
    @api_command(kv, "rotate", help="Rotate a version 2 secret now with its rotation policy.")
    @mount_option
    @click.argument("path")
    def rotate(session: Session, *, mount: str | None, path: str) -> int:
        shown, _ = _rotation_path(session, path, mount, "rotate")
        with doing(f"rotating {shown}"):
            answer = session.post(shown, {})
        body = answer.body or {}
        data = answer.data if isinstance(answer.data, Mapping) else {}
        session.show(body, lambda: "== Secret Path ==\n" + shown + "\n\n" + output.section("Metadata") + "\n"
                     + output.key_value_table(sorted(data.items())))
        return 0

    @kv.group("rotation")
    def rotation() -> None:
        """Attach, read and remove the rotation policy of version 2 secrets."""

    def policy_options(func: Any) -> Any:
        for name, metavar, text in reversed(_POLICY_OPTIONS):
            func = click.option(f"--{name}", metavar=metavar, help=text)(func)
        return func

    @api_command(rotation, "put", help="Attach (or replace) a secret's rotation policy.")
    @mount_option
    @policy_options
    @click.argument("path")
    def rotation_put(session: Session, *, mount: str | None, path: str, **options: str | None) -> int:
        shown, _ = _rotation_path(session, path, mount, "rotation")
        body = {name: value for name, value in options.items() if value is not None}
        with doing(f"writing {shown}"):
            session.post(shown, body)
        output.emit(f"Success! Data written to: {shown}")
        return 0

    @api_command(rotation, "get", help="Print a secret's rotation policy, its next run and recent attempts.")
    @mount_option
    @click.argument("path")
    def rotation_get(session: Session, *, mount: str | None, path: str) -> int:
        shown, _ = _rotation_path(session, path, mount, "rotation")
        with doing(f"reading {shown}"):
            try:
                answer = session.read(shown)
            except ApiError as exc:
                if exc.status == 404:
                    raise RemoteError(f"No rotation policy at {shown}", action="") from None
                raise
        data = answer.data if isinstance(answer.data, Mapping) else {}
        session.show(answer.body or {}, lambda: _rotation_text(shown, data))
        return 0

    @api_command(rotation, "delete", help="Remove a secret's rotation policy (the secret stays).")
    @mount_option
    @click.argument("path")
    def rotation_delete(session: Session, *, mount: str | None, path: str) -> int:
        shown, _ = _rotation_path(session, path, mount, "rotation")
        with doing(f"deleting {shown}"):
            session.delete(shown)
        output.emit(f"Success! Data deleted (if it existed) at: {shown}")
        return 0


def _rotation_text(shown: str, data: Mapping[str, Any]) -> str:
    top = {key: value for key, value in data.items() if key != "history"}
    parts = ["== Rotation Path ==\n" + shown, output.section("Policy") + "\n" + output.key_value_table(top.items())]
    attempts = data.get("history")
    if isinstance(attempts, list) and attempts:
        rows = [[str(a.get(k, "")) for k in ("time", "trigger", "outcome", "version", "error")]
                for a in attempts if isinstance(a, Mapping)]
        parts.append(output.section("History") + "\n"
                     + output.columns(rows, ["Time", "Trigger", "Outcome", "Version", "Error"]))
    return "\n\n".join(parts)
