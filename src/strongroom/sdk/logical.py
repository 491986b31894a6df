"""The logical backend seam: what secrets engines and auth methods implement.

A logical backend never sees HTTP. The core hands it a :class:`Request` whose
``path`` is relative to the mount point and whose ``storage`` is the mount's
barrier view (it cannot reach outside it). The backend answers with a
:class:`Response` (or ``None`` for "no content") or raises a
:class:`strongroom.errors.StrongroomError`.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strongroom.errors import InvalidRequest, UnsupportedOperation
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import SystemView


class Operation(enum.StrEnum):
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    PATCH = "patch"
    DELETE = "delete"
    LIST = "list"
    SCAN = "scan"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, as far as a backend needs to know. Never includes the token itself."""

    accessor: str = ""
    policies: tuple[str, ...] = ()
    display_name: str = ""
    entity_id: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    namespace: str = ""


@dataclass(slots=True)
class Request:
    """One API call after authentication, as a backend sees it."""

    operation: Operation
    path: str
    data: dict[str, Any] = field(default_factory=dict)
    storage: StorageBackend | None = None
    caller: Caller = field(default_factory=Caller)
    client_token: str = ""
    remote_addr: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    mount_point: str = ""
    mount_type: str = ""
    mount_accessor: str = ""
    request_id: str = ""
    namespace: str = ""
    #: True when the caller holds ``sudo`` on this path (or the root policy); set by the core's ACL check.
    sudo: bool = False
    #: True for a request the router let through without a token (login paths).
    unauthenticated: bool = False
    #: Set by the core on a login whose principal is locked out (see ``LogicalBackend.login_principal``):
    #: the backend must refuse it exactly as it refuses wrong credentials, with the same error and the
    #: same work (e.g. the same password-hash verification), so the answer reveals nothing.
    login_locked: bool = False
    #: The TLS client certificate of the connection (PEM, leaf only), "" without one. The HTTP
    #: edge passes it only after the listener's handshake verified it against the listener's
    #: ``tls_client_ca_file``; backends that trust it (the ``cert`` auth method) verify it again
    #: against their own configuration.
    peer_certificate: str = ""
    #: The response-wrapping TTL the client asked for (``X-Vault-Wrap-TTL``, seconds; 0: none).
    #: The core wraps any answer with data, auth or a lease; backends only read it (``sys/wrapping/wrap``
    #: refuses to answer without one). ``sys/wrapping/rewrap`` sets it, and ``wrap_creation_path``,
    #: to wrap an answer again under its original terms.
    wrap_ttl: int = 0
    #: The ``creation_path`` of the wrapping token; "" means the request's own path.
    wrap_creation_path: str = ""

    def require_storage(self) -> StorageBackend:
        if self.storage is None:
            raise RuntimeError("request has no storage view (not routed)")
        return self.storage


@dataclass(slots=True)
class LeaseOptions:
    """Lease terms of a dynamic secret in a response.

    When the answering backend implements ``revoke_secret``, the core's expiration
    manager (``strongroom.core.leases``) registers a lease from these terms: ``ttl``
    0 means the mount default, both TTLs are clamped to the mount's max (mount tune,
    else the system max), and ``lease_id``/``ttl`` are filled in with what the client
    is told. ``internal`` is handed back to ``revoke_secret``/``renew_secret`` and
    never sent to the client.
    """

    ttl: int = 0
    max_ttl: int = 0
    renewable: bool = True
    internal: dict[str, Any] = field(default_factory=dict)
    #: Set by the core once it registered the lease (backends leave it empty); rendered as ``lease_id``.
    lease_id: str = ""


@dataclass(frozen=True, slots=True)
class SecretLease:
    """A lease as its issuing backend sees it on renewal and revocation (``strongroom.core.leases``).

    ``path`` is relative to the mount (the request path that issued the secret);
    ``internal`` is what the backend put in ``LeaseOptions.internal`` at issue.
    Times are seconds since the epoch on the core's clock.
    """

    lease_id: str
    path: str
    #: Kept out of ``repr``: a backend may keep identifiers here it would rather not see in logs.
    internal: Mapping[str, Any] = field(repr=False)
    issue_time: float
    expire_time: float


@dataclass(slots=True)
class Auth:
    """What a successful login (or token creation) grants. The core turns it into a token."""

    policies: list[str] = field(default_factory=list)
    display_name: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    ttl: int = 0
    max_ttl: int = 0
    explicit_max_ttl: int = 0
    period: int = 0
    num_uses: int = 0
    renewable: bool = True
    token_type: str = "service"
    bound_cidrs: list[str] = field(default_factory=list)
    alias_name: str = ""
    alias_metadata: dict[str, str] = field(default_factory=dict)
    internal_data: dict[str, Any] = field(default_factory=dict)
    no_default_policy: bool = False
    # Set only by the token store, which mints tokens itself; for every other
    # backend the core mints the token from the fields above after a login.
    client_token: str = ""
    accessor: str = ""
    entity_id: str = ""
    orphan: bool = False
    token_policies: list[str] = field(default_factory=list)
    #: Set by the core on a login: the entity's and its groups' policies (also in ``policies``).
    identity_policies: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RawResponse:
    """A non-JSON answer (a CRL, a PEM): sent as is."""

    status: int
    content_type: str
    body: bytes


#: A response tag (see ``Response.tags``): this answer revealed a honeytoken's data.
TAG_CANARY = "canary"


@dataclass(slots=True)
class Response:
    data: dict[str, Any] | None = None
    secret: LeaseOptions | None = None
    auth: Auth | None = None
    warnings: list[str] = field(default_factory=list)
    raw: RawResponse | None = None
    #: Overrides the HTTP status (e.g. KV v2 answers 404 *with* a body for a deleted version).
    status: int | None = None
    #: Facts for the core's request observers, never sent to the client: short, non-secret strings
    #: (e.g. ``{"canary": "true"}`` on a read of a honeytoken). The core copies them into the
    #: RequestRecord (``strongroom.core.hooks``); the alert detector reads them there.
    tags: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def list_of(keys: Sequence[str], extra: Mapping[str, Any] | None = None) -> Response:
        data: dict[str, Any] = {"keys": list(keys)}
        if extra:
            data.update(extra)
        return Response(data=data)


@dataclass
class BackendContext:
    """Everything a mounted backend gets at setup: its storage view and system view."""

    storage: StorageBackend
    system: SystemView
    mount_point: str
    mount_accessor: str
    options: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


def issues_leases(backend: LogicalBackend) -> bool:
    """Whether ``backend`` implements lease revocation (its class overrides ``revoke_secret``)."""
    return type(backend).revoke_secret is not LogicalBackend.revoke_secret


class LogicalBackend(abc.ABC):
    """A secrets engine or an auth method. One instance per mount."""

    #: The name users pass as ``type`` when mounting (e.g. "kv", "approle").
    type_name: str = ""
    #: "secret" or "auth".
    kind: str = "secret"

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx

    async def setup(self) -> None:
        """Called once after mounting (and after every unseal) before the first request."""

    async def cleanup(self) -> None:
        """Called when the mount is disabled or the server seals."""

    def unauthenticated_paths(self) -> Sequence[str]:
        """Regex patterns (relative to the mount) reachable without a token (e.g. ``login``)."""
        return ()

    def sudo_paths(self) -> Sequence[str]:
        """Regex patterns (relative to the mount) that need ``sudo`` on top of the normal capability."""
        return ()

    def login_principal(self, req: Request) -> str | None:
        """Who a login request claims to be, for the core's lockout: the principal's name, or None.

        Called by the core for requests to the backend's ``unauthenticated_paths`` before
        ``handle``. Return the name the backend will look the principal up by, normalised
        exactly as that lookup normalises it (userpass: the folded username; AppRole: the
        role_id), so every spelling that reaches one account shares one failure counter.
        Return None when the request is not a login or names nobody the backend could ever
        find (a malformed name); then no lockout applies. Must be cheap, must not verify
        anything and must not touch storage: it runs before the lockout check.

        The core keys failure counters by (mount accessor, principal), counts a login the
        backend refuses with a client error (400 or 403) as a failure, resets the counter
        on success, and sets ``Request.login_locked`` on logins of a locked principal.
        """
        return None

    #: Whether logins name a role (``login_role``), so a rate-limit quota can be set per role.
    login_roles: bool = False

    async def login_role(self, req: Request) -> str | None:
        """The role a login request is for, for rate-limit quotas with a ``role`` (Vault's role resolution).

        Called by the core before ``handle`` on this backend's ``unauthenticated_paths``, only when a
        quota with a role is set on this mount. Answer the role's name as its quota would name it, or
        None when the request is not a login or names no role; nothing is verified here.
        """
        return None

    async def revoke_secret(self, lease: SecretLease) -> None:
        """Revoke what ``lease`` stands for (drop the database user, revoke the certificate).

        A backend whose class overrides this method gets a lease registered by
        the core for every response carrying ``Response.secret``; one that does
        not (KV's refresh hint) gets none. Called at most once per lease by the
        expiration manager, from any process sharing storage; raise to report a
        failure (the manager retries with backoff). Must be idempotent on what
        it touches: a crash after it returned may make it run once more.
        """
        raise UnsupportedOperation("this backend does not issue leases")

    async def renew_secret(self, lease: SecretLease, increment: int) -> LeaseOptions:
        """New terms for a renewable lease (``ttl`` 0: the mount default). The core clamps to the max TTL.

        The default refuses: a backend opts in to renewal by overriding it.
        """
        raise InvalidRequest("lease is not renewable")

    async def existence(self, req: Request) -> bool | None:
        """For a write: does the target exist? ``None`` means "not tracked" (always ``update``)."""
        return None

    @abc.abstractmethod
    async def handle(self, req: Request) -> Response | None:
        """Serve one request routed to this mount."""
