"""Trusted certificate entries (``certs/:name``) in the mount's storage.

Layout: ``cert/<name>`` holds a JSON object: the PEM certificate(s) to trust, the name
constraints and the token settings. Nothing here is secret (certificates are public), but it
lives behind the barrier like everything else.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import orjson
from cryptography import x509

from strongroom.auth.cert.matching import Constraints
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.token_params import TokenParams

PREFIX = "cert/"
MAX_NAME_CHARS = 128
MAX_CERTIFICATE_BYTES = 256 * 1024
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def checked_name(value: object) -> str:
    """A valid entry name, or 400."""
    if not isinstance(value, str) or not _NAME.fullmatch(value) or ".." in value:
        raise InvalidRequest(
            f"invalid name: use 1 to {MAX_NAME_CHARS} characters from A-Z, a-z, 0-9, '_', '-' and '.'"
        )
    return value


def parse_certificates(pem: str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle; 400 when there is none or the text is not PEM."""
    if len(pem.encode()) > MAX_CERTIFICATE_BYTES:
        raise InvalidRequest(f"'certificate' is longer than {MAX_CERTIFICATE_BYTES} bytes")
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        certs = []
    if not certs:
        raise InvalidRequest("'certificate' must hold at least one PEM-encoded certificate")
    return certs


@dataclass(frozen=True, slots=True)
class CertRole:
    """One trusted entry: certificates, name constraints, token settings."""

    name: str
    certificate: str
    display_name: str = ""
    constraints: Constraints = field(default_factory=Constraints)
    token: TokenParams = field(default_factory=TokenParams)

    def certificates(self) -> list[x509.Certificate]:
        return parse_certificates(self.certificate)

    def encode(self) -> bytes:
        return orjson.dumps({
            "v": 1,
            "certificate": self.certificate,
            "display_name": self.display_name,
            "constraints": {k: list(v) for k, v in asdict(self.constraints).items()},
            "token": self.token.to_json(),
        })

    @staticmethod
    def decode(name: str, raw: bytes) -> CertRole:
        try:
            body = orjson.loads(raw)
            constraints = Constraints(**{k: tuple(v) for k, v in body.get("constraints", {}).items()})
            return CertRole(
                name, str(body["certificate"]), str(body.get("display_name", "")), constraints,
                TokenParams.from_json(body.get("token", {})),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise InternalError("a cert auth entry in storage is malformed") from None


class CertRoles:
    """The entries of one mount over ``storage`` (the mount's barrier view)."""

    def __init__(self, storage: StorageBackend) -> None:
        self.storage = storage

    async def get(self, name: str) -> CertRole | None:
        raw = await self.storage.get(PREFIX + name)
        return CertRole.decode(name, raw) if raw is not None else None

    async def names(self) -> list[str]:
        return sorted(n for n in await self.storage.list(PREFIX) if not n.endswith("/"))

    async def put(self, role: CertRole) -> None:
        await self.storage.put(PREFIX + role.name, role.encode())

    async def delete(self, name: str) -> None:
        await self.storage.delete(PREFIX + name)
