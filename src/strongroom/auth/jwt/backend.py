"""The JWT auth method (Vault's ``jwt``/``oidc`` type, JWT login only): config, roles, login with ``{role, jwt}``.

Paths (relative to the mount): ``config`` (read, write), ``role/`` (LIST),
``role/:name`` (read, create/update, delete), ``login`` (reachable without a
token). The OIDC browser flow (``oidc/auth_url``, ``oidc/callback``) is not
served: roles of type ``oidc`` are refused on write.

A login passes, in order: the role exists (the config's ``default_role`` when
the request names none); the caller's address lies in ``token_bound_cidrs``;
the JWT parses as a JWS signed with an accepted asymmetric algorithm (never
``none`` or HMAC; the config's ``jwt_supported_algs`` narrows the set); its
signature verifies with a configured key, a JWKS key (selected by ``kid``) or
the discovery document's JWKS; ``exp`` (required), ``nbf`` and ``iat`` hold
within the role's leeways; ``iss`` equals ``bound_issuer`` and, with
discovery, the discovered issuer; the audience, subject and claim bindings
hold; ``user_claim`` is present. A failed check is a 403 naming the check,
never the token or a claim value; a key source that cannot be fetched is a 500
naming only the host.

The token gets the role's ``token_*`` settings, metadata ``role`` plus the
``claim_mappings``, and the identity alias named by ``user_claim``; the
``groups_claim`` names travel in the auth's ``internal_data["groups"]`` for the
identity store's group aliases.

Lockout: like the Kubernetes method, :meth:`login_principal` names nobody, since
the only principal in the request is an unverified claim anyone could forge to
lock a pipeline out; request-rate quotas still apply to the login path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from strongroom.auth.jwt import claims as checks
from strongroom.auth.jwt.config import CONFIG_FIELDS, CONFIG_KEY, JwtConfig, config_from, load_config
from strongroom.auth.jwt.fetch import DocumentUnavailable, Fetcher
from strongroom.auth.jwt.keysets import KeyCache
from strongroom.auth.jwt.roles import ROLE_FIELDS, JwtRole, Roles, checked_role_name, role_changes
from strongroom.errors import InvalidRequest, PermissionDenied
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.jwt import TokenRejected, parse, verify_signature
from strongroom.sdk.logical import Auth, BackendContext, Operation, Request, Response
from strongroom.sdk.role_crud import RoleCrud

log = logging.getLogger("strongroom.auth.jwt")

R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST
_ROLE = r"role/(?P<name>[^/]+)"
_STR = Field(FieldType.STRING)


class JwtBackend(FrameworkBackend):
    """One JWT auth mount.

    ``egress`` decides which addresses the JWKS and discovery URLs may resolve to (the composition
    root chooses it from node settings, never from the API); ``fetcher`` exists for tests.
    """

    type_name = "jwt"
    kind = "auth"

    def __init__(self, ctx: BackendContext, *, egress: EgressPolicy | None = None,
                 fetcher: Fetcher | None = None) -> None:
        super().__init__(ctx)
        self.keys = KeyCache(fetcher or Fetcher(egress or EgressPolicy()), ctx.system.clock)
        self._role_crud: RoleCrud[JwtRole] = RoleCrud(self._roles, checked_role_name, role_changes)

    def unauthenticated_paths(self) -> list[str]:
        return ["login"]

    login_roles = True

    async def login_role(self, req: Request) -> str | None:
        """The named role, else the config's ``default_role`` (what the login will use)."""
        if req.path != "login":
            return None
        role = req.data.get("role")
        if isinstance(role, str) and role:
            return role
        config = await load_config(req.storage or self.ctx.storage)
        return (config.default_role or None) if config is not None else None

    def paths(self) -> list[Path]:
        return [
            Path("config", {R: self._read_config, U: self._write_config, C: self._write_config}, CONFIG_FIELDS,
                 existence=self._config_exists, help="Configure where the keys that sign JWTs come from."),
            Path("role/?", {L: self._role_crud.list}, help="List roles."),
            Path(_ROLE, {R: self._role_crud.read, U: self._role_crud.write, C: self._role_crud.write,
                            D: self._role_crud.delete},
                 ROLE_FIELDS, existence=self._role_crud.exists, help="Bind JWT claims to token settings."),
            Path("login", {U: self._login}, {"role": _STR, "jwt": _STR}, help="Log in with a JWT."),
        ]

    def _roles(self, req: Request) -> Roles:
        return Roles(req.storage or self.ctx.storage)

    # -- config ----------------------------------------------------------------------------

    async def _config_exists(self, req: Request, f: FieldData) -> bool:
        return await load_config(req.storage or self.ctx.storage) is not None

    async def _read_config(self, req: Request, f: FieldData) -> Response | None:
        config = await load_config(req.storage or self.ctx.storage)
        return None if config is None else Response(data=config.response_data())

    async def _write_config(self, req: Request, f: FieldData) -> None:
        config = config_from(f)
        await self._check_sources(config)
        await (req.storage or self.ctx.storage).put(CONFIG_KEY, config.to_bytes())

    async def _check_sources(self, config: JwtConfig) -> None:
        """Fetch the discovery document and the JWKS now, so a wrong URL or CA is a 400 on write."""
        try:
            if config.oidc_discovery_url:
                discovered = await self.keys.discovery(config, fresh=True)
                await self.keys.check_jwks(discovered.jwks_uri, config.oidc_discovery_ca_pem)
            elif config.jwks_url:
                await self.keys.check_jwks(config.jwks_url, config.jwks_ca_pem)
        except DocumentUnavailable as failed:
            raise InvalidRequest(f"error checking the key source: {failed.message}") from None

    # -- roles -------------------------------------------------------------------------------

    # -- login -------------------------------------------------------------------------------

    async def _login(self, req: Request, f: FieldData) -> Response:
        jwt = f.get("jwt") or ""
        if not jwt:
            raise InvalidRequest("missing jwt")
        config = await load_config(req.storage or self.ctx.storage)
        if config is None:
            raise InvalidRequest("could not load configuration")
        role_name = f.get("role") or config.default_role
        if not role_name:
            raise InvalidRequest("missing role")
        role = await self._role_crud.find(req, role_name)
        if role is None:
            raise InvalidRequest(f"role {role_name[:128]!r} could not be found")
        if not role.token.allows_address(req.remote_addr):
            raise PermissionDenied()
        try:
            auth = await self._verified_auth(jwt, role_name, role, config)
        except TokenRejected as refused:
            log.info("jwt login to role %r refused: %s", role_name, refused.message)
            raise
        return Response(auth=auth)

    async def _verified_auth(self, jwt: str, role_name: str, role: JwtRole, config: JwtConfig) -> Auth:
        token = parse(jwt, config.algorithms)
        verify_signature(token, await self.keys.keys_for(config, token))
        claims = token.claims
        checks.check_times(claims, self.ctx.system.clock(), role)
        checks.check_issuer(claims, config.bound_issuer)
        if config.oidc_discovery_url:
            checks.check_issuer(claims, (await self.keys.discovery(config)).issuer)
        checks.check_audience(claims, role)
        checks.check_subject(claims, role)
        checks.check_bound_claims(claims, role)
        user = checks.user_name(claims, role)
        groups = checks.groups(claims, role)
        metadata = {**checks.mapped_metadata(claims, role), "role": role_name}
        auth = role.token.auth(display_name=user[:128], metadata=metadata, alias_name=user,
                               internal_data={"role": role_name, "groups": groups})
        auth.alias_metadata = dict(metadata)
        return auth


def jwt_factory(*, allow_loopback: bool = False) -> Callable[[BackendContext], JwtBackend]:
    """A registry factory; ``allow_loopback`` lets JWKS and discovery URLs resolve to a loopback address."""
    policy = EgressPolicy(allow_loopback=allow_loopback)

    def make(ctx: BackendContext) -> JwtBackend:
        return JwtBackend(ctx, egress=policy)

    return make
