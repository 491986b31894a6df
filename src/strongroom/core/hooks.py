"""Where audit, metrics and alerting attach to the request path.

The core calls an :class:`AuditBroker` before a routed request is served and
again before its answer leaves (fail closed: an exception from either stops
the request), and tells every :class:`RequestObserver` what happened once the
request is over. Observers see no secret values: only the facts in
:class:`RequestRecord`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from strongroom.errors import StrongroomError
from strongroom.sdk.logical import Request, Response

if TYPE_CHECKING:
    from strongroom.core.mounts import MountEntry
    from strongroom.core.tokens.store import TokenEntry
    from strongroom.core.wrapping.info import WrapInfo

log = logging.getLogger("strongroom.core")


@dataclass(slots=True)
class AuditEvent:
    """One routed request as the audit broker sees it (raw values: the broker HMACs them)."""

    request: Request
    mount: MountEntry
    token: TokenEntry | None = None
    client_token: str = ""
    response: Response | None = None
    error: StrongroomError | None = None
    #: Set when the answer was wrapped (``response`` is then empty: the wrapped data is never audited).
    wrap_info: WrapInfo | None = None
    #: The request's namespace: its id and full path ("root" and "" for the root namespace).
    namespace_id: str = "root"
    namespace_path: str = ""


class AuditBroker(Protocol):
    async def log_request(self, event: AuditEvent) -> None:
        """Record the request; raise (any error) when no enabled device recorded it."""

    async def log_response(self, event: AuditEvent) -> None:
        """Record the answer before it is sent; raise when no enabled device recorded it."""


class BarrierState(Protocol):
    """Per-process state read from the barrier beside mounts and policies (e.g. the audit device table).

    ``load`` runs after unseal and again whenever the storage generation changes (a
    change made through any process), ``unload`` before the barrier seals.
    """

    async def load(self) -> None: ...

    async def unload(self) -> None: ...


class NoAudit:
    """The broker while no audit device is enabled: nothing to record, nothing to refuse."""

    async def log_request(self, event: AuditEvent) -> None:
        return None

    async def log_response(self, event: AuditEvent) -> None:
        return None


@dataclass(slots=True)
class RequestRecord:
    """What observers learn about a finished request. Never a token, never a value."""

    request_id: str
    operation: str
    path: str
    status: int
    duration: float
    remote_addr: str = ""
    mount_type: str = ""
    mount_point: str = ""
    accessor: str = ""
    entity_id: str = ""
    policies: tuple[str, ...] = ()
    #: For login paths: the auth method type, and whether the login succeeded.
    login_method: str = ""
    login_succeeded: bool | None = None
    permission_denied: bool = False
    error: str = ""
    #: Facts a backend or the core wants observers to know (e.g. "canary": path).
    tags: dict[str, str] = field(default_factory=dict)


class RequestObserver(Protocol):
    def observe(self, record: RequestRecord) -> None:
        """Called once per request after it finished; must be cheap and must not raise."""


def notify(observers: list[RequestObserver], record: RequestRecord) -> None:
    for observer in observers:
        try:
            observer.observe(record)
        except Exception:
            log.exception("request observer %r failed", type(observer).__name__)
