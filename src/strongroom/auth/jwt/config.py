"""The mount's ``config``: where the keys that sign accepted JWTs come from.

Exactly one key source is configured (Vault's rule): ``oidc_discovery_url``
(the issuer's discovery document names its JWKS), ``jwks_url``, or
``jwt_validation_pubkeys`` (PEM keys held in the config). Validation on write,
each failure a 400: URLs are http(s) without user info; CA PEMs and public keys
parse (RSA of at least 2048 bits, EC P-256/P-384, Ed25519); ``jwt_supported_algs``
names only algorithms this server can verify (never ``none`` or HMAC). The
backend additionally fetches the discovery document or JWKS on write so a
wrong URL is reported then, not at the first login.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import split_url
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.jwt import ASYMMETRIC_ALGORITHMS, PublicKey
from strongroom.sdk.storage import StorageBackend

CONFIG_KEY = "config"
MAX_PUBKEYS = 64
_TEXT_LIMIT = 64 * 1024

CONFIG_FIELDS: dict[str, Field] = {
    "oidc_discovery_url": Field(FieldType.STRING, description="Issuer URL whose discovery document is used."),
    "oidc_discovery_ca_pem": Field(FieldType.STRING, description="PEM CA certificates for the discovery URL."),
    "jwks_url": Field(FieldType.STRING, description="URL of a JSON Web Key Set."),
    "jwks_ca_pem": Field(FieldType.STRING, description="PEM CA certificates for the JWKS URL."),
    "jwt_validation_pubkeys": Field(FieldType.STRING_LIST, description="PEM public keys that verify JWTs."),
    "bound_issuer": Field(FieldType.STRING, description="The iss claim every accepted JWT must carry."),
    "jwt_supported_algs": Field(FieldType.STRING_LIST, description="Accepted signing algorithms."),
    "default_role": Field(FieldType.STRING, description="Role used when a login names none."),
}


@dataclass(frozen=True, slots=True)
class JwtConfig:
    oidc_discovery_url: str = ""
    oidc_discovery_ca_pem: str = ""
    jwks_url: str = ""
    jwks_ca_pem: str = ""
    jwt_validation_pubkeys: tuple[str, ...] = ()
    bound_issuer: str = ""
    jwt_supported_algs: tuple[str, ...] = ()
    default_role: str = ""

    def __repr__(self) -> str:
        return (f"JwtConfig(oidc_discovery_url={self.oidc_discovery_url!r}, jwks_url={self.jwks_url!r}, "
                f"jwt_validation_pubkeys={len(self.jwt_validation_pubkeys)})")

    @property
    def algorithms(self) -> frozenset[str]:
        """The algorithms a token may be signed with (every supported one when none are configured)."""
        return frozenset(self.jwt_supported_algs) or ASYMMETRIC_ALGORITHMS

    def public_keys(self) -> list[PublicKey]:
        return [parse_pem_key(p) for p in self.jwt_validation_pubkeys]

    def response_data(self) -> dict[str, Any]:
        return {
            "oidc_discovery_url": self.oidc_discovery_url,
            "oidc_discovery_ca_pem": self.oidc_discovery_ca_pem,
            "jwks_url": self.jwks_url,
            "jwks_ca_pem": self.jwks_ca_pem,
            "jwt_validation_pubkeys": list(self.jwt_validation_pubkeys),
            "bound_issuer": self.bound_issuer,
            "jwt_supported_algs": list(self.jwt_supported_algs),
            "default_role": self.default_role,
            # The browser flow is not served, so no client is configured (read back as Vault shows it).
            "oidc_client_id": "",
        }

    def to_bytes(self) -> bytes:
        body = {f.name: getattr(self, f.name) for f in fields(self)}
        body["jwt_validation_pubkeys"] = list(self.jwt_validation_pubkeys)
        body["jwt_supported_algs"] = list(self.jwt_supported_algs)
        return json.dumps(body).encode()

    @staticmethod
    def from_bytes(raw: bytes) -> JwtConfig:
        body = json.loads(raw)
        known = {f.name for f in fields(JwtConfig)}
        values = {k: v for k, v in body.items() if k in known}
        values["jwt_validation_pubkeys"] = tuple(values.get("jwt_validation_pubkeys", ()))
        values["jwt_supported_algs"] = tuple(values.get("jwt_supported_algs", ()))
        return JwtConfig(**values)


def parse_pem_key(pem: str) -> PublicKey:
    """An RSA, EC or Ed25519 public key from a PEM public key or certificate; 400 otherwise."""
    data = pem.strip().encode()
    try:
        key: object = (x509.load_pem_x509_certificate(data).public_key() if b"CERTIFICATE" in data
                       else load_pem_public_key(data))
    except ValueError:
        raise InvalidRequest("jwt_validation_pubkeys: an entry is not a PEM public key or certificate") from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise InvalidRequest("jwt_validation_pubkeys: only RSA, EC and Ed25519 keys can verify JWTs")
    return key


def _check_ca(pem: str, name: str) -> None:
    if len(pem) > _TEXT_LIMIT:
        raise InvalidRequest(f"{name} is too long")
    try:
        found = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        found = []
    if not found:
        raise InvalidRequest(f"{name} is not a PEM certificate")


def _url(f: FieldData, name: str) -> str:
    url: str = (f.get(name) or "").strip()
    if url:
        if len(url) > 2048:
            raise InvalidRequest(f"{name} is too long")
        try:
            split_url(url)
        except InvalidRequest as bad:
            raise InvalidRequest(f"{name}: {bad.message}") from None
    return url


def config_from(f: FieldData) -> JwtConfig:
    """A validated config from a write (the whole config is replaced, as in Vault)."""
    discovery, jwks = _url(f, "oidc_discovery_url"), _url(f, "jwks_url")
    pubkeys = tuple(k for k in (f.get("jwt_validation_pubkeys") or []) if k.strip())
    if sum(map(bool, (discovery, jwks, pubkeys))) != 1:
        raise InvalidRequest("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' "
                             "must be set")
    if len(pubkeys) > MAX_PUBKEYS:
        raise InvalidRequest(f"jwt_validation_pubkeys: at most {MAX_PUBKEYS} keys")
    for pem in pubkeys:
        parse_pem_key(pem)
    discovery_ca, jwks_ca = f.get("oidc_discovery_ca_pem") or "", f.get("jwks_ca_pem") or ""
    if discovery_ca:
        if not discovery:
            raise InvalidRequest("oidc_discovery_ca_pem is only used with oidc_discovery_url")
        _check_ca(discovery_ca, "oidc_discovery_ca_pem")
    if jwks_ca:
        if not jwks:
            raise InvalidRequest("jwks_ca_pem is only used with jwks_url")
        _check_ca(jwks_ca, "jwks_ca_pem")
    algs = tuple(dict.fromkeys(a.strip() for a in (f.get("jwt_supported_algs") or []) if a.strip()))
    unknown = [a for a in algs if a not in ASYMMETRIC_ALGORITHMS]
    if unknown:
        raise InvalidRequest("jwt_supported_algs: unsupported algorithm (supported: "
                             f"{', '.join(sorted(ASYMMETRIC_ALGORITHMS))})")
    issuer = (f.get("bound_issuer") or "").strip()
    default_role = (f.get("default_role") or "").strip()
    if len(issuer) > 2048 or len(default_role) > 128:
        raise InvalidRequest("bound_issuer or default_role is too long")
    return JwtConfig(oidc_discovery_url=discovery, oidc_discovery_ca_pem=discovery_ca, jwks_url=jwks,
                     jwks_ca_pem=jwks_ca, jwt_validation_pubkeys=pubkeys, bound_issuer=issuer,
                     jwt_supported_algs=algs, default_role=default_role)


async def load_config(storage: StorageBackend) -> JwtConfig | None:
    raw = await storage.get(CONFIG_KEY)
    return None if raw is None else JwtConfig.from_bytes(raw)
