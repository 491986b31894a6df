"""An OIDC issuer run by the test: RS256/ES256/EdDSA signing keys, tokens, and a JWKS/discovery server on 127.0.0.1.

The server counts every fetch, can be told to fail (``misbehaviour``), and
serves the discovery document with whatever ``issuer`` the test sets, so
the code under test meets real HTTP and real signatures, nothing mocked.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from tests.unit.auth.kubernetes.k8s_auth_harness import tls_material

from strongroom.auth.jwt import JwtBackend
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.system import SystemView
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")
R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST
AUDIENCE = "https://strongroom.example"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int, size: int) -> str:
    return b64(value.to_bytes(size, "big"))


def sign(alg: str, key: PrivateKey, signing_input: bytes) -> bytes:
    if alg == "RS256":
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    if alg == "ES256":
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert alg == "EdDSA"
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key.sign(signing_input)


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    return b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode()) + "." + b64(signature)


def public_pem(key: PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def jwk(kid: str, key: PrivateKey) -> dict[str, Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": _int(numbers.n, (numbers.n.bit_length() + 7) // 8), "e": _int(numbers.e, 3)}
    if isinstance(public, ec.EllipticCurvePublicKey):
        point = public.public_numbers()
        return {"kty": "EC", "kid": kid, "crv": "P-256", "x": _int(point.x, 32), "y": _int(point.y, 32)}
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(raw)}


@dataclass
class Issuer:
    """A CI system's OIDC issuer: keys by ``kid``, the JWKS it publishes, and how its server behaves."""

    keys: dict[str, PrivateKey] = field(default_factory=lambda: {
        "rsa-1": rsa.generate_private_key(65537, 2048),
        "ec-1": ec.generate_private_key(ec.SECP256R1()),
        "ed-1": ed25519.Ed25519PrivateKey.generate(),
    })
    #: Set once the server runs; the discovery document names it as the issuer unless ``claimed_issuer`` is set.
    url: str = ""
    claimed_issuer: str = ""
    #: The discovery document's ``jwks_uri`` (empty: this server's ``/keys``).
    jwks_uri: str = ""
    #: ``kid`` values published in the JWKS (None: all of ``keys``).
    published: set[str] | None = None
    #: "" (none), "500", "not-json", "huge", "no-keys", "redirect".
    misbehaviour: str = ""
    cache_control: str = ""
    fetches: list[str] = field(default_factory=list)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk(kid, key) for kid, key in self.keys.items()
                         if self.published is None or kid in self.published]}

    def discovery(self) -> dict[str, Any]:
        return {"issuer": self.claimed_issuer or self.url, "jwks_uri": self.jwks_uri or self.url + "/keys",
                "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {
            "iss": self.url, "sub": "repo:acme/web:ref:refs/heads/main", "aud": AUDIENCE,
            "iat": now, "nbf": now, "exp": now + 300,
            "repository": "acme/web", "ref": "refs/heads/main", "actor": "alice", "run_number": 42,
            "groups": ["ci", "deployers"], "project": {"path": "acme/web", "id": 7},
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def token(self, claims: dict[str, Any] | None = None, *, kid: str = "rsa-1", alg: str | None = None,
              header: dict[str, Any] | None = None, **overrides: Any) -> str:
        key = self.keys[kid]
        alg = alg or ("RS256" if isinstance(key, rsa.RSAPrivateKey)
                      else "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "EdDSA")
        head = header if header is not None else {"alg": alg, "typ": "JWT", "kid": kid}
        body = claims if claims is not None else self.claims(**overrides)
        signing_input = (b64(json.dumps(head).encode()) + "." + b64(json.dumps(body).encode())).encode()
        return compact(head, body, sign(alg, key, signing_input))


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            issuer.fetches.append(self.path)
            if issuer.misbehaviour == "500":
                self._send(500, b"{}")
            elif issuer.misbehaviour == "not-json":
                self._send(200, b"<html>")
            elif issuer.misbehaviour == "redirect":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif issuer.misbehaviour == "huge":
                self._send(200, b" " * (2 * 1024 * 1024))
            elif self.path == "/.well-known/openid-configuration":
                self._send(200, json.dumps(issuer.discovery()).encode())
            elif self.path == "/keys":
                body = {"keys": []} if issuer.misbehaviour == "no-keys" else issuer.jwks()
                self._send(200, json.dumps(body).encode())
            else:
                self._send(404, b"{}")

        def _send(self, status: int, raw: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if issuer.cache_control:
                self.send_header("Cache-Control", issuer.cache_control)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


@contextmanager
def issuer_server(issuer: Issuer, *, tls_ca: list[str] | None = None) -> Iterator[str]:
    """Serve ``issuer``'s discovery document and JWKS on 127.0.0.1; yields (and sets) its URL.

    With ``tls_ca`` (a list the CA PEM is appended to) the server speaks HTTPS with a certificate
    for 127.0.0.1 from a fresh CA.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(issuer))
    scheme = "http"
    if tls_ca is not None:
        with tempfile.TemporaryDirectory() as directory:
            ca_pem, cert_path, key_path = tls_material(directory)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_path, key_path)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        tls_ca.append(ca_pem)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    issuer.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    try:
        yield issuer.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Clock:
    """A clock the test moves (the backend's only time source)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Mount:
    """One JWT auth mount on in-memory storage, allowed to reach loopback (the test's issuer)."""

    def __init__(self, *, allow_loopback: bool = True) -> None:
        self.storage = InmemBackend()
        self.clock = Clock()
        self.ctx = BackendContext(storage=self.storage, system=SystemView(clock=self.clock),
                                  mount_point="auth/jwt/", mount_accessor="auth_jwt_0001")
        self.backend = JwtBackend(self.ctx, egress=EgressPolicy(allow_loopback=allow_loopback))

    async def call(self, op: Operation, path: str, data: dict[str, Any] | None = None, *,
                   remote_addr: str = "10.1.2.3") -> Response | None:
        req = Request(operation=op, path=path, data=dict(data or {}), storage=self.storage,
                      remote_addr=remote_addr, mount_point=self.ctx.mount_point,
                      mount_accessor=self.ctx.mount_accessor, unauthenticated=path == "login")
        if op is U and await self.backend.existence(req) is False:
            req.operation = C
        return await self.backend.handle(req)

    async def data(self, op: Operation, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.call(op, path, body)
        assert response is not None
        assert response.data is not None
        return response.data

    async def login(self, jwt: str, role: str = "ci", **kwargs: Any) -> Response:
        response = await self.call(U, "login", {"role": role, "jwt": jwt}, **kwargs)
        assert response is not None
        assert response.auth is not None
        return response


def ci_role(**overrides: Any) -> dict[str, Any]:
    """A role like one for a CI pipeline: audience, repository and branch bound, claims mapped."""
    role: dict[str, Any] = {
        "role_type": "jwt", "user_claim": "sub", "bound_audiences": [AUDIENCE],
        "bound_claims": {"repository": "acme/web"}, "claim_mappings": {"actor": "actor", "ref": "ref"},
        "groups_claim": "groups", "token_policies": ["deploy"], "token_ttl": "10m",
    }
    role.update(overrides)
    return {k: v for k, v in role.items() if v is not None}
