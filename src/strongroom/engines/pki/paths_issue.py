"""Leaf certificates: ``issue/:role`` (the server makes the key), ``sign/:role`` (the caller's CSR)
and ``sign-verbatim(/:role)`` (the CSR's own names, for trusted callers).

Every check runs before any key is generated or anything is stored: the
role's name rules for the common name and each SAN, IP and URI SAN rules, key
type and size, the lifetime rules (see ``validity``). A refused request
leaves storage untouched. With the role's ``generate_lease`` (and not
``no_store``) the answer carries lease terms; leases themselves arrive with
issue #4, until then the terms are rendered as ``lease_duration`` and
expiry does not revoke the certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import LeaseOptions, Operation, Request, Response

from .builder import Template
from .csr import ParsedCSR, key_usage_names, parse_csr
from .fields import NAME_FIELDS, OUTPUT_FIELDS, TTL_FIELDS, cn_as_san, output_format, requested_alt_names
from .issuance import sign_and_record
from .issuer import Issuer
from .keys import IssuerKey, KeySpec, PublicKey, check_public_key, generate_async, key_spec
from .names import check_name, check_names, check_uris, check_uris_syntax, is_ip, parse_ips
from .output import certificate_data
from .paths_roles import ROLE_NAME, require_role
from .role import Role
from .serials import new_serial
from .state import PKIState
from .subject import AltNames, build_name
from .urls import load_urls
from .usages import DEFAULT_LEAF_KEY_USAGE, check_ext_key_usages, check_key_usages, ext_key_usage_oids, parse_oids
from .validity import TTLRequest, Validity, compute

S, B, SL = FieldType.STRING, FieldType.BOOL, FieldType.STRING_LIST
LEAF_FIELDS: dict[str, Field] = {
    **NAME_FIELDS, **TTL_FIELDS, **OUTPUT_FIELDS, "remove_roots_from_chain": Field(B, default=False),
}
CSR_FIELD = {"csr": Field(S, default="")}
VERBATIM_FIELDS: dict[str, Field] = {
    **TTL_FIELDS, **OUTPUT_FIELDS, **CSR_FIELD,
    "remove_roots_from_chain": Field(B, default=False),
    "key_usage": Field(SL, default=list(DEFAULT_LEAF_KEY_USAGE)),
    "ext_key_usage": Field(SL, default=[]),
    "ext_key_usage_oids": Field(SL, default=[]),
}


@dataclass
class Leaf:
    """One leaf issuance in progress: the rules it runs under and the output it asked for."""

    role: Role
    issuer: Issuer
    validity: Validity
    fmt: str
    private_key_format: str = "der"
    key: IssuerKey | None = None


class IssuePaths:
    def __init__(self, state: PKIState) -> None:
        self.state = state

    def paths(self) -> Sequence[Path]:
        return [
            Path("issue/" + ROLE_NAME, {Operation.UPDATE: self.issue}, LEAF_FIELDS,
                 help="Issue a certificate and a new private key under a role."),
            Path("sign/" + ROLE_NAME, {Operation.UPDATE: self.sign}, {**LEAF_FIELDS, **CSR_FIELD},
                 help="Sign a CSR under a role."),
            Path("sign-verbatim(?:/" + ROLE_NAME + ")?", {Operation.UPDATE: self.sign_verbatim}, VERBATIM_FIELDS,
                 help="Sign a CSR with the names it carries (privileged)."),
        ]

    async def issue(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        role = await require_role(storage, fd.get("name"))
        spec = key_spec(role.key_type, role.key_bits)  # "any" cannot generate: a 400 here
        fmt, private_key_format = output_format(fd)
        issuer = await self.state.issuers.load_signing(storage)
        cn = fd.get("common_name")
        alt = self._role_names(role, fd, cn, None)
        leaf = Leaf(role, issuer, self._validity(role, fd, issuer), fmt, private_key_format)
        # Generated only once every check has passed: a refused request costs no key.
        leaf.key = await generate_async(spec)
        return await self._sign(req, fd, leaf, self._template(leaf, cn, alt, leaf.key.public_key()))

    async def sign(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        role = await require_role(storage, fd.get("name"))
        parsed = parse_csr(fd.get("csr"))
        check_public_key(parsed.public_key, KeySpec(role.key_type, role.key_bits))
        fmt, _ = output_format(fd)
        issuer = await self.state.issuers.load_signing(storage)
        # Vault takes the CSR's common name when the role says so, and the request's when the CSR has none.
        cn = (parsed.common_name if role.use_csr_common_name else "") or fd.get("common_name")
        alt = self._role_names(role, fd, cn, parsed)
        leaf = Leaf(role, issuer, self._validity(role, fd, issuer), fmt)
        return await self._sign(req, fd, leaf, self._template(leaf, cn, alt, parsed.public_key))

    async def sign_verbatim(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        role = await require_role(storage, fd.get("name")) if fd.has("name") else Role()
        parsed = parse_csr(fd.get("csr"))
        if parsed.requests_ca:
            raise InvalidRequest("sign-verbatim does not issue CA certificates: use root/sign-intermediate")
        fmt, _ = output_format(fd)
        usages = key_usage_names(parsed.key_usage) if parsed.key_usage is not None else fd.get("key_usage")
        check_key_usages(usages)
        eku = self._verbatim_eku(parsed, fd)
        check_uris_syntax(parsed.alt_names.uris)
        issuer = await self.state.issuers.load_signing(storage)
        leaf = Leaf(role, issuer, self._validity(role, fd, issuer), fmt)
        template = Template(
            subject=parsed.csr.subject, public_key=parsed.public_key,
            serial=new_serial(self.state.ctx.system.random_bytes), validity=leaf.validity,
            alt_names=parsed.alt_names, key_usage=usages, ext_key_usage=eku,
        )
        return await self._sign(req, fd, leaf, template)

    @staticmethod
    def _verbatim_eku(parsed: ParsedCSR, fd: FieldData) -> list[x509.ObjectIdentifier]:
        if parsed.ext_key_usage is not None:
            return list(parsed.ext_key_usage)
        names: list[str] = fd.get("ext_key_usage")
        check_ext_key_usages(names)
        return ext_key_usage_oids(names, parse_oids(fd.get("ext_key_usage_oids"), "ext_key_usage_oids"))

    def _role_names(self, role: Role, fd: FieldData, cn: str, csr: ParsedCSR | None) -> AltNames:
        """The SANs of a role-bound request, each checked against the role (a 400 names the rule broken)."""
        if not cn and role.require_cn:
            raise InvalidRequest(
                'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" '
                'set to true, unless "require_cn" is set to false'
            )
        exclude_cn = fd.get("exclude_cn_from_sans")
        if csr is not None and role.use_csr_sans:
            alt = AltNames(dns=list(csr.alt_names.dns), emails=list(csr.alt_names.emails),
                           ips=list(csr.alt_names.ips), uris=list(csr.alt_names.uris))
            if cn and not exclude_cn and not is_ip(cn) and cn_as_san(cn):
                alt.add_name(cn)
        else:
            alt = requested_alt_names(fd, "" if is_ip(cn) else cn, exclude_cn)
        if cn and is_ip(cn):
            # An IP address as common name is an IP SAN, under the role's IP rules.
            if not exclude_cn:
                for ip in parse_ips([cn]):
                    alt.add_ip(ip)
            if not role.allow_ip_sans:
                raise InvalidRequest("IP Subject Alternative Names are not allowed in this role")
        elif cn:
            check_name(cn, role.name_policy())
        check_names(alt.names(), role.name_policy())
        if alt.ips and not role.allow_ip_sans:
            raise InvalidRequest("IP Subject Alternative Names are not allowed in this role")
        check_uris(alt.uris, role.allowed_uri_sans)
        return alt

    def _validity(self, role: Role, fd: FieldData, issuer: Issuer) -> Validity:
        return compute(
            self.state.now(),
            TTLRequest(ttl=fd.get("ttl"), not_after=fd.get("not_after"), role_ttl=role.ttl,
                       role_max_ttl=role.max_ttl, not_before_duration=role.not_before_duration),
            self.state.mount_limits(issuer.certificate.not_valid_after_utc, issuer.leaf_not_after_behavior),
        )

    def _template(self, leaf: Leaf, cn: str, alt: AltNames, public_key: PublicKey) -> Template:
        role = leaf.role
        flags = [name for name, on in (("ServerAuth", role.server_flag), ("ClientAuth", role.client_flag),
                                       ("CodeSigning", role.code_signing_flag),
                                       ("EmailProtection", role.email_protection_flag)) if on]
        return Template(
            subject=build_name(cn, role.subject_values()), public_key=public_key,
            serial=new_serial(self.state.ctx.system.random_bytes), validity=leaf.validity, alt_names=alt,
            key_usage=list(role.key_usage),
            ext_key_usage=ext_key_usage_oids([*flags, *role.ext_key_usage],
                                             parse_oids(role.ext_key_usage_oids, "ext_key_usage_oids")),
        )

    async def _sign(self, req: Request, fd: FieldData, leaf: Leaf, template: Template) -> Response:
        storage = self.state.storage(req)
        template.urls = await load_urls(storage)
        cert = await sign_and_record(
            storage, template, leaf.issuer.certificate, leaf.issuer.signing_key(),
            signature_bits=leaf.role.signature_bits, random_bytes=self.state.ctx.system.random_bytes,
            store=not leaf.role.no_store,
        )
        data = certificate_data(cert, leaf.issuer.chain, leaf.fmt, key=leaf.key,
                                private_key_format=leaf.private_key_format,
                                remove_roots=fd.get("remove_roots_from_chain"))
        secret = None
        if leaf.role.generate_lease and not leaf.role.no_store:
            ttl = leaf.validity.seconds_left(self.state.now())
            secret = LeaseOptions(ttl=ttl, max_ttl=ttl, renewable=False,
                                  internal={"serial_number": data["serial_number"]})
        return Response(data=data, secret=secret, warnings=leaf.validity.warnings)
