"""The cert auth method driven directly (no HTTP): entries in Vault's shapes, logins by certificate."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from cert_factory import CA, NOW

from strongroom.auth.cert import CertAuthBackend
from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")
R, U, D, L = Operation.READ, Operation.UPDATE, Operation.DELETE, Operation.LIST


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Mount:
    def __init__(self) -> None:
        self.storage = InmemBackend()
        self.clock = ManualClock(NOW.timestamp())
        self.ctx = BackendContext(storage=self.storage, system=SystemView(clock=self.clock),
                                  mount_point="auth/cert/", mount_accessor="auth_cert_0001")
        self.backend = CertAuthBackend(self.ctx)

    async def call(self, op: Operation, path: str, data: dict[str, Any] | None = None, *,
                   peer: str = "", remote_addr: str = "192.0.2.10") -> Response | None:
        req = Request(operation=op, path=path, data=dict(data or {}), storage=self.storage,
                      remote_addr=remote_addr, mount_point=self.ctx.mount_point,
                      mount_accessor=self.ctx.mount_accessor, peer_certificate=peer, unauthenticated=True)
        return await self.backend.handle(req)

    async def login(self, peer: str, name: str = "") -> Response:
        answer = await self.call(U, "login", {"name": name} if name else {}, peer=peer)
        assert answer is not None
        return answer


def test_entry_round_trips_in_vaults_shape() -> None:
    ca = CA.create()

    async def scenario() -> None:
        m = Mount()
        await m.call(U, "certs/web", {"certificate": ca.pem, "allowed_common_names": "web-*,api",
                                      "token_policies": "web", "token_ttl": "1h", "display_name": "Web"})
        answer = await m.call(R, "certs/web")
        assert answer is not None
        assert answer.data is not None
        assert answer.data["certificate"] == ca.pem
        assert answer.data["allowed_common_names"] == ["web-*", "api"]
        assert answer.data["token_policies"] == ["web"]
        assert answer.data["token_ttl"] == 3600
        assert answer.data["display_name"] == "Web"
        listed = await m.call(L, "certs/")
        assert listed is not None
        assert listed.data == {"keys": ["web"]}
        await m.call(D, "certs/web")
        with pytest.raises(NotFound):
            await m.call(R, "certs/web")

    run(scenario())


def test_update_keeps_fields_not_given() -> None:
    ca = CA.create()

    async def scenario() -> None:
        m = Mount()
        await m.call(U, "certs/web", {"certificate": ca.pem, "allowed_dns_sans": ["*.example.com"]})
        await m.call(U, "certs/web", {"token_policies": ["p"]})
        answer = await m.call(R, "certs/web")
        assert answer is not None
        assert answer.data is not None
        assert answer.data["allowed_dns_sans"] == ["*.example.com"]
        assert answer.data["certificate"] == ca.pem

    run(scenario())


BAD_PEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"


@pytest.mark.parametrize("certificate", ["", "not a certificate", BAD_PEM])
def test_entry_without_a_pem_certificate_is_refused(certificate: str) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidRequest):
            await Mount().call(U, "certs/web", {"certificate": certificate})

    run(scenario())


def test_bad_required_extension_oid_is_refused() -> None:
    ca = CA.create()

    async def scenario() -> None:
        with pytest.raises(InvalidRequest):
            await Mount().call(U, "certs/web", {"certificate": ca.pem, "required_extensions": ["not-an-oid:x"]})

    run(scenario())


def test_login_with_a_cert_from_the_trusted_ca_gets_the_entrys_policies() -> None:
    ca = CA.create()
    client = ca.client("web-1", dns=["web-1.example.com"])

    async def scenario() -> None:
        m = Mount()
        await m.call(U, "certs/web", {"certificate": ca.pem, "token_policies": "web,db", "token_ttl": 600,
                                      "allowed_common_names": "web-*"})
        answer = await m.login(client.pem)
        assert answer.auth is not None
        assert answer.auth.policies == ["db", "web"]
        assert answer.auth.ttl == 600
        assert answer.auth.display_name == "web"
        assert answer.auth.metadata["cert_name"] == "web"
        assert answer.auth.metadata["common_name"] == "web-1"
        assert answer.auth.alias_name == "web-1"

    run(scenario())


def test_login_without_a_name_picks_the_entry_whose_constraints_match() -> None:
    ca = CA.create()

    async def scenario() -> None:
        m = Mount()
        await m.call(U, "certs/a-web", {"certificate": ca.pem, "allowed_common_names": "web", "token_policies": "w"})
        await m.call(U, "certs/b-db", {"certificate": ca.pem, "allowed_common_names": "db", "token_policies": "d"})
        answer = await m.login(ca.client("db").pem)
        assert answer.auth is not None
        assert answer.auth.policies == ["d"]

    run(scenario())


def test_pinned_leaf_certificate_logs_in() -> None:
    ca = CA.create()
    client = ca.client("machine-7")

    async def scenario() -> None:
        m = Mount()
        await m.call(U, "certs/pinned", {"certificate": client.pem, "token_policies": "m"})
        answer = await m.login(client.pem)
        assert answer.auth is not None
        assert answer.auth.metadata["cert_name"] == "pinned"
        with pytest.raises(InvalidRequest):  # another leaf of the same CA is not the pinned one
            await m.login(ca.client("machine-7").pem)

    run(scenario())


@pytest.mark.parametrize(("constraint", "patterns", "client_kwargs", "allowed"), [
    ("allowed_names", ["*.example.com"], {"dns": ["a.example.com"]}, True),
    ("allowed_names", ["svc"], {}, True),  # matches the CN
    ("allowed_names", ["ops@example.com"], {"emails": ["ops@example.com"]}, True),
    ("allowed_names", ["*.example.com"], {"dns": ["a.example.org"]}, False),
    ("allowed_dns_sans", ["*.internal"], {"dns": ["x.internal"]}, True),
    ("allowed_dns_sans", ["*.internal"], {}, False),
    ("allowed_email_sans", ["*@example.com"], {"emails": ["a@example.com"]}, True),
    ("allowed_email_sans", ["*@example.com"], {"emails": ["a@evil.com"]}, False),
    ("allowed_uri_sans", ["spiffe://prod/*"], {"uris": ["spiffe://prod/web"]}, True),
    ("allowed_uri_sans", ["spiffe://prod/*"], {"uris": ["spiffe://dev/web"]}, False),
    ("allowed_common_names", ["svc"], {}, True),
    ("allowed_common_names", ["other"], {}, False),
])
def test_name_constraints(constraint: str, patterns: list[str], client_kwargs: dict[str, Any], allowed: bool) -> None:
    ca = CA.create()
    client = ca.client("svc", **client_kwargs)

    async def scenario() -> None:
        m = Mount()
        await m.call(U, "certs/r", {"certificate": ca.pem, constraint: patterns})
        if allowed:
            assert (await m.login(client.pem)).auth is not None
        else:
            with pytest.raises(InvalidRequest, match="no chain matching all constraints"):
                await m.login(client.pem)

    run(scenario())


def test_required_extension_must_be_present_with_a_matching_value() -> None:
    from cryptography import x509

    ca = CA.create()
    oid = "1.3.6.1.4.1.55555.1"
    value = b"\x0c\x04prod"  # DER UTF8String "prod"
    tagged = ca.client("svc", extra=[x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)])
    plain = ca.client("svc")

    async def scenario() -> None:
        m = Mount()
        await m.call(U, "certs/r", {"certificate": ca.pem, "required_extensions": [f"{oid}:pr*"]})
        assert (await m.login(tagged.pem)).auth is not None
        with pytest.raises(InvalidRequest):
            await m.login(plain.pem)
        await m.call(U, "certs/r", {"required_extensions": [f"{oid}:dev"]})
        with pytest.raises(InvalidRequest):
            await m.login(tagged.pem)

    run(scenario())


def test_token_bound_cidrs_apply_to_login() -> None:
    ca = CA.create()
    client = ca.client("svc")

    async def scenario() -> None:
        m = Mount()
        await m.call(U, "certs/r", {"certificate": ca.pem, "token_bound_cidrs": ["10.0.0.0/8"]})
        with pytest.raises(InvalidRequest):
            await m.call(U, "login", {}, peer=client.pem, remote_addr="192.0.2.1")
        answer = await m.call(U, "login", {}, peer=client.pem, remote_addr="10.1.2.3")
        assert answer is not None
        assert answer.auth is not None

    run(scenario())
