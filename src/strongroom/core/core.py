"""Core.handle: the one road every API call takes.

    canonical path -> (sealed-state endpoints) -> sealed check -> refresh caches
    -> route -> authenticate token -> create/update -> ACL -> backend -> mint
    token for logins -> answer

Engines and auth methods never see HTTP; the HTTP edge never sees storage.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from strongroom.core.acl_cache import AclCache
from strongroom.core.alerts.feed import AlertFeed, NoDetector
from strongroom.core.alerts.signals import TAG_BOUND_CIDR_VIOLATION
from strongroom.core.events import EventHub, EventPublisher, Subscription
from strongroom.core.events.filter_expr import parse_filter
from strongroom.core.events.hub import EventFilter, PathCheck
from strongroom.core.events.log import EventLog
from strongroom.core.hooks import (
    AuditBroker,
    AuditEvent,
    BarrierState,
    NoAudit,
    RequestObserver,
    RequestRecord,
    notify,
)
from strongroom.core.lockout import LockoutDefaults, LoginLockout
from strongroom.core.namespaces.manager import NamespaceManager
from strongroom.core.namespaces.model import ROOT as ROOT_NAMESPACE
from strongroom.core.namespaces.scope import NamespaceScope
from strongroom.core.password_policies.store import PasswordPolicyStore
from strongroom.core.policy.acl import ACL
from strongroom.core.policy.canonical import canonical_request_path
from strongroom.core.quotas.enforcer import QuotaEnforcer
from strongroom.core.registry import Registry
from strongroom.core.scheduler import Scheduler
from strongroom.core.seal import SealManager
from strongroom.core.sys_sealed import SealedSystemEndpoints
from strongroom.core.tokens.store import TokenEntry, TokenStore
from strongroom.core.wrapping import WrapInfo, is_wrappable, is_wrapping_token
from strongroom.core.wrapping.paths import SELF_SERVED_PATHS
from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.errors import InvalidRequest, NotFound, PermissionDenied, Sealed, StrongroomError
from strongroom.sdk.logical import Auth, Caller, LogicalBackend, Operation, Request, Response, issues_leases
from strongroom.sdk.system import Clock, RandomBytes, SystemView

if TYPE_CHECKING:
    from strongroom.core.metrics.endpoint import MetricsExporter

log = logging.getLogger("strongroom.core")

#: A path the core answers before routing, without a token and whatever the seal state.
PublicEndpoint = Callable[[Operation, dict[str, Any]], Awaitable[Response]]

GENERATION_KEY = "core/generation"


@dataclass
class CoreConfig:
    default_lease_ttl: int = 768 * 3600
    max_lease_ttl: int = 768 * 3600
    storage_type: str = "inmem"
    dev: bool = False
    #: The configuration's ``user_lockout`` blocks (defaults for every auth mount).
    user_lockout: LockoutDefaults = field(default_factory=LockoutDefaults)


@dataclass
class IncomingRequest:
    """A request as the HTTP edge hands it over: decoded once, not yet trusted."""

    operation: Operation
    path: str
    data: dict[str, Any] = field(default_factory=dict)
    token: str = ""
    remote_addr: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    namespace: str = ""
    #: The TLS client certificate the listener's handshake verified (PEM), "" without one.
    peer_certificate: str = ""
    #: The response-wrapping TTL in seconds from ``X-Vault-Wrap-TTL`` (0: answer unwrapped).
    wrap_ttl: int = 0


@dataclass
class Outcome:
    """The backend's answer plus what the edge needs to render it the Vault way."""

    response: Response | None
    request_id: str
    mount_type: str = ""
    operation: Operation = Operation.READ
    #: Extra response headers (rate-limit quota headers when enabled).
    headers: dict[str, str] = field(default_factory=dict)
    #: Set when the answer was wrapped: the client gets this instead of the answer (``response`` is empty).
    wrap_info: WrapInfo | None = None

    @property
    def status(self) -> int:
        """The HTTP status this outcome is answered with (Vault's rules, decided here once)."""
        if self.wrap_info is not None:
            return 200
        resp = self.response
        if resp is None:
            return 204
        if resp.raw is not None:
            return resp.raw.status
        if resp.status is not None:
            return resp.status
        if self.operation in (Operation.LIST, Operation.SCAN) and not (resp.data or {}).get("keys"):
            return 404
        if resp.data is None and resp.auth is None and resp.secret is None and not resp.warnings:
            return 204
        return 200


class Core:
    """One per process. Holds the barrier and everything built on it."""

    def __init__(
        self,
        barrier: Barrier,
        seal: SealManager,
        registry: Registry,
        config: CoreConfig,
        *,
        clock: Clock,
        random_bytes: RandomBytes,
    ) -> None:
        self.barrier = barrier
        self.physical = barrier.physical
        self.seal_manager = seal
        self.registry = registry
        self.config = config
        self.clock = clock
        self.random_bytes = random_bytes
        self.system = SystemView(
            system_default_lease_ttl=config.default_lease_ttl,
            system_max_lease_ttl=config.max_lease_ttl,
            clock=clock,
            random_bytes=random_bytes,
        )
        self.sealed_endpoints = SealedSystemEndpoints(self)
        #: Events (``docs/events.md``): every mount's ``SystemView.publish_event`` feeds the publisher,
        #: which writes the node's event log; the hub tails it for this process's subscribers.
        event_log = EventLog(StorageView(barrier, "sys/events/"), clock=clock, random_bytes=random_bytes)
        self.event_publisher = EventPublisher(event_log)
        self.events = EventHub(event_log)
        self.system.event_sink = self.event_publisher.publish
        #: The root namespace: its services sit on the barrier itself (``strongroom.core.namespaces``).
        self.root = NamespaceScope(self, ROOT_NAMESPACE, barrier)
        #: Every namespace, the root included; the request picks one, then the same pipeline runs.
        self.namespaces = NamespaceManager(self)
        # The root namespace's services under their old names: most of the core, the composition
        # root and the key ceremonies only ever deal with the root namespace.
        self.token_cache = self.root.token_cache
        self.tokens = self.root.tokens
        self.leases = self.root.leases
        #: Every mount's scheduled jobs (``strongroom.core.scheduler``); run with lease expiry by one loop.
        self.scheduler = Scheduler(
            StorageView(barrier, "sys/scheduler/"), self._job_backend, clock=clock, random_bytes=random_bytes
        )
        self.wrapping = self.root.wrapping
        self._revision: int | None = None
        self.policies = self.root.policies
        self.mounts = self.root.mounts
        self.acls = self.root.acls
        self._generation: bytes | None = None
        self._ready = False
        self.audit: AuditBroker = NoAudit()
        self.observers: list[RequestObserver] = []
        #: Per-process tables kept in the barrier, reloaded with the mounts (set at the composition root).
        self.states: list[BarrierState] = []
        #: Named password policies (``sys/policies/password``); engines reach them via ``SystemView``.
        self.password_policies = PasswordPolicyStore(
            StorageView(barrier, "sys/password_policy/"), random_bytes=random_bytes
        )
        self.states.append(self.password_policies)
        self.system.generate_password = self.password_policies.generate
        #: The identity store (``strongroom.core.identity``): entities, aliases and groups, served at
        #: ``identity/``; its group table reloads with the mounts, and tokens' ACLs resolve entities in it.
        self.identity = self.root.identity
        self.states.append(self.identity)
        #: Rate-limit quotas (``sys/quotas``); the composition root hands it the node's shared counter.
        self.quotas = QuotaEnforcer(StorageView(barrier, "sys/quotas/"))
        #: Failed-login counting and lockout around every login (``strongroom.core.lockout``).
        self.lockout = LoginLockout(
            StorageView(barrier, "sys/lockout/"), clock=clock, random_bytes=random_bytes, defaults=config.user_lockout
        )
        #: Where ``sys/alerts`` reads recent alerts from; set at the composition root.
        self.alert_feed: AlertFeed = NoDetector()
        #: Set at the composition root: serves ``sys/metrics``.
        self.metrics: MetricsExporter | None = None
        #: Canonical path -> handler, set at the composition root (e.g. unauthenticated ``sys/metrics``).
        self.public_endpoints: dict[str, PublicEndpoint] = {}

    # -- lifecycle -------------------------------------------------------------

    async def post_unseal(self) -> None:
        """Load the mount table and built-ins once the barrier is open."""
        # The generation is read before the tables: a change another worker commits
        # while they load then leaves storage ahead of what we hold, and our next
        # request reloads. Read after, it would hide that change until the next one.
        generation = await self.physical.get(GENERATION_KEY)
        await self.policies.ensure_default()
        await self.mounts.load()
        await self.namespaces.load()
        await self.quotas.load()
        await self._load_states()
        self._generation = generation
        self._ready = True

    async def pre_seal(self) -> None:
        self._ready = False
        await self.events.aclose("sealed")
        await self.event_publisher.drain()  # while the barrier still has its keys
        for state in self.states:
            await state.unload()
        await self.mounts.unload()
        await self.namespaces.unload()
        self.quotas.clear()
        self.acls.invalidate()
        self.token_cache.invalidate()
        self.leases.index.forget()
        self.scheduler.index.forget()
        self._generation = None
        self._revision = None

    @property
    def sealed(self) -> bool:
        return self.barrier.sealed or not self._ready

    async def bump_generation(self) -> None:
        """Tell every process sharing storage that mounts or policies changed."""
        value = self.random_bytes(16).hex().encode()
        await self.physical.put(GENERATION_KEY, value)
        self._generation = value
        await self.mounts.load()
        await self.namespaces.load()
        await self.quotas.load()
        await self._load_states()
        self.namespaces.invalidate()

    async def _refresh(self) -> None:
        # Revision first, then what it guards: a write landing in between makes the
        # next request see a newer revision and look again.
        revision = self.physical.revision()
        if revision is not None and revision == self._revision:
            return  # nobody wrote anything since the last request: every cache holds
        self.namespaces.invalidate_tokens()
        current = await self.physical.get(GENERATION_KEY)
        if current != self._generation:
            self._generation = current
            await self.mounts.load()
            await self.namespaces.load()
            await self.quotas.load()
            await self._load_states()
            self.namespaces.invalidate()
        self._revision = revision

    async def _load_states(self) -> None:
        for state in self.states:
            await state.load()

    # -- the request path --------------------------------------------------------

    async def handle(self, incoming: IncomingRequest) -> Outcome:
        request_id = str(uuid.UUID(bytes=self.random_bytes(16), version=4))
        started = time.perf_counter()
        record = RequestRecord(
            request_id=request_id,
            operation=incoming.operation.value,
            path=incoming.path,
            status=500,
            duration=0.0,
            remote_addr=incoming.remote_addr,
        )
        quota_headers: dict[str, str] = {}
        try:
            outcome = await self._handle(incoming, request_id, record, quota_headers)
            outcome.headers.update(quota_headers)
            record.status = outcome.status
            return outcome
        except StrongroomError as exc:
            if quota_headers:  # rate-limit headers go out with errors too, as in Vault
                exc.headers = {**quota_headers, **exc.headers}
            record.status = exc.status
            record.error = exc.message
            record.permission_denied = isinstance(exc, PermissionDenied)
            raise
        finally:
            record.duration = time.perf_counter() - started
            if self.observers:
                notify(self.observers, record)

    async def _handle(
        self, incoming: IncomingRequest, request_id: str, record: RequestRecord, quota_headers: dict[str, str]
    ) -> Outcome:
        path = canonical_request_path(incoming.path)
        record.path = path
        op = incoming.operation
        if op in (Operation.LIST, Operation.SCAN) and path and not path.endswith("/"):
            path += "/"

        sealed_answer = await self.sealed_endpoints.try_handle(op, path, incoming)
        if sealed_answer is not None:
            return Outcome(sealed_answer, request_id, "system", op)
        public = self.public_endpoints.get(path)
        if public is not None:
            return Outcome(await public(op, incoming.data), request_id, "system", op)
        if self.sealed:
            raise Sealed()
        await self._refresh()
        # The namespace (header, then leading path segments), and the path inside it.
        scope, path = self.namespaces.resolve(incoming.namespace, path)
        if scope is not self.root:
            record.path = scope.path + path

        matched = scope.mounts.router.match(path)
        if matched is None:
            quota_headers.update(await self._check_quota(scope.path + path, incoming.remote_addr, None))
            # Authenticate first so that callers without a valid token learn
            # nothing about which mounts exist (403 before 404, as in Vault).
            caller, home = await self._authenticate_in(scope, incoming.token, incoming.remote_addr, record)
            acl = await home.acls.for_token(caller)
            if not acl.authorize(op.value, scope.relative_to(home) + path, incoming.data).allowed:
                raise PermissionDenied()
            raise NotFound(f'no handler for route "{path}". route entry not found.')
        route, rel_path = matched
        backend = route.backend
        entry = route.entry
        record.mount_type = entry.type
        record.mount_point = entry.route_prefix

        req = Request(
            operation=op,
            path=rel_path,
            data=incoming.data,
            storage=scope.mounts.storage_for(entry),
            client_token=incoming.token,
            remote_addr=incoming.remote_addr,
            headers=incoming.headers,
            mount_point=entry.route_prefix,
            mount_type=entry.type,
            mount_accessor=entry.accessor,
            request_id=request_id,
            peer_certificate=incoming.peer_certificate,
            wrap_ttl=incoming.wrap_ttl,
        )
        event = AuditEvent(request=req, mount=entry, client_token=incoming.token,
                           namespace_id=scope.entry.id, namespace_path=scope.path)
        role: str | None = None
        if entry.kind == "auth" and self.quotas.wants_role(scope.path + entry.route_prefix) and _matches_any(
            backend.unauthenticated_paths(), rel_path
        ):
            role = await backend.login_role(req)  # a quota with a role limits that role's logins
        quota_headers.update(await self._check_quota(scope.path + path, incoming.remote_addr, event, role))

        if _matches_any(backend.unauthenticated_paths(), rel_path) or _names_own_wrapping_token(
            entry.type, rel_path, incoming
        ):
            req.unauthenticated = True
            if entry.kind == "auth":
                record.login_method = entry.type
                # Every login of every auth method passes the lockout (strongroom.core.lockout).
                response = await self.lockout.guard(
                    entry, backend, req, partial(self._serve, backend, req, event, scope)
                )
            else:
                response = await self._serve(backend, req, event, scope)
            if record.login_method:
                # A wrapped login succeeded too: its token sits in the wrap (named by wrapped_accessor).
                wrapped_login = event.wrap_info is not None and bool(event.wrap_info.wrapped_accessor)
                record.login_succeeded = wrapped_login or (response is not None and response.auth is not None)
        else:
            try:
                token_entry, home = await self._authenticate_in(scope, incoming.token, incoming.remote_addr, record)
            except PermissionDenied as refused:
                # On record too: an unknown, expired or misplaced token is what a thief's probe looks like.
                await self._audit_refusal(event, refused)
                raise
            event.token = token_entry
            record.accessor = token_entry.accessor
            record.entity_id = token_entry.entity_id
            record.policies = tuple(token_entry.policies)
            # A use is spent on every authenticated request, allowed or not (as in
            # Vault), so a limited-use token cannot probe paths for free.
            last_use = await home.tokens.use(token_entry)
            try:
                try:
                    # A token acts in its own namespace or below; its policies name a child
                    # namespace's paths with the child's relative path in front.
                    await self._authorize(req, backend, token_entry, scope.relative_to(home) + path, home.acls)
                except PermissionDenied as denied:
                    await self._audit_refusal(event, denied)
                    raise
                response = await self._serve(backend, req, event, scope)
            finally:
                if last_use:
                    await home.tokens.revoke_tree(token_entry)
        if response is not None and response.tags:
            record.tags.update(response.tags)
        return Outcome(response, request_id, entry.type, req.operation, wrap_info=event.wrap_info)

    async def _serve(
        self, backend: LogicalBackend, req: Request, event: AuditEvent, scope: NamespaceScope | None = None
    ) -> Response | None:
        """Audit the request, run the backend, mint a login token, audit the answer (fail closed).

        Leases, login tokens and wrapping tokens are created in ``scope``, the request's namespace.
        """
        scope = scope or self.root
        await self.audit.log_request(event)
        try:
            response = await backend.handle(req)
            if response is not None and response.secret is not None and issues_leases(backend):
                token_hash = event.token.id_hash if event.token is not None else ""
                await scope.leases.register(
                    req.mount_point, req.path, response.secret, backend.ctx.system, token_hash
                )
            # Only a login (a path the backend declares unauthenticated) gets a token minted. An
            # authenticated answer carrying auth without a token, such as renew-accessor, must not:
            # minting there would hand the caller a token with somebody else's policies.
            auth = response.auth if response is not None else None
            if req.login_locked and auth is not None:
                # A backend that ignored the lockout flag: a locked principal gets no token regardless.
                log.error("a %s mount answered a locked-out login with a token; refused", req.mount_type)
                raise PermissionDenied()
            if req.unauthenticated and response is not None and auth is not None and not auth.client_token:
                await self._mint_login_token(response, event.mount.route_prefix, scope.tokens)
            if req.wrap_ttl > 0 and is_wrappable(response):
                assert response is not None
                # Audited as Vault does: the wrap_info (token HMAC'd), never the wrapped data.
                event.wrap_info = await scope.wrapping.wrap(
                    response, ttl=req.wrap_ttl, creation_path=req.wrap_creation_path or req.mount_point + req.path
                )
                response = Response(status=200)
        except StrongroomError as exc:
            event.error = exc
            await self.audit.log_response(event)
            raise
        event.response = response
        await self.audit.log_response(event)
        return response

    async def subscribe_events(
        self, token: str, remote_addr: str, event_type: str, path_prefix: str = "", filter_text: str = ""
    ) -> Subscription:
        """Open an event subscription (``sys/events/subscribe/:eventType``), as Vault authorises it:
        ``read`` on ``sys/events/subscribe/<eventType>``; then each event only if the token may
        ``read`` or ``subscribe`` to the event's path (``docs/events.md``)."""
        if self.sealed:
            raise Sealed()
        await self._refresh()
        if not event_type:
            raise InvalidRequest("missing event type: use sys/events/subscribe/<type> ('*' for every type)")
        path = canonical_request_path(f"sys/events/subscribe/{event_type}")
        audit = self._subscription_audit_event(path, token, remote_addr, {"path_prefix": path_prefix,
                                                                          "filter": filter_text})
        try:
            entry = await self._subscriber(token, remote_addr, path)
        except PermissionDenied as refused:
            if audit is not None:
                await self._audit_refusal(audit, refused)
            raise
        if audit is not None:  # on record like any request, before the stream opens (fail closed)
            audit.token = entry
            await self.audit.log_request(audit)
            await self.audit.log_response(audit)

        async def authorizer() -> PathCheck | None:
            if self.sealed:
                return None
            # This process may serve no requests meanwhile: refresh first, or its token cache
            # would keep a token another worker revoked alive for this stream.
            await self._refresh()
            current = await self.tokens.lookup(token)
            if current is None:
                return None
            return partial(_may_see_event, await self.acls.for_token(current))

        event_filter = EventFilter(event_type, path_prefix, parse_filter(filter_text))
        return await self.events.open(entry.id_hash, event_filter, authorizer)

    async def _subscriber(self, token: str, remote_addr: str, path: str) -> TokenEntry:
        """The token of a subscription request, which must grant ``read`` on ``path`` (403 otherwise)."""
        entry = await self._authenticate(token, remote_addr)
        if await self.tokens.use(entry):
            await self.tokens.revoke_tree(entry)  # its last use: the stream ends at the first re-check
        acl = await self.acls.for_token(entry)
        if not acl.authorize("read", path, {}).allowed:
            log.info("permission denied: subscribe %s", path)
            raise PermissionDenied()
        return entry

    def _subscription_audit_event(
        self, path: str, token: str, remote_addr: str, data: dict[str, Any]
    ) -> AuditEvent | None:
        """The audit record of a subscription request, shaped as a read of the ``sys/`` mount."""
        matched = self.mounts.router.match(path)
        if matched is None:
            return None
        route, rel_path = matched
        req = Request(
            operation=Operation.READ,
            path=rel_path,
            data=data,
            storage=self.mounts.storage_for(route.entry),
            client_token=token,
            remote_addr=remote_addr,
            mount_point=route.entry.route_prefix,
            mount_type=route.entry.type,
            mount_accessor=route.entry.accessor,
            request_id=str(uuid.UUID(bytes=self.random_bytes(16), version=4)),
        )
        return AuditEvent(request=req, mount=route.entry, client_token=token)

    async def _job_backend(self, mount_uuid: str) -> LogicalBackend | None:
        """The backend of the mount with this uuid, for the scheduler; None when no such mount is in storage."""
        for attempt in range(2):
            route = self.namespaces.route_by_uuid(mount_uuid)  # a mount of any namespace
            if route is not None:
                return route.backend
            if attempt == 0:
                await self._refresh()  # another process may have mounted it since this one last looked
        return None

    async def _audit_refusal(self, event: AuditEvent, error: StrongroomError) -> None:
        """A refused request is on record too: request and response, both carrying the error."""
        event.error = error
        await self.audit.log_request(event)
        await self.audit.log_response(event)

    async def _check_quota(
        self, path: str, remote_addr: str, event: AuditEvent | None, role: str | None = None
    ) -> dict[str, str]:
        """Rate-limit quotas, before the token is looked at (Vault's order). 429 when refused.

        Answers the headers to send with the response (empty unless enabled). A refusal
        of a routed request is audited when the quota configuration asks for it.
        """
        verdict = self.quotas.check(path, remote_addr, role)
        if verdict is None:
            return {}
        if not verdict.allowed:
            error = verdict.error(path)
            if event is not None and self.quotas.audit_rejections:
                await self._audit_refusal(event, error)
            raise error
        return verdict.headers

    async def _authorize(
        self, req: Request, backend: LogicalBackend, token_entry: TokenEntry, path: str, acls: AclCache | None = None
    ) -> None:
        """Fill in the caller, resolve create-vs-update, and apply the ACL (403 on refusal).

        ``path`` is the request path as the token's own namespace names it, and ``acls`` that
        namespace's policies (the root's by default).
        """
        req.caller = Caller(
            accessor=token_entry.accessor,
            policies=tuple(token_entry.policies),
            display_name=token_entry.display_name,
            entity_id=token_entry.entity_id,
            metadata=dict(token_entry.meta),
        )
        if req.operation is Operation.UPDATE and await backend.existence(req) is False:
            req.operation = Operation.CREATE
        if is_wrapping_token(token_entry):
            # Its one use is spent already: a wrapping token used anywhere else is gone, as in Vault.
            raise PermissionDenied()
        acl = await (acls or self.acls).for_token(token_entry)
        decision = acl.authorize(req.operation.value, path, req.data, wrap_ttl=req.wrap_ttl or None)
        if not decision.allowed:
            log.info("permission denied: %s %s (%s)", req.operation.value, path, decision.reason)
            raise PermissionDenied()
        req.sudo = decision.sudo
        if _matches_any(backend.sudo_paths(), req.path) and not decision.sudo:
            log.info("permission denied: %s %s needs sudo", req.operation.value, path)
            raise PermissionDenied()

    async def _authenticate(
        self, token: str, remote_addr: str, record: RequestRecord | None = None
    ) -> TokenEntry:
        return (await self._authenticate_in(self.root, token, remote_addr, record))[0]

    async def find_token(self, scope: NamespaceScope, token: str) -> tuple[TokenEntry, NamespaceScope] | None:
        """The live token and its namespace, if it may act in ``scope`` (its own namespace or an ancestor's).

        A token of a child or sibling namespace is not found, exactly as an unknown one is.
        """
        if not token:
            return None
        home = self.namespaces.token_scope(token)
        if home is None or not scope.is_within(home):
            return None
        entry = await home.tokens.lookup(token)
        return (entry, home) if entry is not None else None

    async def _authenticate_in(
        self, scope: NamespaceScope, token: str, remote_addr: str, record: RequestRecord | None = None
    ) -> tuple[TokenEntry, NamespaceScope]:
        found = await self.find_token(scope, token)
        if found is None:
            raise PermissionDenied()
        entry, home = found
        if not entry.allows_address(remote_addr):
            if record is not None:
                # A valid token used from outside its bound CIDRs was likely stolen: observers alert.
                record.tags[TAG_BOUND_CIDR_VIOLATION] = "1"
                record.accessor = entry.accessor
            raise PermissionDenied()
        return entry, home

    async def _mint_login_token(self, response: Response, mount_prefix: str, tokens: TokenStore) -> None:
        auth = response.auth
        assert auth is not None
        scope = self.namespaces.of_store(tokens)
        await self._attach_identity(auth, mount_prefix, scope)
        token_id, token_entry = await tokens.create_from_auth(
            auth, path=mount_prefix + "login", system=self.system
        )
        auth.client_token = token_id
        auth.accessor = token_entry.accessor
        auth.policies = list(token_entry.policies)
        auth.token_policies = list(token_entry.policies)
        auth.ttl = token_entry.ttl
        if token_entry.entity_id:
            auth.identity_policies = await scope.acls.identity_policies(token_entry)
            auth.policies = list(dict.fromkeys([*auth.policies, *auth.identity_policies]))

    async def _attach_identity(self, auth: Auth, mount_prefix: str, scope: NamespaceScope) -> None:
        """A login naming an alias gets its entity (created at the principal's first login).

        The alias is keyed by the auth mount's accessor and the alias name the method chose;
        ``internal_data["groups"]`` (the JWT groups claim) places the entity in the external
        groups whose group aliases on this mount carry those names. A disabled entity logs in
        to nothing (403), as in Vault.
        """
        if not auth.alias_name:
            return
        matched = scope.mounts.router.match(mount_prefix)
        if matched is None:
            return
        groups = auth.internal_data.get("groups")
        entity = await scope.identity.login(
            matched[0].entry.accessor,
            auth.alias_name,
            {str(k): str(v) for k, v in auth.alias_metadata.items()},
            [str(g) for g in groups] if isinstance(groups, list) else None,
        )
        if entity.disabled:
            raise PermissionDenied()
        auth.entity_id = entity.id


def _may_see_event(acl: ACL, path: str) -> bool:
    """Vault delivers an event when the token has ``subscribe`` on its path; we also accept ``read``
    (an event says less than a read answers, so a reader learns nothing new)."""
    try:
        capabilities = acl.capabilities(path)
    except StrongroomError:
        return False
    return any(cap in capabilities for cap in ("root", "read", "subscribe"))


def _matches_any(patterns: Any, path: str) -> bool:
    return any(re.fullmatch(p, path) for p in patterns)


def _names_own_wrapping_token(mount_type: str, rel_path: str, incoming: IncomingRequest) -> bool:
    """An unwrap or wrapping lookup whose wrapping token is the client token (no ``token`` in the body).

    Served without the ACL, as Vault's built-in response-wrapping policy allows: the
    handler accepts the client token only if it is a live wrapping token (else Vault's
    400 "wrapping token is not valid or does not exist") and consumes it on unwrap.
    """
    return mount_type == "system" and rel_path in SELF_SERVED_PATHS and not incoming.data.get("token")
