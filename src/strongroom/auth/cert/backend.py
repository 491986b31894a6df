"""The ``cert`` auth method (Vault's TLS certificates auth method): machine identity over mTLS.

Paths (relative to the mount):

* ``certs/`` (LIST), ``certs/:name`` (read, create/update, delete): a trusted certificate entry
  with ``certificate`` (PEM: a CA that signs client certificates, or a pinned client
  certificate), ``allowed_names``, ``allowed_common_names``, ``allowed_dns_sans``,
  ``allowed_email_sans``, ``allowed_uri_sans``, ``allowed_organizational_units``,
  ``required_extensions``, ``display_name`` and the token_* settings;
* ``login`` with optional ``{"name": ...}``, reachable without a token.

The client certificate comes only from the TLS connection (``Request.peer_certificate``, set by
the HTTP edge after the listener's handshake verified it); nothing in the request body can supply
or replace it. A login succeeds for the first entry (by name order, or only the named one) that
both trusts the certificate *and* whose constraints it satisfies; pinning never skips the
constraints (CVE-2025-6037). Every refusal is 400 with one of two fixed messages that echo
nothing from the request.
"""

from __future__ import annotations

import datetime
import logging

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from strongroom.auth.cert.matching import Constraints, is_trusted, satisfies_constraints
from strongroom.auth.cert.roles import CertRole, CertRoles, checked_name, parse_certificates
from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import Auth, Operation, Request, Response
from strongroom.sdk.token_params import MAX_LIST_ITEMS, TokenParams, token_fields

log = logging.getLogger("strongroom.auth.cert")

R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST

NO_CERTIFICATE = "invalid certificate or no client certificate supplied"
NO_MATCH = "no chain matching all constraints could be found for this login certificate"
MAX_PATTERN_CHARS = 1024

_NAME = r"(?P<name>[^/]+)"
_CONSTRAINT_FIELDS = {
    "allowed_names": Field(FieldType.STRING_LIST, default=[], description="Globs for the CN, DNS or email SANs."),
    "allowed_common_names": Field(FieldType.STRING_LIST, default=[], description="Globs for the subject CN."),
    "allowed_dns_sans": Field(FieldType.STRING_LIST, default=[], description="Globs for DNS SANs."),
    "allowed_email_sans": Field(FieldType.STRING_LIST, default=[], description="Globs for email SANs."),
    "allowed_uri_sans": Field(FieldType.STRING_LIST, default=[], description="Globs for URI SANs."),
    "allowed_organizational_units": Field(FieldType.STRING_LIST, default=[], description="Globs for subject OUs."),
    "required_extensions": Field(FieldType.STRING_LIST, default=[], description="'oid:glob' items required."),
}
_CERT_FIELDS = {
    "name": Field(FieldType.STRING),
    "certificate": Field(FieldType.STRING, description="PEM: the CA or client certificate to trust."),
    "display_name": Field(FieldType.STRING, description="Token display name (default: the entry name)."),
    **_CONSTRAINT_FIELDS,
    **token_fields("policies", "ttl", "max_ttl", "period", "bound_cidrs"),
}
_LOGIN_FIELDS = {"name": Field(FieldType.STRING, default="", description="Only try this entry.")}


def _patterns(f: FieldData, key: str) -> tuple[str, ...]:
    values = f.get(key) or []
    items = tuple(str(v).strip() for v in values if str(v).strip())
    if len(items) > MAX_LIST_ITEMS or any(len(v) > MAX_PATTERN_CHARS for v in items):
        raise InvalidRequest(f"{key!r} has more than {MAX_LIST_ITEMS} items or an item over {MAX_PATTERN_CHARS} chars")
    return items


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


class CertAuthBackend(FrameworkBackend):
    """One cert auth mount."""

    type_name = "cert"
    kind = "auth"

    def unauthenticated_paths(self) -> list[str]:
        return ["login"]

    def paths(self) -> list[Path]:
        return [
            Path("certs/?", {L: self._list}, help="List trusted certificate entries."),
            Path(f"certs/{_NAME}", {R: self._read, U: self._write, C: self._write, D: self._delete}, _CERT_FIELDS,
                 existence=self._exists, help="Create, read, update or delete a trusted certificate entry."),
            Path("login", {U: self._login}, _LOGIN_FIELDS, help="Log in with the TLS client certificate."),
        ]

    def _roles(self, req: Request) -> CertRoles:
        return CertRoles(req.storage or self.ctx.storage)

    def _now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.ctx.system.clock(), datetime.UTC)

    # -- entries -------------------------------------------------------------------------

    async def _exists(self, req: Request, f: FieldData) -> bool:
        return await self._roles(req).get(checked_name(f.get("name"))) is not None

    async def _list(self, req: Request, f: FieldData) -> Response:
        return Response.list_of(await self._roles(req).names())

    async def _read(self, req: Request, f: FieldData) -> Response:
        role = await self._roles(req).get(checked_name(f.get("name")))
        if role is None:
            raise NotFound()
        c = role.constraints
        data = {
            "certificate": role.certificate,
            "display_name": role.display_name,
            "allowed_names": list(c.allowed_names),
            "allowed_common_names": list(c.allowed_common_names),
            "allowed_dns_sans": list(c.allowed_dns_sans),
            "allowed_email_sans": list(c.allowed_email_sans),
            "allowed_uri_sans": list(c.allowed_uri_sans),
            "allowed_organizational_units": list(c.allowed_organizational_units),
            "required_extensions": list(c.required_extensions),
            **role.token.response_data(),
            "policies": list(role.token.policies),
        }
        return Response(data=data)

    async def _write(self, req: Request, f: FieldData) -> None:
        name = checked_name(f.get("name"))
        roles = self._roles(req)
        current = await roles.get(name)
        certificate = f.get("certificate") if f.has("certificate") else (current.certificate if current else "")
        if not certificate:
            raise InvalidRequest("missing 'certificate'")
        parse_certificates(certificate)
        base = current.constraints if current else Constraints()
        changes = {key: _patterns(f, key) if f.has(key) else getattr(base, key) for key in _CONSTRAINT_FIELDS}
        constraints = Constraints(**changes)
        for item in constraints.required_extensions:
            oid = item.partition(":")[0].strip()
            try:
                x509.ObjectIdentifier(oid)
            except ValueError:
                raise InvalidRequest("'required_extensions' items must be 'dotted.oid:glob'") from None
        display = f.get("display_name") if f.has("display_name") else (current.display_name if current else "")
        token = (current.token if current else TokenParams()).updated(f)
        await roles.put(CertRole(name, certificate, str(display or ""), constraints, token))

    async def _delete(self, req: Request, f: FieldData) -> None:
        await self._roles(req).delete(checked_name(f.get("name")))

    # -- login ---------------------------------------------------------------------------

    async def _candidates(self, req: Request, name: str) -> list[CertRole]:
        roles = self._roles(req)
        if name:
            try:
                role = await roles.get(checked_name(name))
            except InvalidRequest:
                role = None
            return [role] if role is not None else []
        found = [await roles.get(n) for n in await roles.names()]
        return [r for r in found if r is not None]

    async def _login(self, req: Request, f: FieldData) -> Response:
        if not req.peer_certificate:
            raise InvalidRequest(NO_CERTIFICATE)
        try:
            leaf = x509.load_pem_x509_certificate(req.peer_certificate.encode())
            leaf.extensions  # noqa: B018 -- parsed now: a malformed extension is a refusal, not a 500
        except ValueError:
            raise InvalidRequest(NO_CERTIFICATE) from None
        now = self._now()
        trusted_by_any = False
        for role in await self._candidates(req, str(f.get("name") or "")):
            if not is_trusted(leaf, role.certificates(), now):
                continue
            trusted_by_any = True
            # Pinned or CA-issued alike: the constraints are always checked (CVE-2025-6037).
            if satisfies_constraints(leaf, role.constraints) and role.token.allows_address(req.remote_addr):
                return Response(auth=self._auth(role, leaf))
        raise InvalidRequest(NO_MATCH if trusted_by_any else NO_CERTIFICATE)

    @staticmethod
    def _auth(role: CertRole, leaf: x509.Certificate) -> Auth:
        common_names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common_name = str(common_names[0].value) if common_names else ""
        metadata = {
            "cert_name": role.name,
            "common_name": common_name,
            "serial_number": format(leaf.serial_number, "x"),
            "fingerprint_sha256": _fingerprint(leaf),
        }
        return role.token.auth(
            display_name=role.display_name or role.name,
            metadata=metadata,
            alias_name=common_name or _fingerprint(leaf),
        )
