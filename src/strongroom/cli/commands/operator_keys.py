"""``strongroom operator generate-root`` and ``strongroom operator rekey``: the key ceremonies, from the CLI.

Under an auto seal the keys given are recovery keys; ``rekey -target=recovery``
rekeys them (``sys/rekey-recovery-key/*``), as Vault's CLI does.

Both follow Vault's commands: ``-init`` starts an attempt, ``-status`` shows
it, a bare call submits one unseal key (argument, ``-`` for stdin, or a prompt
without echo), and ``-cancel`` ends it. Cancelling needs ``-nonce``: the
server refuses a cancel that does not name its attempt. ``generate-root
-decode=ENCODED -otp=OTP`` decodes the final token locally (no request).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click

from strongroom.cli import output
from strongroom.cli.errors import LocalError, doing
from strongroom.cli.session import Session, api_command, ask_secret, stdin_text
from strongroom.core.generate_root import OTP_LENGTH, decode_token
from strongroom.core.tokens.ids import random_base62
from strongroom.errors import InvalidRequest

GENERATE_ROOT = "sys/generate-root/attempt"
REKEY_VERIFY = "sys/rekey/verify"
#: ``-target``: which key ``operator rekey`` replaces, and the path prefix that does it.
REKEY_TARGETS = {"barrier": "sys/rekey", "recovery": "sys/rekey-recovery-key"}


def generate_root_rows(status: Mapping[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("Nonce", status.get("nonce")),
        ("Started", status.get("started")),
        ("Progress", f"{status.get('progress', 0)}/{status.get('required', 0)}"),
        ("Complete", status.get("complete")),
    ]
    if status.get("otp"):
        rows.append(("OTP", status["otp"]))
    rows.append(("OTP Length", status.get("otp_length")))
    if status.get("encoded_token"):
        rows.append(("Encoded Token", status["encoded_token"]))
    return rows


def rekey_rows(status: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Nonce", status.get("nonce")),
        ("Started", status.get("started")),
        ("Rekey Progress", f"{status.get('progress', 0)}/{status.get('required', 0)}"),
        ("New Shares", status.get("n")),
        ("New Threshold", status.get("t")),
        ("Verification Required", status.get("verification_required")),
    ]


def rekey_done_text(answer: Mapping[str, Any], what: str = "unseal") -> str:
    keys = list(answer.get("keys_base64") or [])
    if not keys:
        # An auto seal's own unseal key: the seal stores it, nobody is handed a share.
        return "Success! The stored unseal key was rekeyed through the seal; the recovery keys are unchanged."
    lines = [f"Key {n}: {key}" for n, key in enumerate(keys, start=1)]
    lines += [
        "",
        f"Operation nonce: {answer.get('nonce')}",
        "",
    ]
    if answer.get("verification_required"):
        lines += [
            f"Strongroom generated {len(keys)} new key shares, NOT yet in use: the old keys still work.",
            "Give each share to its holder; once enough of them have submitted theirs with",
            f"'operator rekey -verify -nonce={answer.get('verification_nonce')}', the new keys replace the old.",
        ]
    else:
        lines += [
            f"Strongroom rekeyed with {len(keys)} key shares. The old {what} keys no longer work.",
            "Store each new share with a different person, and keep them apart.",
        ]
    return "\n".join(lines)


def _cancel(session: Session, path: str, nonce: str | None, what: str) -> None:
    if not nonce:
        raise LocalError("-cancel needs -nonce: the attempt's nonce, shown by -status")
    with doing(f"canceling {what}"):
        session.delete(path, json_body={"nonce": nonce}, authenticated=False)
    output.emit(f"Success! {what.capitalize()} canceled (if it was started)")


def _key_and_nonce(session: Session, path: str, key: str | None, nonce: str | None, what: str) -> tuple[str, str]:
    """The share to submit and the attempt's nonce (read from the status when not given, as Vault's CLI does)."""
    if not nonce:
        with doing(f"getting {what} status"):
            status = session.read(path, authenticated=False).body or {}
        if not status.get("started"):
            raise LocalError(f"no {what} is in progress: start one with -init")
        nonce = str(status.get("nonce", ""))
        output.emit(f"Operation nonce: {nonce}")
    share = ask_secret("Unseal Key (will be hidden)", key)
    if not share:
        raise LocalError("no unseal key given")
    return share, nonce


def register(operator: click.Group) -> None:
    """Add ``generate-root`` and ``rekey`` to the ``operator`` group."""

    @api_command(operator, "generate-root", help="Generate a new root token from a quorum of unseal keys.")
    @click.argument("key", required=False)
    @click.option("--init", "start", is_flag=True, help="Start an attempt; the server generates and shows the OTP.")
    @click.option("--cancel", is_flag=True, help="Cancel the attempt named by -nonce.")
    @click.option("--status", "status_only", is_flag=True, help="Show the current attempt.")
    @click.option("--nonce", default="", help="The attempt's nonce (read from the status when omitted).")
    @click.option("--otp", default="", help="With -init: your own OTP; with -decode: the OTP to decode with.")
    @click.option("--decode", default="", help="Decode this encoded token with -otp ('-' reads stdin); no request.")
    @click.option("--generate-otp", is_flag=True, help="Print a random OTP of the right length; no request.")
    def generate_root(
        session: Session,
        *,
        key: str | None,
        start: bool,
        cancel: bool,
        status_only: bool,
        nonce: str,
        otp: str,
        decode: str,
        generate_otp: bool,
    ) -> int:
        if generate_otp:
            output.emit(random_base62(OTP_LENGTH, os.urandom))
            return 0
        if decode:
            if not otp:
                raise LocalError("-decode needs -otp")
            encoded = stdin_text().strip() if decode == "-" else decode
            try:
                token = decode_token(encoded, otp)
            except InvalidRequest as exc:
                raise LocalError(exc.message) from None
            session.show({"token": token}, lambda: token)
            return 0
        if cancel:
            _cancel(session, GENERATE_ROOT, nonce, "root token generation")
            return 0
        if status_only:
            with doing("getting root generation status"):
                status = session.read(GENERATE_ROOT, authenticated=False).body or {}
            session.show(status, lambda: output.aligned(generate_root_rows(status)))
            return 0
        if start:
            with doing("initializing root generation"):
                answer = session.write(GENERATE_ROOT, {"otp": otp} if otp else {}, authenticated=False).body or {}
            note = (
                "A one-time password has been generated for you and is shown in the OTP field.\n"
                "You need it to decode the new root token; keep it safe.\n\n"
                if answer.get("otp")
                else ""
            )
            session.show(answer, lambda: note + output.aligned(generate_root_rows(answer)))
            return 0
        share, nonce = _key_and_nonce(session, GENERATE_ROOT, key, nonce, "root generation")
        with doing("providing unseal key"):
            answer = session.write(
                "sys/generate-root/update", {"key": share, "nonce": nonce}, authenticated=False
            ).body or {}
        session.show(answer, lambda: output.aligned(generate_root_rows(answer)))
        return 0

    @api_command(operator, "rekey", help="Replace the unseal key shares (needs a quorum of the current ones).")
    @click.argument("key", required=False)
    @click.option("--init", "start", is_flag=True, help="Start a rekey with -key-shares and -key-threshold.")
    @click.option("--cancel", is_flag=True, help="Cancel the rekey named by -nonce.")
    @click.option("--status", "status_only", is_flag=True, help="Show the current rekey.")
    @click.option("--nonce", default="", help="The rekey's nonce (read from the status when omitted).")
    @click.option("--key-shares", type=click.IntRange(1, 255), default=5, show_default=True,
                  help="Number of new key shares.")
    @click.option("--key-threshold", type=click.IntRange(1, 255), default=3, show_default=True,
                  help="New shares needed to unseal.")
    @click.option("--verify", is_flag=True, help="With -init: require verification of the new keys. "
                  "Otherwise: act on the verification (submit a new key, -status, -cancel).")
    @click.option("--target", type=click.Choice(sorted(REKEY_TARGETS)), default="barrier", show_default=True,
                  help="barrier: the unseal keys (under an auto seal, its stored key); recovery: the recovery keys.")
    def rekey(
        session: Session,
        *,
        key: str | None,
        start: bool,
        cancel: bool,
        status_only: bool,
        nonce: str,
        key_shares: int,
        key_threshold: int,
        verify: bool,
        target: str,
    ) -> int:
        prefix = REKEY_TARGETS[target]
        init_path = f"{prefix}/init"
        if verify and not start:
            return _rekey_verify(
                session, key=key, cancel=cancel, status_only=status_only, nonce=nonce, path=f"{prefix}/verify"
            )
        if cancel:
            _cancel(session, init_path, nonce, "rekey")
            return 0
        if status_only or start:
            with doing("getting rekey status" if status_only else "initializing rekey"):
                if start:
                    body = {
                        "secret_shares": key_shares,
                        "secret_threshold": key_threshold,
                        "require_verification": verify,
                    }
                    status = session.write(init_path, body, authenticated=False).body or {}
                else:
                    status = session.read(init_path, authenticated=False).body or {}
            session.show(status, lambda: output.aligned(rekey_rows(status)))
            return 0
        share, nonce = _key_and_nonce(session, init_path, key, nonce, "rekey")
        with doing("providing unseal key"):
            answer = session.write(f"{prefix}/update", {"key": share, "nonce": nonce}, authenticated=False).body or {}
        if not answer.get("complete"):
            session.show(answer, lambda: output.aligned(rekey_rows(answer)))
            return 0
        session.show(answer, lambda: rekey_done_text(answer, "recovery" if target == "recovery" else "unseal"))
        return 0


def verify_rows(status: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Verification Nonce", status.get("nonce")),
        ("Verification Progress", f"{status.get('progress', 0)}/{status.get('t', 0)}"),
        ("New Shares", status.get("n")),
        ("New Threshold", status.get("t")),
    ]


def _rekey_verify(
    session: Session, *, key: str | None, cancel: bool, status_only: bool, nonce: str, path: str = REKEY_VERIFY
) -> int:
    """``operator rekey -verify ...``: the verification step of a rekey started with ``-init -verify``."""
    if cancel:
        if not nonce:
            raise LocalError("-cancel needs -nonce: the verification nonce, shown by -verify -status")
        with doing("restarting rekey verification"):
            status = session.delete(path, json_body={"nonce": nonce}, authenticated=False).body or {}
        session.show(status, lambda: "Verification progress discarded.\n\n" + output.aligned(verify_rows(status)))
        return 0
    if status_only:
        with doing("getting rekey verification status"):
            status = session.read(path, authenticated=False).body or {}
        session.show(status, lambda: output.aligned(verify_rows(status)))
        return 0
    share, nonce = _key_and_nonce(session, path, key, nonce, "rekey verification")
    with doing("providing new unseal key"):
        answer = session.write(path, {"key": share, "nonce": nonce}, authenticated=False).body or {}
    if answer.get("complete"):
        done = "Success! Rekey verified: the new unseal keys are in use, the old ones no longer work."
        session.show(answer, lambda: done)
    else:
        session.show(answer, lambda: output.aligned(verify_rows(answer)))
    return 0
