"""``config/urls``: the AIA and CRL distribution URLs written into every certificate the mount signs.

The server never fetches these URLs: they are text for relying parties, so
no egress check applies. They must still be absolute URLs with a scheme and
host, or certificates would carry garbage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from strongroom.errors import InvalidRequest
from strongroom.sdk.storage import StorageBackend

from .codec import decode, encode

URLS_KEY = "config/urls"
URL_FIELDS = ("issuing_certificates", "crl_distribution_points", "ocsp_servers")


@dataclass
class UrlConfig:
    issuing_certificates: list[str] = field(default_factory=list)
    crl_distribution_points: list[str] = field(default_factory=list)
    ocsp_servers: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {name: list(getattr(self, name)) for name in URL_FIELDS}

    def extensions(self) -> list[x509.ExtensionType]:
        """AuthorityInformationAccess and CRLDistributionPoints, when configured."""
        found: list[x509.ExtensionType] = []
        access = [
            *(x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))
              for url in self.ocsp_servers),
            *(x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))
              for url in self.issuing_certificates),
        ]
        if access:
            found.append(x509.AuthorityInformationAccess(access))
        if self.crl_distribution_points:
            found.append(x509.CRLDistributionPoints([
                x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)
                for url in self.crl_distribution_points
            ]))
        return found


def check_urls(urls: list[str], name: str) -> list[str]:
    for url in urls:
        parts = urlsplit(url)
        if not parts.scheme or not parts.netloc:
            raise InvalidRequest(f"invalid {name}: each entry must be an absolute URL such as http://pki.example.com/ca")
    return urls


async def load_urls(storage: StorageBackend) -> UrlConfig:
    raw = await storage.get(URLS_KEY)
    if raw is None:
        return UrlConfig()
    entry = decode(raw)
    return UrlConfig(**{name: [str(url) for url in entry.get(name, [])] for name in URL_FIELDS})


async def save_urls(storage: StorageBackend, config: UrlConfig) -> None:
    await storage.put(URLS_KEY, encode(config.to_json()))
