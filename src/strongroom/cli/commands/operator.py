"""``strongroom operator ...``: init, unseal, seal, rotate, key-status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.commands import operator_keys
from strongroom.cli.commands.status import print_seal_status
from strongroom.cli.errors import REMOTE_ERROR, LocalError, doing
from strongroom.cli.session import Session, api_command, ask_secret


def init_summary(
    answer: Mapping[str, Any], shares: int, threshold: int, *, recovery: bool = False
) -> dict[str, Any]:
    """Vault's CLI shape for ``operator init -format=json`` (recovery keys under an auto seal)."""
    recovery_b64 = list(answer.get("recovery_keys_base64") or [])
    return {
        "unseal_keys_b64": list(answer.get("keys_base64") or []),
        "unseal_keys_hex": list(answer.get("keys") or []),
        "unseal_shares": 0 if recovery else shares,
        "unseal_threshold": 0 if recovery else threshold,
        "recovery_keys_b64": recovery_b64,
        "recovery_keys_hex": list(answer.get("recovery_keys") or []),
        "recovery_keys_shares": shares if recovery else 0,
        "recovery_keys_threshold": threshold if recovery else 0,
        "root_token": answer.get("root_token"),
    }


def init_text(summary: Mapping[str, Any]) -> str:
    if summary["recovery_keys_b64"]:
        return _recovery_init_text(summary)
    lines = [f"Unseal Key {n}: {key}" for n, key in enumerate(summary["unseal_keys_b64"], start=1)]
    shares, threshold = summary["unseal_shares"], summary["unseal_threshold"]
    lines += [
        "",
        f"Initial Root Token: {summary['root_token']}",
        "",
        f"Strongroom initialized with {shares} key shares and a key threshold of {threshold}.",
        "Store each key share with a different person, and keep them apart. Whenever the server",
        f"starts or is sealed, {threshold} of these keys are needed to unseal it; there is no way",
        "to recover them.",
    ]
    return "\n".join(lines)


def _recovery_init_text(summary: Mapping[str, Any]) -> str:
    lines = [f"Recovery Key {n}: {key}" for n, key in enumerate(summary["recovery_keys_b64"], start=1)]
    shares, threshold = summary["recovery_keys_shares"], summary["recovery_keys_threshold"]
    lines += [
        "",
        f"Initial Root Token: {summary['root_token']}",
        "",
        f"Strongroom initialized with {shares} recovery key shares and a key threshold of {threshold}.",
        "The server unseals itself through its auto-unseal device. Recovery keys cannot unseal it;",
        "they authorise operations such as unsealing after an operator seal. Keep them apart.",
    ]
    return "\n".join(lines)


def key_status_rows(status: Mapping[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("Key Term", status.get("term")),
        ("Install Time", status.get("install_time")),
    ]
    if "encryptions" in status:
        rows.append(("Encryption Count", status["encryptions"]))
    return rows


def register(cli: click.Group) -> None:
    @cli.group("operator")
    def operator() -> None:
        """Operate the server: init, unseal, seal, rotate, key-status."""

    @api_command(operator, "init", help="Initialise the server and print the unseal keys and root token.")
    @click.option(
        "--key-shares",
        type=click.IntRange(1, 255),
        default=5,
        show_default=True,
        help="Number of unseal key shares.",
    )
    @click.option(
        "--key-threshold",
        type=click.IntRange(1, 255),
        default=3,
        show_default=True,
        help="Shares needed to unseal.",
    )
    @click.option(
        "--status",
        "status_only",
        is_flag=True,
        help="Only report whether the server is initialised (exit 0: yes, 2: no).",
    )
    def init(session: Session, *, key_shares: int, key_threshold: int, status_only: bool) -> int:
        if status_only:
            with doing("checking initialization status"):
                initialized = bool((session.read("sys/init", authenticated=False).body or {}).get("initialized"))
            session.show(
                {"initialized": initialized},
                lambda: "Vault is initialized" if initialized else "Vault is not initialized",
            )
            return 0 if initialized else REMOTE_ERROR
        with doing("checking the seal type"):
            status = session.read("sys/seal-status", authenticated=False).body or {}
        # Under an auto seal the shares are recovery keys (as `vault operator init` sends them).
        recovery = bool(status.get("recovery_seal"))
        prefix = "recovery" if recovery else "secret"
        with doing("initializing"):
            answer = session.write(
                "sys/init",
                {f"{prefix}_shares": key_shares, f"{prefix}_threshold": key_threshold},
                authenticated=False,
            )
        summary = init_summary(answer.body or {}, key_shares, key_threshold, recovery=recovery)
        session.show(summary, lambda: init_text(summary))
        return 0

    @api_command(operator, "unseal", help="Provide one unseal key share (prompted without echo when omitted).")
    @click.argument("key", required=False)
    @click.option("--reset", is_flag=True, help="Discard the unseal keys entered so far.")
    @click.option("--migrate", is_flag=True, help="Seal migration: give the old seal's unseal (or recovery) keys "
                  "with this flag, every time.")
    def unseal(session: Session, *, key: str | None, reset: bool, migrate: bool) -> int:
        if reset:
            body: dict[str, Any] = {"reset": True}
        else:
            key = ask_secret("Unseal Key (will be hidden)", key)
            if not key:
                raise LocalError("no unseal key given")
            body = {"key": key}
            if migrate:
                body["migrate"] = True
        with doing("unsealing"):
            answer = session.write("sys/unseal", body, authenticated=False)
        print_seal_status(session, answer.body or {})
        return 0

    @api_command(operator, "seal", help="Seal the server: it forgets its keys until unsealed again.")
    def seal(session: Session) -> int:
        with doing("sealing"):
            session.write("sys/seal")
        output.emit("Success! Vault is sealed.")
        return 0

    @api_command(operator, "rotate", help="Rotate the barrier encryption key (online).")
    def rotate(session: Session) -> int:
        with doing("rotating key"):
            session.write("sys/rotate")
        with doing("checking key status"):
            status = session.read("sys/key-status").data or {}
        if session.format == "table":
            output.emit("Success! Rotated key\n\n" + output.aligned(key_status_rows(status)))
        else:
            output.emit(output.dump(status, session.format))
        return 0

    @api_command(operator, "key-status", help="Print the current encryption key term and install time.")
    def key_status(session: Session) -> int:
        with doing("reading key status"):
            status = session.read("sys/key-status").data or {}
        session.show(status, lambda: output.aligned(key_status_rows(status)))
        return 0

    operator_keys.register(operator)
