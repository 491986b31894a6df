"""``strongroom operator tls bootstrap``: a private CA and a server certificate for a fresh install.

Writes into one directory (created 0700 if missing):

* ``ca.pem``: the CA certificate (10 years), what clients trust (``VAULT_CACERT``);
* ``ca-key.pem`` (0600): the CA's private key, to sign more certificates; move it offline;
* ``server.pem``: the server certificate (1 year by default) followed by the CA certificate;
* ``server-key.pem`` (0600): the server's private key.

Keys are EC P-256 (default) or RSA-3072. Existing files are never overwritten unless ``--force``.
Then it prints the listener block and the ``VAULT_CACERT`` line to use them.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from strongroom.cli.errors import LocalError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CA_DAYS = 3650
DEFAULT_SERVER_DAYS = 365
DEFAULT_NAMES = ("localhost", "127.0.0.1")
FILES = ("ca.pem", "ca-key.pem", "server.pem", "server-key.pem")


def new_key(key_type: str) -> PrivateKey:
    """A fresh private key: ``ec`` is P-256, ``rsa`` is 3072 bits."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise LocalError(f'unknown key type {key_type!r}: use "ec" or "rsa"')


def split_names(names: Sequence[str]) -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """DNS names and IP addresses from the ``--name`` values (comma-separated lists allowed)."""
    dns: list[str] = []
    ips: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for value in (part.strip() for item in names for part in item.split(",")):
        if not value:
            continue
        try:
            ips.append(ipaddress.ip_address(value.strip("[]")))
        except ValueError:
            if any(c.isspace() or c == "/" for c in value):
                raise LocalError(f"invalid DNS name {value!r}") from None
            dns.append(value.lower())
    if not dns and not ips:
        raise LocalError("at least one DNS name or IP address is needed")
    return dns, ips


@dataclass(frozen=True)
class Bundle:
    ca_cert: x509.Certificate
    ca_key: PrivateKey
    server_cert: x509.Certificate
    server_key: PrivateKey


def _builder(subject: x509.Name, issuer: x509.Name, public_key: object, now: datetime.datetime, days: int) -> (
    x509.CertificateBuilder
):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # tolerate small clock skew
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def make_ca(key: PrivateKey, common_name: str, now: datetime.datetime, days: int = CA_DAYS) -> x509.Certificate:
    """A self-signed CA certificate that may sign leaf certificates only (path length 0)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        _builder(name, name, key.public_key(), now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )


def make_leaf(
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    public_key: object,
    *,
    common_name: str,
    dns: Sequence[str],
    ips: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address],
    now: datetime.datetime,
    days: int,
    usages: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.SERVER_AUTH,),
) -> x509.Certificate:
    """A leaf certificate signed by ``ca_key`` with the given SANs and extended key usages."""
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ip) for ip in ips]
    builder = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
            ca_cert.subject, public_key, now, days,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=isinstance(public_key, rsa.RSAPublicKey), data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def bootstrap(
    names: Sequence[str], key_type: str = "ec", server_days: int = DEFAULT_SERVER_DAYS,
    now: datetime.datetime | None = None,
) -> Bundle:
    """A new CA and a server certificate for ``names`` (DNS names and IPs) signed by it."""
    now = now or datetime.datetime.now(datetime.UTC)
    dns, ips = split_names(names)
    ca_key = new_key(key_type)
    ca_cert = make_ca(ca_key, "Strongroom private CA", now)
    server_key = new_key(key_type)
    common_name = dns[0] if dns else str(ips[0])
    server_cert = make_leaf(
        ca_cert, ca_key, server_key.public_key(), common_name=common_name, dns=dns, ips=ips, now=now, days=server_days
    )
    return Bundle(ca_cert, ca_key, server_cert, server_key)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL unless replacing: never follow a planted symlink, never widen an existing file's mode.
    if path.is_symlink():
        raise LocalError(f"{path} is a symbolic link; refusing to write through it")
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def write_bundle(bundle: Bundle, directory: Path, *, force: bool = False) -> None:
    """Write the four files; refuses to replace any existing one unless ``force``."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    existing = [name for name in FILES if (directory / name).exists()]
    if existing and not force:
        raise LocalError(f"{', '.join(existing)} already exist in {directory}; use -force to replace them")
    pem = serialization.Encoding.PEM
    ca_pem = bundle.ca_cert.public_bytes(pem)
    _write(directory / "ca.pem", ca_pem, 0o644)
    _write(directory / "ca-key.pem", _key_pem(bundle.ca_key), 0o600)
    _write(directory / "server.pem", bundle.server_cert.public_bytes(pem) + ca_pem, 0o644)
    _write(directory / "server-key.pem", _key_pem(bundle.server_key), 0o600)


def instructions(directory: Path) -> str:
    d = directory.resolve()
    return "\n".join([
        f"Wrote ca.pem, ca-key.pem, server.pem and server-key.pem to {d}",
        "Keep ca-key.pem offline; it signs certificates every client will trust.",
        "",
        "Listener configuration:",
        "",
        'listener "tcp" {',
        '  address         = "127.0.0.1:8200"',
        f'  tls_cert_file   = "{d / "server.pem"}"',
        f'  tls_key_file    = "{d / "server-key.pem"}"',
        '  tls_min_version = "tls12"',
        "}",
        "",
        "Clients:",
        "",
        f"export VAULT_CACERT={d / 'ca.pem'}",
    ])


def register(cli: click.Group) -> click.Group:
    """Adds ``tls bootstrap`` under the existing ``operator`` group; returns the ``tls`` group."""
    operator = cli.commands["operator"]
    assert isinstance(operator, click.Group)

    @operator.group("tls")
    def tls() -> None:
        """TLS for the server's listeners."""

    @tls.command("bootstrap")
    @click.option("--dir", "directory", default="tls", show_default=True, type=click.Path(path_type=Path),
                  help="Directory to write the files into.")
    @click.option("--name", "names", multiple=True, metavar="NAME",
                  help="DNS name or IP of the server (repeatable, comma lists allowed; default localhost,127.0.0.1).")
    @click.option("--key-type", type=click.Choice(["ec", "rsa"]), default="ec", show_default=True,
                  help="EC P-256 or RSA-3072 keys.")
    @click.option("--days", type=click.IntRange(1, CA_DAYS), default=DEFAULT_SERVER_DAYS, show_default=True,
                  help="Validity of the server certificate in days (the CA is valid for 10 years).")
    @click.option("--force", is_flag=True, help="Replace existing files.")
    def bootstrap_command(directory: Path, names: tuple[str, ...], key_type: str, days: int, force: bool) -> None:
        """Create a private CA and a server certificate signed by it."""
        bundle = bootstrap(names or DEFAULT_NAMES, key_type, days)
        write_bundle(bundle, directory, force=force)
        click.echo(instructions(directory))

    return tls
