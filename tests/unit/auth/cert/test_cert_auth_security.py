"""Negative cases for cert auth logins (SECURITY.md: auth bypass by attacker-shaped input, CVE-2025-6037)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from cert_factory import CA, NOW, Client
from cryptography.x509.oid import ExtendedKeyUsageOID
from test_cert_auth_backend import Mount, U, run

from strongroom.auth.cert.backend import NO_CERTIFICATE, NO_MATCH
from strongroom.errors import InvalidRequest

TRUSTED = CA.create("Trusted CA")
OTHER = CA.create("Other CA")
GOOD = TRUSTED.client("web-1", dns=["web-1.example.com"])


def _signed_by_a_leaf() -> str:
    """A certificate whose issuer is GOOD (a non-CA leaf of the trusted CA)."""
    fake_ca = CA(GOOD.cert, GOOD.key)
    return fake_ca.client("web-1").pem


CASES: dict[str, tuple[Callable[[], str], dict[str, str], str]] = {
    "no client certificate": (lambda: "", {}, NO_CERTIFICATE),
    "garbage instead of a certificate": (lambda: "-----BEGIN CERTIFICATE-----\nZm9v\n-----END CERTIFICATE-----\n",
                                         {}, NO_CERTIFICATE),
    "certificate from an untrusted CA": (lambda: OTHER.client("web-1").pem, {}, NO_CERTIFICATE),
    "same subject and CA name, different key": (lambda: CA.create("Trusted CA").client("web-1").pem,
                                                {}, NO_CERTIFICATE),
    "expired certificate": (lambda: TRUSTED.client("web-1", now=NOW - datetime.timedelta(days=60), days=30).pem,
                            {}, NO_CERTIFICATE),
    "not yet valid certificate": (lambda: TRUSTED.client("web-1", now=NOW + datetime.timedelta(days=2)).pem,
                                  {}, NO_CERTIFICATE),
    "server-auth-only certificate": (lambda: TRUSTED.client("web-1", usages=[ExtendedKeyUsageOID.SERVER_AUTH]).pem,
                                     {}, NO_CERTIFICATE),
    "issued by a leaf of the trusted CA": (_signed_by_a_leaf, {}, NO_CERTIFICATE),
    "common name not allowed": (lambda: TRUSTED.client("db-1", dns=["web-1.example.com"]).pem, {}, NO_MATCH),
    "DNS SAN not allowed": (lambda: TRUSTED.client("web-1", dns=["web-1.evil.com"]).pem, {}, NO_MATCH),
    "matches a different entry than the one named": (lambda: TRUSTED.client("ops-1").pem, {"name": "web"}, NO_MATCH),
    "forged name of an entry that does not exist": (lambda: GOOD.pem, {"name": "admin"}, NO_CERTIFICATE),
    "forged name with a path": (lambda: GOOD.pem, {"name": "../ops"}, NO_CERTIFICATE),
    "oversized name": (lambda: GOOD.pem, {"name": "w" * 100_000}, NO_CERTIFICATE),
}


def _mount_with_entries() -> Mount:
    m = Mount()

    async def setup() -> None:
        await m.call(U, "certs/web", {"certificate": TRUSTED.pem, "allowed_common_names": "web-*",
                                      "allowed_dns_sans": "*.example.com", "token_policies": "web"})
        await m.call(U, "certs/ops", {"certificate": TRUSTED.pem, "allowed_common_names": "ops-*",
                                      "token_policies": "ops"})

    run(setup())
    return m


@pytest.mark.parametrize("case", list(CASES))
def test_refused_login(case: str) -> None:
    make_peer, body, message = CASES[case]
    m = _mount_with_entries()
    peer = make_peer()

    async def scenario() -> None:
        with pytest.raises(InvalidRequest) as refused:
            await m.call(U, "login", dict(body), peer=peer)
        assert refused.value.message == message  # fixed text: nothing from the request is echoed

    run(scenario())


def test_the_good_certificate_logs_in_to_the_right_entry() -> None:
    m = _mount_with_entries()

    async def scenario() -> None:
        answer = await m.login(GOOD.pem)
        assert answer.auth is not None
        assert answer.auth.policies == ["web"]
        named = await m.login(GOOD.pem, name="web")
        assert named.auth is not None
        assert named.auth.policies == ["web"]

    run(scenario())


def test_a_certificate_in_the_request_body_is_ignored() -> None:
    m = _mount_with_entries()

    async def scenario() -> None:
        for field in ("certificate", "peer_certificate", "client_cert"):
            with pytest.raises(InvalidRequest, match=NO_CERTIFICATE):
                await m.call(U, "login", {field: GOOD.pem}, peer="")

    run(scenario())


def test_pinned_certificate_still_needs_the_common_name_check() -> None:
    """CVE-2025-6037: a pinned (non-CA) certificate entry with allowed_common_names must check the CN."""
    pinned = TRUSTED.client("intruder")
    m = Mount()

    async def scenario() -> None:
        await m.call(U, "certs/pinned", {"certificate": pinned.pem, "allowed_common_names": "web-*",
                                         "token_policies": "admin"})
        with pytest.raises(InvalidRequest, match=NO_MATCH):
            await m.login(pinned.pem)

    run(scenario())


def test_an_expired_trusted_ca_trusts_nothing() -> None:
    old = CA.create("Old CA", now=NOW - datetime.timedelta(days=4000))
    client: Client = old.client("web-1", now=NOW - datetime.timedelta(days=1), days=30)
    m = Mount()

    async def scenario() -> None:
        await m.call(U, "certs/old", {"certificate": old.pem})
        with pytest.raises(InvalidRequest, match=NO_CERTIFICATE):
            await m.login(client.pem)

    run(scenario())


def test_the_certificate_expires_on_the_mount_clock() -> None:
    m = _mount_with_entries()

    async def scenario() -> None:
        assert (await m.login(GOOD.pem)).auth is not None
        m.clock.now += 31 * 86400
        with pytest.raises(InvalidRequest, match=NO_CERTIFICATE):
            await m.login(GOOD.pem)

    run(scenario())


def test_a_certificate_with_a_malformed_extension_is_refused_not_a_crash() -> None:
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID

    broken_san = x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x05garbage")
    client = TRUSTED.client("web-1", extra=[broken_san])
    m = _mount_with_entries()

    async def scenario() -> None:
        with pytest.raises(InvalidRequest, match=NO_CERTIFICATE):
            await m.login(client.pem)

    run(scenario())
