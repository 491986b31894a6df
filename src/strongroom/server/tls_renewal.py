"""Renewing a listener's certificate from the server's own PKI engine.

The pieces, shared by ``strongroom operator tls renew`` and the server's ``tls_auto_renew`` job:

* :func:`renewal_due` -- does the certificate expire within the window?
* :func:`issue_request` -- the ``<mount>/issue/<role>`` body asking for the same names (CN, DNS, IP SANs);
* :func:`renewed_files` -- certificate file (leaf + CA chain) and key file from the answer, refusing a key
  that does not match the certificate;
* :func:`replace_file` -- write beside and rename over, so readers see the old or the new file, never half.

:func:`auto_renew` is the job: it runs in exactly one process per node (the supervisor, or the single
process), wakes every ``check_interval``, and for each TLS listener whose certificate is due asks the
server's own API over the loopback listener, with the token read from ``token_file`` at each attempt.
It writes the key first and the certificate second; the workers' file watch (server.tls) then loads
the pair within seconds, without a restart. Any failure (sealed, no token, a role that refuses the
names) is logged without secrets and retried at the next interval; the current certificate stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import ssl
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from strongroom.config.tls_renew import TLSAutoRenewConfig
from strongroom.server.settings import ListenerSettings

log = logging.getLogger("strongroom.server.tls_renewal")
T = TypeVar("T")

#: Seconds before the first look after start (lets workers come up and the node unseal).
FIRST_CHECK_DELAY = 1.0
REQUEST_TIMEOUT = 30.0


class RenewalError(ValueError):
    """A renewal could not be done; the message names files and paths, never keys or tokens."""


def load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        raise RenewalError(f"cannot read a PEM certificate from {path}") from None


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
        raise RenewalError("the current certificate has neither a common name nor a DNS name to renew for")
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
        raise RenewalError("the PKI answer has no certificate and private key")
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except ValueError:
        raise RenewalError("the PKI answer's certificate or key is not PEM") from None
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*raw) != key.public_key().public_bytes(*raw):
        raise RenewalError("the PKI answer's key does not match its certificate")
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


def install(cert_file: Path, key_file: Path, answer: Mapping[str, Any]) -> x509.Certificate:
    """Write a renewed pair: key first (a reload between the renames sees a mismatched pair and keeps
    the old one), then certificate and chain. Returns the new certificate."""
    cert_bytes, key_bytes = renewed_files(answer)
    replace_file(key_file, key_bytes, 0o600)
    replace_file(cert_file, cert_bytes, 0o644)
    return x509.load_pem_x509_certificate(cert_bytes)


# -- the server's own job ---------------------------------------------------------------------


def _own_address(listener: ListenerSettings) -> str:
    host = listener.host
    if host in ("0.0.0.0", ""):  # noqa: S104 -- reading the bind address, not binding
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"https://[{host}]:{listener.port}" if ":" in host else f"https://{host}:{listener.port}"


def _trust_own_chain(listener: ListenerSettings) -> ssl.SSLContext:
    """Verify the listener's chain against the CA certificates in its own certificate file.

    The connection goes to this process's own loopback listener; host names are not checked (the
    certificate names the public names), the chain is.
    """
    context = ssl.create_default_context(cafile=listener.tls_cert_file)
    context.check_hostname = False
    return context


def _token(path: str) -> str:
    try:
        token = Path(path).read_text().strip()
    except OSError as exc:
        raise RenewalError(f"cannot read tls_auto_renew token_file {path!r}: {exc.strerror}") from None
    if not token:
        raise RenewalError(f"tls_auto_renew token_file {path!r} is empty")
    return token


async def renew_listener(
    config: TLSAutoRenewConfig, listener: ListenerSettings, now: datetime.datetime
) -> x509.Certificate | None:
    """Renew ``listener``'s certificate if due; the new certificate, or None when not due."""
    cert_file, key_file = Path(listener.tls_cert_file), Path(listener.tls_key_file)
    current = load_certificate(cert_file)
    if not renewal_due(current, now, datetime.timedelta(seconds=config.renew_before)):
        return None
    body = issue_request(current, f"{config.ttl}s" if config.ttl else None)
    path = f"/v1/{config.mount}/issue/{config.role}"
    async with httpx.AsyncClient(verify=_trust_own_chain(listener), timeout=REQUEST_TIMEOUT) as client:
        answer = await client.put(_own_address(listener) + path, json=body,
                                  headers={"X-Vault-Token": _token(config.token_file)})
    if answer.status_code != 200:
        try:
            errors = "; ".join(str(e) for e in answer.json().get("errors") or [])
        except ValueError:
            errors = ""
        raise RenewalError(f"{path} answered {answer.status_code}{': ' + errors if errors else ''}")
    data = answer.json().get("data") or {}
    return await asyncio.to_thread(install, cert_file, key_file, data)


async def auto_renew(config: TLSAutoRenewConfig, listeners: Sequence[ListenerSettings]) -> None:
    """The job: look every ``check_interval`` (first after :data:`FIRST_CHECK_DELAY`), renew what is due."""
    targets = [item for item in listeners if not item.tls_disable]
    delay = FIRST_CHECK_DELAY
    while True:
        await asyncio.sleep(delay)
        delay = config.check_interval
        for listener in targets:
            try:
                renewed = await renew_listener(config, listener, datetime.datetime.now(datetime.UTC))
            except (RenewalError, httpx.HTTPError, OSError) as exc:
                log.warning("TLS certificate renewal for %s:%d failed, retrying in %ds: %s",
                            listener.host, listener.port, config.check_interval, exc)
                continue
            if renewed is None:
                continue
            log.info("TLS certificate for %s:%d renewed from %s/issue/%s: serial %x, expires %s",
                     listener.host, listener.port, config.mount, config.role, renewed.serial_number,
                     renewed.not_valid_after_utc.isoformat())
            if renewal_due(renewed, datetime.datetime.now(datetime.UTC),
                           datetime.timedelta(seconds=config.renew_before)):
                log.warning("the renewed certificate is due again at once: tls_auto_renew renew_before is "
                            "longer than the lifetime the role issues; it will be renewed at every check")


async def with_auto_renew(
    config: TLSAutoRenewConfig | None, listeners: Sequence[ListenerSettings], main: Coroutine[Any, Any, T]
) -> T:
    """Run ``main`` (the node) with the renewal job beside it when ``config`` is set; the job stops with it."""
    if config is None or all(item.tls_disable for item in listeners):
        return await main
    job = asyncio.create_task(auto_renew(config, listeners))
    try:
        return await main
    finally:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
