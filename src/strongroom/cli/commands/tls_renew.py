"""``strongroom operator tls renew``: replace the server's certificate with one from its PKI engine.

An HTTP client of the server like every other command (token, address and CA from the usual flags and
variables). When the certificate in ``-cert-file`` expires within ``-before`` (or with ``-force``), it
asks ``<mount>/issue/<role>`` for a certificate with the same common name, DNS and IP SANs, checks that
the returned key matches it, writes key and certificate (+ chain) by rename (key 0600), and, with
``-pid``, sends that process SIGHUP so the listeners load the new pair without a restart
(docs/tls.md). Meant to run from a timer: "not due yet" is a success (exit 0).
"""

from __future__ import annotations

import datetime
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from strongroom.cli import output
from strongroom.cli.errors import LocalError, doing
from strongroom.cli.session import Session, api_command


def load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        raise LocalError(f"cannot read a PEM certificate from {path}") from None


def renewal_due(cert: x509.Certificate, now: datetime.datetime, before: datetime.timedelta) -> bool:
    """Whether ``cert`` expires within ``before`` of ``now`` (or already has)."""
    return cert.not_valid_after_utc - now <= before


def issue_request(cert: x509.Certificate, ttl: str | None) -> dict[str, Any]:
    """The ``pki/issue/:role`` body that asks for the same names as ``cert``."""
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = list(san.get_values_for_type(x509.DNSName))
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    common_name = str(common_names[0].value) if common_names else (dns[0] if dns else "")
    if not common_name:
        raise LocalError("the current certificate has neither a common name nor a DNS name to renew for")
    body: dict[str, Any] = {"common_name": common_name, "format": "pem"}
    alt_names = [d for d in dns if d != common_name]
    if alt_names:
        body["alt_names"] = ",".join(alt_names)
    if ips:
        body["ip_sans"] = ",".join(ips)
    if ttl:
        body["ttl"] = ttl
    return body


def renewed_files(answer: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """(certificate file, key file) contents from an issue answer; the key must match the certificate."""
    cert_pem, key_pem = answer.get("certificate"), answer.get("private_key")
    if not isinstance(cert_pem, str) or not isinstance(key_pem, str):
        raise LocalError("the PKI answer has no certificate and private key (is the role's no_store/format usual?)")
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except ValueError:
        raise LocalError("the PKI answer's certificate or key is not PEM") from None
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*raw) != key.public_key().public_bytes(*raw):
        raise LocalError("the PKI answer's key does not match its certificate")
    chain = answer.get("ca_chain") or ([answer["issuing_ca"]] if answer.get("issuing_ca") else [])
    body = "\n".join([cert_pem.strip(), *(str(c).strip() for c in chain)]) + "\n"
    return body.encode(), key_pem.strip().encode() + b"\n"


def replace_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` beside ``path`` and rename it over: readers see the old or the new file, never half."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


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
        current = load_certificate(cert_file)
        now = datetime.datetime.now(datetime.UTC)
        if not force and not renewal_due(current, now, _seconds(before)):
            output.emit(f"Not due: the certificate expires {current.not_valid_after_utc.isoformat()}.")
            return 0
        with doing("issuing a certificate"):
            answer = session.write(f"{mount.strip('/')}/issue/{role}", issue_request(current, ttl))
        cert_bytes, key_bytes = renewed_files(answer.data or {})
        # Key first: a reload between the two renames sees a mismatched pair and keeps the old one.
        replace_file(key_file, key_bytes, 0o600)
        replace_file(cert_file, cert_bytes, 0o644)
        renewed = x509.load_pem_x509_certificate(cert_bytes)
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
