"""Certificates for cert auth tests: CAs and client leaves with chosen names, usages and validity."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from strongroom.cli.commands.tls_bootstrap import make_ca, make_leaf

NOW = datetime.datetime(2027, 1, 15, 12, 0, tzinfo=datetime.UTC)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@dataclass
class CA:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @staticmethod
    def create(name: str = "Test CA", now: datetime.datetime = NOW) -> CA:
        key = ec.generate_private_key(ec.SECP256R1())
        return CA(make_ca(key, name, now), key)

    @property
    def pem(self) -> str:
        return pem(self.cert)

    def client(
        self, common_name: str, *, dns: Sequence[str] = (), emails: Sequence[str] = (), uris: Sequence[str] = (),
        ips: Sequence[str] = (), now: datetime.datetime = NOW, days: int = 30,
        usages: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.CLIENT_AUTH,),
        extra: Sequence[x509.ExtensionType] = (),
    ) -> Client:
        key = ec.generate_private_key(ec.SECP256R1())
        if not emails and not uris and not extra:
            cert = make_leaf(self.cert, self.key, key.public_key(), common_name=common_name, dns=dns,
                             ips=[ipaddress.ip_address(i) for i in ips], now=now, days=days, usages=usages)
            return Client(cert, key)
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        sans += [x509.RFC822Name(e) for e in emails] + [x509.UniformResourceIdentifier(u) for u in uris]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        for ext in extra:
            builder = builder.add_extension(ext, critical=False)
        return Client(builder.sign(self.key, hashes.SHA256()), key)


@dataclass
class Client:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return pem(self.cert)

    @property
    def key_pem(self) -> str:
        return key_pem(self.key)
