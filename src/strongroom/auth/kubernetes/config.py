"""The mount's ``config``: where the cluster is and how its tokens are checked.

Validation on write (each failure a 400 that never echoes a secret):
``kubernetes_host`` must be an http(s) URL without user info (the egress
check runs again at every login, when the name is resolved); at least one of
``kubernetes_host`` and ``pem_keys`` must be set (and ``kubernetes_host`` when
``use_annotations_as_alias_metadata`` is on); the CA certificate and every
PEM key must parse, and keys must be RSA or EC. ``token_reviewer_jwt`` is
stored but never read back (reads show ``token_reviewer_jwt_set``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from strongroom.auth.kubernetes.jws import PublicKey
from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import split_url
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.storage import StorageBackend

CONFIG_KEY = "config"
MAX_PEM_KEYS = 64

CONFIG_FIELDS: dict[str, Field] = {
    "kubernetes_host": Field(FieldType.STRING, description="URL of the Kubernetes API server."),
    "kubernetes_ca_cert": Field(FieldType.STRING, description="PEM CA certificate(s) of the API server."),
    "token_reviewer_jwt": Field(FieldType.STRING, description="JWT used to call the TokenReview API."),
    "pem_keys": Field(FieldType.STRING_LIST, description="PEM public keys or certificates that sign SA tokens."),
    "issuer": Field(FieldType.STRING, description="Expected JWT issuer."),
    "disable_iss_validation": Field(FieldType.BOOL, description="Skip the issuer check (Vault's default)."),
    "disable_local_ca_jwt": Field(FieldType.BOOL, description="Do not use the pod's own CA and token."),
    "use_annotations_as_alias_metadata": Field(FieldType.BOOL,
                                               description="Copy service-account annotations to alias metadata."),
}


@dataclass(frozen=True, slots=True)
class KubeConfig:
    kubernetes_host: str = ""
    kubernetes_ca_cert: str = ""
    token_reviewer_jwt: str = ""
    pem_keys: tuple[str, ...] = ()
    issuer: str = ""
    disable_iss_validation: bool = True
    disable_local_ca_jwt: bool = False
    use_annotations_as_alias_metadata: bool = False

    def __repr__(self) -> str:
        return f"KubeConfig(kubernetes_host={self.kubernetes_host!r}, pem_keys={len(self.pem_keys)})"

    def public_keys(self) -> list[PublicKey]:
        return [parse_pem_key(p) for p in self.pem_keys]

    def response_data(self) -> dict[str, Any]:
        return {
            "kubernetes_host": self.kubernetes_host,
            "kubernetes_ca_cert": self.kubernetes_ca_cert,
            "pem_keys": list(self.pem_keys),
            "issuer": self.issuer,
            "disable_iss_validation": self.disable_iss_validation,
            "disable_local_ca_jwt": self.disable_local_ca_jwt,
            "use_annotations_as_alias_metadata": self.use_annotations_as_alias_metadata,
            "token_reviewer_jwt_set": bool(self.token_reviewer_jwt),
        }

    def to_bytes(self) -> bytes:
        body = {f.name: getattr(self, f.name) for f in fields(self)}
        body["pem_keys"] = list(self.pem_keys)
        return json.dumps(body).encode()

    @staticmethod
    def from_bytes(raw: bytes) -> KubeConfig:
        body = json.loads(raw)
        known = {f.name for f in fields(KubeConfig)}
        values = {k: v for k, v in body.items() if k in known}
        values["pem_keys"] = tuple(values.get("pem_keys", ()))
        return KubeConfig(**values)


def parse_pem_key(pem: str) -> PublicKey:
    """An RSA or EC public key from a PEM public key or certificate; 400 otherwise."""
    data = pem.strip().encode()
    try:
        key: object = (x509.load_pem_x509_certificate(data).public_key() if b"CERTIFICATE" in data
                       else load_pem_public_key(data))
    except ValueError:
        raise InvalidRequest("pem_keys: an entry is not a PEM public key or certificate") from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise InvalidRequest("pem_keys: only RSA and EC keys can verify service-account tokens")
    return key


def _check_ca(pem: str) -> None:
    try:
        found = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        found = []
    if not found:
        raise InvalidRequest("kubernetes_ca_cert is not a PEM certificate")


def config_from(f: FieldData) -> KubeConfig:
    """A validated config from a write (Vault replaces the whole config on each write)."""
    host = f.get("kubernetes_host") or ""
    if host:
        split_url(host)
    ca = f.get("kubernetes_ca_cert") or ""
    if ca:
        _check_ca(ca)
    pem_keys = tuple(k for k in (f.get("pem_keys") or []) if k.strip())
    if len(pem_keys) > MAX_PEM_KEYS:
        raise InvalidRequest(f"pem_keys: at most {MAX_PEM_KEYS} keys")
    for pem in pem_keys:
        parse_pem_key(pem)
    if not host and not pem_keys:
        raise InvalidRequest("one of kubernetes_host or pem_keys must be set")
    if f.get("use_annotations_as_alias_metadata") and not host:
        raise InvalidRequest("use_annotations_as_alias_metadata needs kubernetes_host (annotations are read "
                             "from the API server)")
    disable_iss = f.get("disable_iss_validation") if f.has("disable_iss_validation") else True
    return KubeConfig(
        kubernetes_host=host,
        kubernetes_ca_cert=ca,
        token_reviewer_jwt=f.get("token_reviewer_jwt") or "",
        pem_keys=pem_keys,
        issuer=f.get("issuer") or "",
        disable_iss_validation=bool(disable_iss),
        disable_local_ca_jwt=bool(f.get("disable_local_ca_jwt")),
        use_annotations_as_alias_metadata=bool(f.get("use_annotations_as_alias_metadata")),
    )


async def load_config(storage: StorageBackend) -> KubeConfig | None:
    raw = await storage.get(CONFIG_KEY)
    return None if raw is None else KubeConfig.from_bytes(raw)
