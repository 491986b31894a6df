"""``strongroom operator tls renew``: replace the server's certificate with one from its PKI engine.

An HTTP client of the server like every other command (token, address and CA from the usual flags and
variables). When the certificate in ``-cert-file`` expires within ``-before`` (or with ``-force``), it
asks ``<mount>/issue/<role>`` for a certificate with the same common name, DNS and IP SANs, checks that
the returned key matches it, writes key and certificate (+ chain) by rename (key 0600), and, with
``-pid``, sends that process SIGHUP; without it the server's file watch loads the new pair within
seconds (docs/tls.md). Meant to run from a timer: "not due yet" is a success (exit 0). The server can
also do this itself (``tls_auto_renew`` block); the logic is shared (``strongroom.server.tls_renewal``).
"""

from __future__ import annotations

import datetime
import os
import signal
from pathlib import Path

import click

from strongroom.cli import output
from strongroom.cli.errors import LocalError, doing
from strongroom.cli.session import Session, api_command


def _seconds(text: str) -> datetime.timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except (ValueError, KeyError):
        raise LocalError(f"invalid duration {text!r}: use e.g. 72h, 3d, 3600") from None
    return datetime.timedelta(seconds=value)


def register(tls: click.Group) -> None:
    """Adds ``renew`` to the ``operator tls`` group."""

    @api_command(tls, "renew", help="Renew the server certificate from the PKI engine when it is due.")
    @click.option("--role", required=True, help="PKI role to issue from.")
    @click.option("--mount", default="pki", show_default=True, help="PKI mount path.")
    @click.option("--cert-file", required=True, type=click.Path(path_type=Path), help="The listener's tls_cert_file.")
    @click.option("--key-file", required=True, type=click.Path(path_type=Path), help="The listener's tls_key_file.")
    @click.option("--before", default="72h", show_default=True, help="Renew when it expires within this.")
    @click.option("--ttl", default=None, help="TTL to request (default: the role's).")
    @click.option("--pid", type=int, default=None, help="Server process to send SIGHUP to after writing.")
    @click.option("--force", is_flag=True, help="Renew even when not due.")
    def renew(
        session: Session, *, role: str, mount: str, cert_file: Path, key_file: Path, before: str,
        ttl: str | None, pid: int | None, force: bool,
    ) -> int:
        # Imported here so that every other command stays a plain HTTP client (see commands/server.py).
        from strongroom.server.tls_renewal import RenewalError, install, issue_request, load_certificate, renewal_due

        try:
            current = load_certificate(cert_file)
            now = datetime.datetime.now(datetime.UTC)
            if not force and not renewal_due(current, now, _seconds(before)):
                output.emit(f"Not due: the certificate expires {current.not_valid_after_utc.isoformat()}.")
                return 0
            with doing("issuing a certificate"):
                answer = session.write(f"{mount.strip('/')}/issue/{role}", issue_request(current, ttl))
            renewed = install(cert_file, key_file, answer.data or {})
        except RenewalError as exc:
            raise LocalError(str(exc)) from None
        serial, expires = format(renewed.serial_number, "x"), renewed.not_valid_after_utc.isoformat()
        message = f"Renewed: serial {serial}, expires {expires}."
        if pid is not None:
            try:
                os.kill(pid, signal.SIGHUP)
            except OSError as exc:
                raise LocalError(f"written, but SIGHUP to {pid} failed: {exc.strerror}") from None
            message += f" Sent SIGHUP to {pid}."
        output.emit(message)
        return 0
