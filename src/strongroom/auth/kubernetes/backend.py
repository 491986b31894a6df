"""The Kubernetes auth method: Vault's paths, fields and answers.

Paths (relative to the mount): ``config`` (read, write), ``role/`` (LIST),
``role/:name`` (read, create/update, delete), ``login`` with ``{role, jwt}``
(reachable without a token).

A login passes, in order: the role exists; the caller's address lies in the
role's ``token_bound_cidrs``; the JWT parses as an RS/ES-signed JWS (never
``none`` or HMAC); its signature verifies against ``pem_keys`` when they are
configured; ``exp``/``nbf`` hold; the issuer matches (unless
``disable_iss_validation``); the service account's name matches the role's
globs and its namespace the role's namespace globs; the role's ``audience`` is
in ``aud``; when ``kubernetes_host`` is configured, the cluster's TokenReview
authenticates the token as that same service account (same UID) for that
audience; and, for a namespace admitted only by the role's namespace selector,
the namespace's labels (read only after the token was verified) match it. A failed
check is a 403; the TokenReview being unreachable is a 500 naming only the
host. The token, the reviewer JWT and claims never appear in errors or logs.

The entity alias is the service account's UID by default, so a service account
deleted and recreated under the same name does not inherit the old identity.

Lockout: :meth:`login_principal` names nobody. The only principal a request
could name is the service account in an *unverified* JWT, so counting failures
against it would let anyone lock a workload out by sending forged tokens with
its name; a valid token is a signature nobody can guess, and request-rate
quotas still apply to the login path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from strongroom.auth.kubernetes.claims import (
    ServiceAccount,
    audiences,
    check_audience,
    check_issuer,
    check_times,
    service_account,
)
from strongroom.auth.kubernetes.config import CONFIG_FIELDS, CONFIG_KEY, KubeConfig, config_from, load_config
from strongroom.auth.kubernetes.globs import any_match
from strongroom.auth.kubernetes.jws import TokenRejected, parse, verify_signature
from strongroom.auth.kubernetes.local_account import LocalAccount
from strongroom.auth.kubernetes.review import REVIEW_TIMEOUT, TokenReviewer
from strongroom.auth.kubernetes.roles import ROLE_FIELDS, KubeRole, Roles, checked_role_name, role_changes
from strongroom.auth.kubernetes.selector import parse_selector
from strongroom.errors import InvalidRequest, PermissionDenied
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import Auth, BackendContext, Operation, Request, Response
from strongroom.sdk.role_crud import RoleCrud

log = logging.getLogger("strongroom.auth.kubernetes")

R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST
_ROLE = r"role/(?P<name>[^/]+)"
_STR = Field(FieldType.STRING)
#: Service-account annotations with this prefix become alias metadata (Vault's name for them).
ANNOTATION_PREFIX = "vault.hashicorp.com/alias-metadata-"


class KubernetesBackend(FrameworkBackend):
    """One Kubernetes auth mount.

    ``egress`` decides which addresses ``kubernetes_host`` may resolve to (the
    composition root chooses it from node settings, never from the API);
    ``local_account`` is where the pod's own token and CA are mounted; ``review_timeout`` bounds
    each call to the API server (seconds).
    """

    type_name = "kubernetes"
    kind = "auth"

    def __init__(self, ctx: BackendContext, *, egress: EgressPolicy | None = None,
                 local_account: LocalAccount | None = None, review_timeout: float = REVIEW_TIMEOUT) -> None:
        super().__init__(ctx)
        self.egress = egress or EgressPolicy()
        self.local_account = local_account or LocalAccount()
        self.review_timeout = review_timeout
        self._role_crud: RoleCrud[KubeRole] = RoleCrud(self._roles, checked_role_name, role_changes)

    def unauthenticated_paths(self) -> list[str]:
        return ["login"]

    login_roles = True

    async def login_role(self, req: Request) -> str | None:
        role = req.data.get("role") if req.path == "login" else None
        return role if isinstance(role, str) and role else None

    def paths(self) -> list[Path]:
        return [
            Path("config", {R: self._read_config, U: self._write_config, C: self._write_config}, CONFIG_FIELDS,
                 existence=self._config_exists, help="Configure the cluster this mount trusts."),
            Path("role/?", {L: self._role_crud.list}, help="List roles."),
            Path(_ROLE, {R: self._role_crud.read, U: self._role_crud.write, C: self._role_crud.write,
                            D: self._role_crud.delete},
                 ROLE_FIELDS, existence=self._role_crud.exists, help="Bind service accounts to token settings."),
            Path("login", {U: self._login}, {"role": _STR, "jwt": _STR},
                 help="Log in with a service-account token."),
        ]

    def _roles(self, req: Request) -> Roles:
        return Roles(req.storage or self.ctx.storage)

    # -- config ----------------------------------------------------------------------------

    async def _config_exists(self, req: Request, f: FieldData) -> bool:
        # Vault's config path honours the create/update distinction in ACL policies.
        return await load_config(req.storage or self.ctx.storage) is not None

    async def _read_config(self, req: Request, f: FieldData) -> Response | None:
        config = await load_config(req.storage or self.ctx.storage)
        return None if config is None else Response(data=config.response_data())

    async def _write_config(self, req: Request, f: FieldData) -> None:
        await (req.storage or self.ctx.storage).put(CONFIG_KEY, config_from(f).to_bytes())

    # -- roles -------------------------------------------------------------------------------

    # -- login -------------------------------------------------------------------------------

    async def _login(self, req: Request, f: FieldData) -> Response:
        role_name = f.get("role") or ""
        if not role_name:
            raise InvalidRequest("missing role")
        jwt = f.get("jwt") or ""
        if not jwt:
            raise InvalidRequest("missing jwt")
        role = await self._role_crud.find(req, role_name)
        if role is None:
            raise InvalidRequest(f"invalid role name {role_name[:128]!r}")
        config = await load_config(req.storage or self.ctx.storage)
        if config is None:
            raise InvalidRequest("could not load backend configuration")
        if not role.token.allows_address(req.remote_addr):
            raise PermissionDenied()
        try:
            account = await self._verified_account(jwt, role, config)
            auth = self._auth(role_name, role, account)
        except TokenRejected as refused:
            log.info("kubernetes login to role %r refused: %s", role_name, refused.message)
            raise
        if config.use_annotations_as_alias_metadata:
            auth.alias_metadata.update(await self._annotation_metadata(jwt, config, account))
        return Response(auth=auth)

    def _reviewer(self, jwt: str, config: KubeConfig) -> tuple[TokenReviewer, str]:
        """The API client and the bearer token that authorises its calls."""
        use_local = not config.disable_local_ca_jwt
        bearer = config.token_reviewer_jwt or (self.local_account.token() if use_local else "") or jwt
        ca = config.kubernetes_ca_cert or (self.local_account.ca_cert() if use_local else "")
        return TokenReviewer(config.kubernetes_host, ca, self.egress, timeout=self.review_timeout), bearer

    async def _annotation_metadata(self, jwt: str, config: KubeConfig, account: ServiceAccount) -> dict[str, str]:
        """Alias metadata from the service account's ``vault.hashicorp.com/alias-metadata-KEY`` annotations.

        Only keys that do not collide with the login's own metadata are taken, so an annotation
        cannot overwrite the service account's name, namespace or UID in the alias.
        """
        reviewer, bearer = self._reviewer(jwt, config)
        found = await reviewer.annotations(account.namespace, account.name, bearer)
        taken = {"service_account_name", "service_account_namespace", "service_account_uid",
                 "service_account_secret_name", "role"}
        result: dict[str, str] = {}
        for key, value in found.items():
            name = key.removeprefix(ANNOTATION_PREFIX)
            if key.startswith(ANNOTATION_PREFIX) and name and name not in taken and len(result) < 64:
                result[name] = value[:512]
        return result

    async def _verified_account(self, jwt: str, role: KubeRole, config: KubeConfig) -> ServiceAccount:
        token = parse(jwt)
        if config.pem_keys:
            verify_signature(token, config.public_keys())
        check_times(token.claims, self.ctx.system.clock())
        if not config.disable_iss_validation:
            check_issuer(token.claims, config.issuer)
        account = service_account(token.claims)
        if not any_match(role.names, account.name):
            raise TokenRejected("service account name not authorized")
        by_name = any_match(role.namespaces, account.namespace)
        if not by_name and not role.namespace_selector:
            raise TokenRejected("namespace not authorized")
        check_audience(audiences(token.claims), role.audience)
        if config.kubernetes_host:
            account = await self._review(jwt, role, config, account)
        if not by_name:
            # Only now, with the token verified, may it make the server ask the cluster about a namespace.
            await self._check_namespace_selector(jwt, role, config, account)
        return account

    async def _check_namespace_selector(self, jwt: str, role: KubeRole, config: KubeConfig,
                                        account: ServiceAccount) -> None:
        if not config.kubernetes_host:
            raise TokenRejected("namespace not authorized: bound_service_account_namespace_selector needs "
                                "kubernetes_host to read namespace labels")
        reviewer, bearer = self._reviewer(jwt, config)
        labels = await reviewer.namespace_labels(account.namespace, bearer)
        if not parse_selector(role.namespace_selector).matches(labels):
            raise TokenRejected("namespace not authorized")

    async def _review(self, jwt: str, role: KubeRole, config: KubeConfig,
                      account: ServiceAccount) -> ServiceAccount:
        """``account`` as confirmed by the cluster's TokenReview (with the UID it reports)."""
        reviewer, bearer = self._reviewer(jwt, config)
        wanted = (role.audience,) if role.audience else ()
        user = await reviewer.review(jwt, bearer, wanted)
        if user.username != account.username:
            raise TokenRejected("TokenReview authenticated a different service account than the JWT names")
        if account.uid and user.uid and user.uid != account.uid:
            raise TokenRejected("TokenReview authenticated a different service account than the JWT names")
        if role.audience and role.audience not in user.audiences:
            raise TokenRejected("TokenReview did not confirm the role's audience")
        # Legacy tokens may lack the UID claim; the API server's answer is authoritative.
        return replace(account, uid=account.uid or user.uid)

    def _auth(self, role_name: str, role: KubeRole, account: ServiceAccount) -> Auth:
        if role.alias_name_source == "serviceaccount_uid":
            if not account.uid:
                raise TokenRejected("service account UID is unknown, so it cannot name the identity alias")
            alias = account.uid
        else:
            alias = f"{account.namespace}/{account.name}"
        metadata = {
            "service_account_name": account.name,
            "service_account_namespace": account.namespace,
            "service_account_uid": account.uid,
            "service_account_secret_name": account.secret_name,
            "role": role_name,
        }
        auth = role.token.auth(display_name=f"{account.namespace}-{account.name}", metadata=metadata,
                               alias_name=alias, internal_data={"role": role_name})
        auth.alias_metadata = dict(metadata)
        return auth


def kubernetes_factory(*, allow_loopback: bool = False) -> Callable[[BackendContext], KubernetesBackend]:
    """A registry factory; ``allow_loopback`` lets ``kubernetes_host`` resolve to a loopback address."""
    policy = EgressPolicy(allow_loopback=allow_loopback)

    def make(ctx: BackendContext) -> KubernetesBackend:
        return KubernetesBackend(ctx, egress=policy)

    return make
