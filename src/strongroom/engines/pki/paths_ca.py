"""Creating the mount's CA: ``root/generate/:type``, ``intermediate/generate/:type``,
``root/sign-intermediate`` and ``DELETE root``.

``type`` is ``internal`` (the private key never leaves the server) or
``exported`` (it is returned once, in this response, and never again). A mount
holds one CA: generating over an existing one answers 200 with only a warning
and changes nothing, as Vault did before multi-issuer mounts (1.11).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography import x509

from strongroom.errors import InvalidRequest, StorageConflict
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response
from strongroom.sdk.storage import TxnOp

from .builder import Template, sign
from .codec import cert_der, new_id
from .crl import next_crl_op
from .csr import key_usage_names, parse_csr
from .fields import (
    CA_FIELDS,
    KEY_FIELDS,
    issuer_name,
    not_before_duration,
    output_format,
    requested_alt_names,
    subject_values,
)
from .issuance import sign_and_record
from .issuer import ISSUER_KEY, PENDING_KEY, SIGNING_KEY, Issuer, IssuerStore, key_entry
from .keys import IssuerKey, PrivateKeyPEM, generate_async, key_spec, signature_hash
from .names import check_uris_syntax
from .output import certificate_data, csr_data
from .serials import new_serial, storage_name
from .state import PKIState
from .subject import AltNames, build_name
from .urls import load_urls
from .usages import check_key_usages
from .validity import TTLRequest, compute

TYPES = ("internal", "exported")
EXISTING_CA_WARNING = (
    "Refusing to generate over an existing CA certificate; this mount holds one CA. "
    "To replace it, DELETE {mount}root first (certificates it issued stay valid until they expire)."
)


def _ca_type(fd: FieldData) -> str:
    kind: str = fd.get("type")
    if kind not in TYPES:
        raise InvalidRequest("invalid type: must be internal or exported")
    return kind


def _common_name(fd: FieldData) -> str:
    cn: str = fd.get("common_name")
    if not cn:
        raise InvalidRequest("the common_name field is required")
    return cn


def _ca_extras(fd: FieldData) -> tuple[list[str], int, int]:
    """Validated ``key_usage``, ``max_path_length`` and ``signature_bits`` of a CA request."""
    usages: list[str] = fd.get("key_usage")
    check_key_usages(usages)
    path_length: int = fd.get("max_path_length")
    if path_length < -1:
        raise InvalidRequest("invalid max_path_length: -1 (no limit) or a non-negative number")
    bits: int = fd.get("signature_bits")
    if bits not in (0, 256, 384, 512):
        raise InvalidRequest("invalid signature_bits: must be 0, 256, 384 or 512")
    return usages, path_length, bits


def _ca_alt_names(fd: FieldData, cn: str) -> AltNames:
    alt = requested_alt_names(fd, cn, fd.get("exclude_cn_from_sans"))
    check_uris_syntax(alt.uris)
    return alt


class CAPaths:
    def __init__(self, state: PKIState) -> None:
        self.state = state

    def paths(self) -> Sequence[Path]:
        generation = {**CA_FIELDS, **KEY_FIELDS}
        return [
            Path(r"root/generate/(?P<type>\w+)", {Operation.UPDATE: self.generate_root}, generation,
                 help="Generate a self-signed root CA certificate and key."),
            Path(r"intermediate/generate/(?P<type>\w+)", {Operation.UPDATE: self.generate_intermediate}, generation,
                 help="Generate a key and a CSR for an intermediate CA."),
            Path(r"root/sign-intermediate", {Operation.UPDATE: self.sign_intermediate},
                 {**CA_FIELDS, "csr": Field(FieldType.STRING, default=""),
                  "use_csr_values": Field(FieldType.BOOL, default=False)},
                 help="Sign an intermediate CA's CSR with this mount's CA."),
            Path(r"root", {Operation.DELETE: self.delete_root},
                 help="Delete the mount's CA certificate and key (issued certificates stay)."),
        ]

    def _refusal(self) -> Response:
        return Response(warnings=[EXISTING_CA_WARNING.format(mount=self.state.ctx.mount_point)])

    @staticmethod
    async def _key(fd: FieldData) -> IssuerKey:
        return await generate_async(key_spec(fd.get("key_type"), fd.get("key_bits")))

    async def generate_root(self, req: Request, fd: FieldData) -> Response:
        kind = _ca_type(fd)
        storage = self.state.storage(req)
        if await storage.get(ISSUER_KEY) is not None:
            return self._refusal()
        cn = _common_name(fd)
        fmt, private_key_format = output_format(fd)
        key_spec(fd.get("key_type"), fd.get("key_bits"))
        name = issuer_name(fd)
        usages, path_length, signature_bits = _ca_extras(fd)
        alt = _ca_alt_names(fd, cn)
        now = self.state.now()
        validity = compute(
            now, TTLRequest(ttl=fd.get("ttl"), not_after=fd.get("not_after"),
                            not_before_duration=not_before_duration(fd)),
            self.state.mount_limits(),
        )
        key = await self._key(fd)
        template = Template(
            subject=build_name(cn, subject_values(fd)), public_key=key.public_key(),
            serial=new_serial(self.state.ctx.system.random_bytes), validity=validity, alt_names=alt,
            key_usage=usages, is_ca=True, max_path_length=path_length,
            permitted_dns_domains=fd.get("permitted_dns_domains"), urls=await load_urls(storage),
        )
        cert = sign(template, None, key, signature_bits)
        random_bytes = self.state.ctx.system.random_bytes
        issuer = Issuer(issuer_id=new_id(random_bytes), key_id=new_id(random_bytes), certificate=cert,
                        chain=[cert], issuer_name=name, key=key)
        crl_op, crl_condition = await next_crl_op(storage, issuer, now)
        try:
            await IssuerStore.install(
                storage, issuer, PrivateKeyPEM.of(key),
                extra=[crl_op, TxnOp("certs/" + storage_name(cert.serial_number), cert_der(cert))],
                preconditions=[crl_condition],
            )
        except StorageConflict:
            if await storage.get(ISSUER_KEY) is not None:
                return self._refusal()  # another worker installed a CA meanwhile
            raise
        data = certificate_data(cert, [cert], fmt, key=key if kind == "exported" else None,
                                private_key_format=private_key_format, with_chain=False)
        data.update(issuer_fields(issuer), key_name=fd.get("key_name"))
        return Response(data=data, warnings=validity.warnings)

    async def generate_intermediate(self, req: Request, fd: FieldData) -> Response:
        kind = _ca_type(fd)
        storage = self.state.storage(req)
        if await storage.get(ISSUER_KEY) is not None:
            return self._refusal()
        cn = _common_name(fd)
        fmt, private_key_format = output_format(fd)
        key_spec(fd.get("key_type"), fd.get("key_bits"))
        _, _, signature_bits = _ca_extras(fd)
        alt = _ca_alt_names(fd, cn)
        key = await self._key(fd)
        builder = x509.CertificateSigningRequestBuilder().subject_name(build_name(cn, subject_values(fd)))
        sans = alt.extension()
        if sans is not None:
            builder = builder.add_extension(sans, critical=False)
        csr = builder.sign(key, signature_hash(key, signature_bits))
        key_id = new_id(self.state.ctx.system.random_bytes)
        # The newest CSR's key wins: set-signed accepts the certificate for the key of the last CSR handed out.
        await storage.put(PENDING_KEY, key_entry(key_id, PrivateKeyPEM.of(key)))
        data = csr_data(csr, fmt, key if kind == "exported" else None, private_key_format)
        data.update(key_id=key_id, key_name=fd.get("key_name"))
        return Response(data=data)

    async def sign_intermediate(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        issuer = await self.state.issuers.load_signing(storage)
        parsed = parse_csr(fd.get("csr"))
        fmt, _ = output_format(fd)
        usages, path_length, signature_bits = _ca_extras(fd)
        if fd.get("use_csr_values"):
            subject = parsed.csr.subject
            alt = parsed.alt_names
            if parsed.key_usage is not None:
                usages = [*usages, *key_usage_names(parsed.key_usage)]
        else:
            cn = _common_name(fd)
            subject = build_name(cn, subject_values(fd))
            alt = _ca_alt_names(fd, cn)
        # An intermediate never outlives its parent: Vault truncates here whatever the issuer's leaf setting.
        validity = compute(
            self.state.now(),
            TTLRequest(ttl=fd.get("ttl"), not_after=fd.get("not_after"), not_before_duration=not_before_duration(fd)),
            self.state.mount_limits(issuer.certificate.not_valid_after_utc, "truncate"),
        )
        template = Template(
            subject=subject, public_key=parsed.public_key,
            serial=new_serial(self.state.ctx.system.random_bytes), validity=validity, alt_names=alt,
            key_usage=usages, is_ca=True, max_path_length=path_length,
            permitted_dns_domains=fd.get("permitted_dns_domains"), urls=await load_urls(storage),
        )
        cert = await sign_and_record(
            storage, template, issuer.certificate, issuer.signing_key(),
            signature_bits=signature_bits, random_bytes=self.state.ctx.system.random_bytes,
        )
        return Response(data=certificate_data(cert, issuer.chain, fmt), warnings=validity.warnings)

    async def delete_root(self, req: Request, fd: FieldData) -> None:
        storage = self.state.storage(req)
        # crl/state stays: CRL numbers keep growing under the next CA, and read paths serve no CRL without a CA.
        await storage.transaction([TxnOp(key, None) for key in (ISSUER_KEY, SIGNING_KEY, PENDING_KEY)])
        self.state.issuers.clear()


def issuer_fields(issuer: Issuer) -> dict[str, Any]:
    return {"issuer_id": issuer.issuer_id, "issuer_name": issuer.issuer_name, "key_id": issuer.key_id}
