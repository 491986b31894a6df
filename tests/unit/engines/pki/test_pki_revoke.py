"""Revocation, the CRL (checked with ``openssl crl`` and ``openssl verify -crl_check``), rotation and tidy."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable, Sequence

import pytest
from cryptography import x509
from pki_support import LIST, PKI, READ, START, UPDATE, YieldingStorage, load_cert

from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.logical import Operation, Request
from strongroom.sdk.storage import Precondition, TxnOp
from strongroom.storage.inmem import InmemBackend

HOUR = 3600


def _crl_pem(pki: PKI) -> str:
    response = pki.call(READ, "crl/pem")
    assert response is not None
    assert response.raw is not None
    return response.raw.body.decode()


def _crl(pki: PKI) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(_crl_pem(pki).encode())


def test_a_revoked_serial_is_in_the_signed_crl(rooted, openssl) -> None:
    leaf = rooted.issue()
    kept = rooted.issue()
    data = rooted.ok(UPDATE, "revoke", {"serial_number": leaf["serial_number"]})
    assert data == {"revocation_time": int(START), "revocation_time_rfc3339": "2027-01-15T08:00:00Z"}
    result = openssl.crl_text(_crl_pem(rooted), ca=rooted.ca_pem())
    assert result.returncode == 0, result.stderr
    assert "verify OK" in result.stdout + result.stderr
    assert "Serial Number: " + leaf["serial_number"].replace(":", "").upper() in result.stdout
    assert kept["serial_number"].replace(":", "").upper() not in result.stdout
    crl = _crl(rooted)
    assert crl.is_signature_valid(load_cert(rooted.ca_pem()).public_key())
    revoked = crl.get_revoked_certificate_by_serial_number(load_cert(leaf["certificate"]).serial_number)
    assert revoked is not None
    assert revoked.revocation_date_utc.timestamp() == START


def test_openssl_verify_with_the_crl_rejects_the_revoked_certificate(rooted, openssl) -> None:
    leaf = rooted.issue()
    kept = rooted.issue()
    rooted.ok(UPDATE, "revoke", {"serial_number": leaf["serial_number"]})
    crl = _crl_pem(rooted)
    revoked = openssl.verify(leaf["certificate"], rooted.ca_pem(), crl=crl)
    assert revoked.returncode != 0
    assert "certificate revoked" in revoked.stdout + revoked.stderr
    assert openssl.verify(kept["certificate"], rooted.ca_pem(), crl=crl).returncode == 0


def test_revoke_by_certificate(rooted) -> None:
    leaf = rooted.issue()
    rooted.ok(UPDATE, "revoke", {"certificate": leaf["certificate"]})
    assert leaf["serial_number"] in rooted.ok(LIST, "certs/revoked")["keys"]


def test_revoke_by_certificate_covers_no_store_certificates(rooted) -> None:
    rooted.role("ephemeral", no_store=True)
    leaf = rooted.issue("ephemeral")
    error = rooted.fail(UPDATE, "revoke", {"serial_number": leaf["serial_number"]}, InvalidRequest)
    assert error.message == f"certificate with serial {leaf['serial_number']} not found"
    rooted.ok(UPDATE, "revoke", {"certificate": leaf["certificate"]})
    assert _crl(rooted).get_revoked_certificate_by_serial_number(load_cert(leaf["certificate"]).serial_number)
    assert rooted.ok(READ, f"cert/{leaf['serial_number']}")["revocation_time"] == int(START)


def test_serials_are_accepted_with_hyphens_and_in_upper_case(rooted) -> None:
    leaf = rooted.issue()
    rooted.ok(UPDATE, "revoke", {"serial_number": leaf["serial_number"].replace(":", "-").upper()})
    assert rooted.ok(LIST, "certs/revoked")["keys"] == [leaf["serial_number"]]


def test_revoking_twice_answers_the_first_revocation(rooted) -> None:
    leaf = rooted.issue()
    first = rooted.ok(UPDATE, "revoke", {"serial_number": leaf["serial_number"]})
    rooted.clock.advance(100)
    assert rooted.ok(UPDATE, "revoke", {"serial_number": leaf["serial_number"]}) == first


@pytest.mark.parametrize(
    ("body", "wording"),
    [
        ({}, "either serial_number or certificate"),
        ({"serial_number": "01", "certificate": "x"}, "either serial_number or certificate"),
        ({"serial_number": "zz:zz"}, "invalid serial_number"),
        ({"serial_number": "01:02:03"}, "certificate with serial 01:02:03 not found"),
        ({"certificate": "not pem"}, "could not be parsed"),
    ],
)
def test_bad_revocations_are_400_and_change_nothing(rooted, body, wording) -> None:
    before = rooted.contents()
    error = rooted.fail(UPDATE, "revoke", body, InvalidRequest)
    assert wording in error.message
    assert rooted.contents() == before


def test_the_ca_cannot_revoke_itself(rooted) -> None:
    serial = rooted.ok(READ, "issuer/default")
    ca_serial = load_cert(serial["certificate"]).serial_number
    before = rooted.contents()
    error = rooted.fail(UPDATE, "revoke", {"serial_number": format(ca_serial, "x")}, InvalidRequest)
    assert "own CA certificate" in error.message
    assert rooted.contents() == before


def test_a_certificate_from_another_ca_cannot_be_revoked_here(rooted) -> None:
    other = PKI()
    other.root()
    other.role()
    foreign = other.issue()
    error = rooted.fail(UPDATE, "revoke", {"certificate": foreign["certificate"]}, InvalidRequest)
    assert error.message == "the certificate was not issued by this mount's CA"


def test_an_expired_certificate_is_not_added_to_the_crl(rooted) -> None:
    rooted.role("short", ttl="1h")
    leaf = rooted.issue("short")
    rooted.clock.advance(2 * HOUR)
    error = rooted.fail(UPDATE, "revoke", {"serial_number": leaf["serial_number"]}, InvalidRequest)
    assert "already expired; refusing to add to CRL" in error.message


def test_crl_rotate_re_signs_with_a_higher_number(rooted, openssl) -> None:
    before = _crl(rooted).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    rooted.clock.advance(HOUR)
    assert rooted.ok(READ, "crl/rotate") == {"success": True}
    crl = _crl(rooted)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == before + 1
    assert crl.last_update_utc.timestamp() == START + HOUR
    assert crl.next_update_utc is not None
    assert crl.next_update_utc.timestamp() == START + HOUR + 72 * HOUR
    assert "verify OK" in openssl.crl_text(_crl_pem(rooted), ca=rooted.ca_pem()).stderr


def test_an_expired_crl_is_rebuilt_when_read(rooted, openssl) -> None:
    leaf = rooted.issue(ttl="720h")
    rooted.ok(UPDATE, "revoke", {"serial_number": leaf["serial_number"]})
    first = _crl(rooted)
    rooted.clock.advance(72 * HOUR)  # exactly at nextUpdate: no longer current
    fresh = _crl(rooted)
    assert fresh.last_update_utc.timestamp() == START + 72 * HOUR
    number = fresh.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == first.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    assert fresh.get_revoked_certificate_by_serial_number(load_cert(leaf["certificate"]).serial_number)
    rooted.clock.advance(HOUR)
    assert _crl(rooted).last_update_utc == fresh.last_update_utc  # current: served as stored


def test_the_der_crl_matches_the_pem_one(rooted, openssl) -> None:
    rooted.ok(UPDATE, "revoke", {"serial_number": rooted.issue()["serial_number"]})
    response = rooted.call(READ, "crl")
    assert response is not None
    assert response.raw is not None
    assert response.raw.content_type == "application/pkix-crl"
    pem_body = "".join(_crl_pem(rooted).splitlines()[1:-1])
    assert base64.b64decode(pem_body) == response.raw.body
    assert openssl.crl_text(response.raw.body, der=True).returncode == 0


def test_crl_numbers_keep_growing_across_a_replaced_ca(rooted) -> None:
    first = _crl(rooted).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    rooted.call(Operation.DELETE, "root")
    rooted.root(common_name="Second")
    second = _crl(rooted)
    assert second.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > first
    assert second.issuer.rfc4514_string() == "CN=Second"


class InterferingStorage(InmemBackend):
    """Runs ``hook`` (another worker's work) right before the next commit of a CRL, once."""

    def __init__(self) -> None:
        super().__init__()
        self.hook: Callable[[], Awaitable[None]] | None = None

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        if self.hook is not None and any(op.key == "crl/state" for op in ops):
            hook, self.hook = self.hook, None
            await hook()
        await super().transaction(ops, preconditions)


def test_a_revocation_racing_a_crl_rebuild_is_not_lost() -> None:
    storage = InterferingStorage()
    mount, other_worker = PKI(storage), PKI(storage)
    mount.root()
    mount.role()
    first, second = mount.issue(), mount.issue()

    async def revoke_second_meanwhile() -> None:
        request = Request(operation=UPDATE, path="revoke", data={"serial_number": second["serial_number"]},
                          storage=storage)
        await other_worker.backend.handle(request)

    # The first revocation lists the revoked serials, then - before its CRL commits - another worker revokes
    # the second certificate and publishes its own CRL. The first commit must notice and rebuild.
    storage.hook = revoke_second_meanwhile
    mount.ok(UPDATE, "revoke", {"serial_number": first["serial_number"]})
    assert storage.hook is None
    crl = _crl(mount)
    for leaf in (first, second):
        assert crl.get_revoked_certificate_by_serial_number(load_cert(leaf["certificate"]).serial_number)


def test_concurrent_revocations_all_reach_the_crl() -> None:
    rooted = PKI(YieldingStorage())
    rooted.root()
    rooted.role()
    serials = [rooted.issue()["serial_number"] for _ in range(6)]

    async def revoke_all() -> None:
        async def one(serial: str) -> None:
            request = Request(operation=UPDATE, path="revoke", data={"serial_number": serial}, storage=rooted.storage)
            await rooted.backend.handle(request)

        await asyncio.gather(*(one(serial) for serial in serials))

    asyncio.run(revoke_all())
    assert sorted(rooted.ok(LIST, "certs/revoked")["keys"]) == sorted(serials)
    crl = _crl(rooted)
    for serial in serials:
        assert crl.get_revoked_certificate_by_serial_number(int(serial.replace(":", ""), 16)) is not None


def test_crl_rotate_without_a_ca_is_400(pki) -> None:
    assert "must be configured with a CA" in pki.fail(READ, "crl/rotate", error=InvalidRequest).message


def test_cert_serial_reports_revocation(rooted) -> None:
    leaf = rooted.issue()
    assert rooted.ok(READ, f"cert/{leaf['serial_number']}") == {
        "certificate": leaf["certificate"], "revocation_time": 0, "revocation_time_rfc3339": "",
    }
    rooted.ok(UPDATE, "revoke", {"serial_number": leaf["serial_number"]})
    data = rooted.ok(READ, f"cert/{leaf['serial_number']}")
    assert data["revocation_time"] == int(START)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", data["revocation_time_rfc3339"])


# --- tidy ------------------------------------------------------------------------------------


def test_tidy_removes_expired_certificates_past_the_safety_buffer(rooted) -> None:
    rooted.role("short", ttl="1h")
    short = rooted.issue("short")
    revoked = rooted.issue("short")
    long_lived = rooted.issue()
    rooted.ok(UPDATE, "revoke", {"serial_number": revoked["serial_number"]})
    rooted.clock.advance(2 * HOUR)
    response = rooted.call(UPDATE, "tidy", {"tidy_cert_store": True, "tidy_revoked_certs": True,
                                            "safety_buffer": "2h"})
    assert response is not None
    assert response.status == 202
    assert rooted.ok(READ, "tidy-status")["cert_store_deleted_count"] == 0  # within the buffer
    rooted.clock.advance(2 * HOUR)
    rooted.call(UPDATE, "tidy", {"tidy_cert_store": True, "tidy_revoked_certs": True, "safety_buffer": "2h"})
    status = rooted.ok(READ, "tidy-status")
    assert status["state"] == "Finished"
    assert status["cert_store_deleted_count"] == 2
    assert status["revoked_cert_deleted_count"] == 1
    listed = rooted.ok(LIST, "certs")["keys"]
    assert long_lived["serial_number"] in listed
    assert short["serial_number"] not in listed
    with pytest.raises(NotFound):
        rooted.call(LIST, "certs/revoked")
    assert _crl(rooted).get_revoked_certificate_by_serial_number(
        load_cert(revoked["certificate"]).serial_number) is None


def test_tidy_needs_an_operation(rooted) -> None:
    assert "at least one operation" in rooted.fail(UPDATE, "tidy", {}, InvalidRequest).message


def test_tidy_status_before_any_tidy_is_inactive(rooted) -> None:
    assert rooted.ok(READ, "tidy-status")["state"] == "Inactive"
