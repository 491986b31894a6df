"""Sign a template and record the certificate under a serial nobody else holds."""

from __future__ import annotations

from collections.abc import Callable

from cryptography import x509

from strongroom.errors import InternalError
from strongroom.sdk.storage import StorageBackend

from .builder import Template, sign
from .certstore import store_certificate
from .keys import IssuerKey
from .serials import new_serial

_SERIAL_ATTEMPTS = 3


async def sign_and_record(
    storage: StorageBackend,
    template: Template,
    issuer_cert: x509.Certificate | None,
    signing_key: IssuerKey,
    *,
    signature_bits: int,
    random_bytes: Callable[[int], bytes],
    store: bool = True,
) -> x509.Certificate:
    """The signed certificate; with ``store`` it is recorded at ``certs/<serial>`` first-writer-wins.

    A 159-bit random serial colliding is astronomically unlikely, but the
    conditional write makes "a serial names one certificate" a guarantee
    rather than a probability: a taken serial is redrawn and the template
    signed again.
    """
    for _ in range(_SERIAL_ATTEMPTS):
        cert = sign(template, issuer_cert, signing_key, signature_bits)
        if not store or await store_certificate(storage, cert):
            return cert
        template.serial = new_serial(random_bytes)
    raise InternalError("could not allocate an unused certificate serial number")
