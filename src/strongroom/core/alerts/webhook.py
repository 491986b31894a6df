"""The webhook sink: a signed JSON POST per alert, retried with backoff.

Body: ``{"type": "strongroom.alert", "version": 1, "sent_at": ..., "alert": {...}}``
(keys sorted, UTF-8). Header ``X-Strongroom-Signature: sha256=<hex>`` is
HMAC-SHA256 over the exact body bytes with the configured secret; receivers
recompute it and compare in constant time. ``alert.id`` stays the same across
retries, so a receiver can drop duplicates.

Every attempt goes through the egress check (``strongroom.sdk.egress``): the
host is resolved, every address checked against the policy, and the request
connects to a checked address (Host header and TLS server name keep the
original host), so a name that re-resolves elsewhere between check and connect
gains nothing. Proxies from the environment are ignored for the same reason;
redirects are not followed.

Retries: transport errors, a host name that does not resolve, 408, 429 and 5xx, up to ``max_attempts`` attempts with
exponential backoff (``backoff`` doubling, capped at ``max_backoff``). Other
answers and egress refusals are final. Failures are logged without the body.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from strongroom.core.alerts.model import rfc3339
from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import EgressPolicy, UnresolvableHost, check_url

log = logging.getLogger("strongroom.alerts")

SIGNATURE_HEADER = "X-Strongroom-Signature"
_RETRYABLE = frozenset({408, 429})


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str) -> bool:
    """Constant-time check of a signature header (for receivers and tests)."""
    return hmac.compare_digest(sign(secret, body).encode(), header.encode())


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    url: str
    secret: bytes = field(repr=False)
    timeout: float = 5.0
    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    egress: EgressPolicy = field(default_factory=EgressPolicy)


class WebhookSink:
    name = "webhook"

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not settings.secret:
            raise ValueError("a webhook needs a signing secret")
        # httpx logs every request's full URL at INFO, and webhook URLs often carry a token in their
        # path (chat and paging services): keep those lines out of the server log.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._client = httpx.AsyncClient(
            transport=transport, timeout=settings.timeout, follow_redirects=False, trust_env=False
        )

    def body(self, alert: dict[str, Any]) -> bytes:
        message = {"type": "strongroom.alert", "version": 1, "sent_at": rfc3339(self._clock()), "alert": alert}
        return orjson.dumps(message, option=orjson.OPT_SORT_KEYS)

    async def send(self, alert: dict[str, Any]) -> None:
        await self.deliver(alert)

    async def deliver(self, alert: dict[str, Any]) -> bool:
        """POST the alert until it is accepted or attempts run out; answer whether it was accepted."""
        body = self.body(alert)
        signature = sign(self.settings.secret, body)
        host = urlsplit(self.settings.url).hostname or "?"
        reason = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            status = 0
            refusal = ""
            try:
                status = await self._post(body, signature)
            except UnresolvableHost:
                reason = "the host name did not resolve"
            except InvalidRequest as refused:  # EgressDenied, or a URL that cannot be used
                refusal = refused.message
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            if refusal:
                log.error("alert webhook: %s; alert %s not delivered", refusal, alert.get("id"))
                return False
            if status:
                if 200 <= status < 300:
                    return True
                if status < 500 and status not in _RETRYABLE:
                    log.error("alert webhook at %s answered %d; alert %s not delivered", host, status, alert.get("id"))
                    return False
                reason = f"HTTP {status}"
            if attempt < self.settings.max_attempts:
                delay = min(self.settings.max_backoff, self.settings.backoff * 2 ** (attempt - 1))
                log.info("alert webhook at %s failed (%s); retry %d in %.1fs", host, reason, attempt, delay)
                await self._sleep(delay)
        log.error("alert webhook at %s failed %d times (%s); alert %s not delivered",
                  host, self.settings.max_attempts, reason, alert.get("id"))
        return False

    async def _post(self, body: bytes, signature: str) -> int:
        destination = await check_url(self.settings.url, self.settings.egress)
        parts = urlsplit(self.settings.url)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature,
            "Host": parts.netloc,
            "User-Agent": "strongroom-alerts/1",
        }
        last_error: httpx.HTTPError | None = None
        for address in destination.addresses:
            literal = f"[{address}]" if ":" in address else address
            pinned = urlunsplit((parts.scheme, f"{literal}:{destination.port}", parts.path or "/", parts.query, ""))
            try:
                reply = await self._client.post(
                    pinned, content=body, headers=headers, extensions={"sni_hostname": destination.host}
                )
            except httpx.ConnectError as exc:
                last_error = exc  # try the host's next checked address
                continue
            return reply.status_code
        assert last_error is not None
        raise last_error

    async def aclose(self) -> None:
        await self._client.aclose()
