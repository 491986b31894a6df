"""Every built-in logical backend runs the shared logical-backend conformance suite."""

from __future__ import annotations

import os
import time
from typing import ClassVar

from cryptography.hazmat.primitives.serialization import Encoding
from tests.unit.auth.jwt.jwt_auth_harness import Issuer, ci_role, public_pem
from tests.unit.auth.kubernetes.k8s_auth_harness import Cluster

from strongroom.auth.approle import AppRoleBackend
from strongroom.auth.cert import CertAuthBackend
from strongroom.auth.jwt import JwtBackend
from strongroom.auth.kubernetes import KubernetesBackend
from strongroom.auth.userpass import UserpassBackend
from strongroom.auth.userpass.hashing import Argon2Params, PasswordHashing
from strongroom.cli.commands.tls_bootstrap import bootstrap
from strongroom.core.tokens.backend import TokenBackend
from strongroom.core.tokens.store import TokenStore
from strongroom.engines.kv import KVBackend
from strongroom.engines.pki import PKIBackend
from strongroom.engines.transit import TransitBackend
from strongroom.sdk.backend_testing import LogicalBackendConformance
from strongroom.sdk.logical import BackendContext, LogicalBackend, Operation
from strongroom.sdk.storage import StorageBackend
from strongroom.storage.inmem import InmemBackend

Samples = tuple[tuple[Operation, str, dict[str, object]], ...]
R, U, L, D, P = Operation.READ, Operation.UPDATE, Operation.LIST, Operation.DELETE, Operation.PATCH


class InmemConformance(LogicalBackendConformance):
    def make_storage(self) -> StorageBackend:
        return InmemBackend()


class TestKVv1Conformance(InmemConformance):
    sample_paths: ClassVar[Samples] = ((U, "app/db", {"password": "x"}), (R, "app/db", {}), (D, "app/db", {}))
    unsupported = (P, "app/db")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        ctx.options = {"version": "1"}
        return KVBackend(ctx)


class TestKVv2Conformance(InmemConformance):
    sample_paths: ClassVar[Samples] = (
        (U, "config", {"max_versions": 3}),
        (R, "config", {}),
        (U, "data/app", {"data": {"k": "v"}}),
        (R, "data/app", {}),
    )
    unsupported = (L, "config")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        ctx.options = {"version": "2"}
        return KVBackend(ctx)


class TestTokenBackendConformance(InmemConformance):
    sample_paths: ClassVar[Samples] = ((U, "roles/ci", {"allowed_policies": ["ci"]}), (R, "roles/ci", {}))
    unsupported = (D, "lookup-self")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        store = TokenStore(InmemBackend(), clock=time.time, random_bytes=os.urandom)
        return TokenBackend(ctx, store)


class TestPKIConformance(InmemConformance):
    sample_paths: ClassVar[Samples] = (
        (U, "root/generate/internal", {"common_name": "ca.example.com", "key_type": "ec", "ttl": "240h"}),
        (U, "roles/web", {"allowed_domains": "example.com", "allow_subdomains": True, "key_type": "ec", "ttl": "1h"}),
        (U, "issue/web", {"common_name": "www.example.com"}),
        (R, "ca/pem", {}),
        (R, "crl", {}),
    )
    unsupported = (D, "ca/pem")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        return PKIBackend(ctx)


class TestTransitConformance(InmemConformance):
    sample_paths: ClassVar[Samples] = (
        (U, "keys/k", {"type": "aes256-gcm96"}),
        (R, "keys/k", {}),
        (L, "keys", {}),
        (U, "encrypt/k", {"plaintext": "aGVsbG8="}),
        (U, "hmac/k", {"input": "aGVsbG8="}),
        (U, "keys/k/rotate", {}),
        (U, "hash", {"input": "aGVsbG8="}),
        (U, "random", {}),
    )
    unsupported = (D, "encrypt/k")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        return TransitBackend(ctx)


class TestUserpassConformance(InmemConformance):
    sample_paths: ClassVar[Samples] = (
        (U, "users/bob", {"password": "pw", "token_policies": "dev"}),
        (R, "users/bob", {}),
        (L, "users/", {}),
        (U, "users/bob/policies", {"policies": "ops"}),
        (U, "login/bob", {"password": "pw"}),
        (D, "users/bob", {}),
    )
    unsupported = (R, "login/bob")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        return UserpassBackend(ctx, hashing=PasswordHashing(Argon2Params(time_cost=1, memory_cost=64)))


class TestAppRoleConformance(InmemConformance):
    sample_paths: ClassVar[Samples] = (
        (U, "role/app", {"token_policies": "dev", "role_id": "app-role-id"}),
        (R, "role/app", {}),
        (R, "role/app/role-id", {}),
        (U, "role/app/custom-secret-id", {"secret_id": "app-secret-id"}),
        (L, "role/app/secret-id/", {}),
        (U, "login", {"role_id": "app-role-id", "secret_id": "app-secret-id"}),
        (U, "tidy/secret-id", {}),
        (D, "role/app", {}),
    )
    unsupported = (D, "login")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        return AppRoleBackend(ctx)


_K8S = Cluster()


class TestKubernetesAuthConformance(InmemConformance):
    sample_paths: ClassVar[Samples] = (
        (U, "config", {"pem_keys": _K8S.pem_keys()}),
        (R, "config", {}),
        (U, "role/api", {"bound_service_account_names": "api", "bound_service_account_namespaces": "payments"}),
        (R, "role/api", {}),
        (L, "role/", {}),
        # Signed for the suite's manual clock (ManualClock starts at 1_800_000_000).
        (U, "login", {"role": "api", "jwt": _K8S.token(_K8S.claims(now=1_800_000_000), alg="ES256")}),
        (D, "role/api", {}),
    )
    unsupported = (D, "login")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        return KubernetesBackend(ctx)


_CERT_CA = bootstrap(["localhost"]).ca_cert.public_bytes(Encoding.PEM).decode()


class TestCertAuthConformance(InmemConformance):
    # login needs the TLS connection's certificate, which sample data cannot carry: tested in tests/unit/auth/cert.
    sample_paths: ClassVar[Samples] = (
        (U, "certs/web", {"certificate": _CERT_CA, "allowed_common_names": "web-*", "token_policies": "web"}),
        (R, "certs/web", {}),
        (L, "certs/", {}),
        (D, "certs/web", {}),
    )
    unsupported = (D, "login")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        return CertAuthBackend(ctx)


_JWT = Issuer()


class TestJwtAuthConformance(InmemConformance):
    sample_paths: ClassVar[Samples] = (
        (U, "config", {"jwt_validation_pubkeys": [public_pem(_JWT.keys["ec-1"])]}),
        (R, "config", {}),
        (U, "role/ci", ci_role()),
        (R, "role/ci", {}),
        (L, "role/", {}),
        # Signed for the suite's manual clock (ManualClock starts at 1_800_000_000).
        (U, "login", {"role": "ci", "jwt": _JWT.token(kid="ec-1", iat=1_800_000_000, nbf=1_800_000_000,
                                                      exp=1_800_000_300)}),
        (D, "role/ci", {}),
    )
    unsupported = (D, "login")

    def make_backend(self, ctx: BackendContext) -> LogicalBackend:
        return JwtBackend(ctx)
