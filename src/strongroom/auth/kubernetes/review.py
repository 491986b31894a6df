"""The cluster's TokenReview API: asks the Kubernetes API server whether a token is valid *now*.

A local signature check cannot see revocation (a deleted pod or service
account); TokenReview can, so it is the primary check whenever
``kubernetes_host`` is configured. The outbound URL goes through the egress
check (:mod:`strongroom.sdk.egress`) on every call and the connection goes to
the exact address that was checked (no second DNS answer), with TLS verified
against ``kubernetes_ca_cert`` when one is configured (the system trust store
otherwise) and the certificate matched to the configured host name.

Failures: an unreachable, refusing or misbehaving API server is a
:class:`ReviewUnavailable` (500, naming the host only); a token the API
server does not authenticate is a :class:`TokenRejected` (403).
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from strongroom.auth.kubernetes.jws import TokenRejected
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.egress import EgressPolicy, check_url

log = logging.getLogger("strongroom.auth.kubernetes")

REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"
#: Seconds for the whole exchange with the API server; a login waits no longer than this.
REVIEW_TIMEOUT = 10.0
#: An answer larger than this is not a TokenReview.
MAX_ANSWER_BYTES = 1024 * 1024


class ReviewUnavailable(InternalError):
    """The TokenReview API could not give an answer (unreachable, refused, malformed reply)."""


@dataclass(frozen=True, slots=True)
class ReviewedUser:
    """What the API server says about an authenticated token."""

    username: str
    uid: str
    audiences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TokenReviewer:
    """Calls ``POST {host}/apis/authentication.k8s.io/v1/tokenreviews``."""

    host: str
    ca_pem: str
    egress: EgressPolicy
    timeout: float = REVIEW_TIMEOUT
    transport: httpx.AsyncBaseTransport | None = None

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_pem:
            context = ssl.create_default_context(cadata=self.ca_pem)
        return context

    async def review(self, token: str, bearer: str, audiences: tuple[str, ...]) -> ReviewedUser:
        """The user the API server authenticates ``token`` as; ``bearer`` authorises the call itself."""
        body: dict[str, Any] = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, **({"audiences": list(audiences)} if audiences else {})},
        }
        answer = await self._post(body, bearer)
        return _reviewed_user(answer)

    async def _post(self, body: dict[str, Any], bearer: str) -> dict[str, Any]:
        url = self.host.rstrip("/") + REVIEW_PATH
        try:
            destination = await check_url(url, self.egress)
        except InvalidRequest as refused:
            raise ReviewUnavailable(f"TokenReview refused: {refused.message}") from None
        parts = urlsplit(url)
        headers = {"Authorization": f"Bearer {bearer}", "Host": parts.netloc, "Accept": "application/json"}
        verify: ssl.SSLContext | bool = self._tls() if parts.scheme == "https" else False
        async with httpx.AsyncClient(timeout=self.timeout, verify=verify, follow_redirects=False,
                                     trust_env=False, transport=self.transport) as client:
            tls_failed = False
            for address in destination.addresses:
                literal = f"[{address}]" if ":" in address else address
                pinned = urlunsplit((parts.scheme, f"{literal}:{destination.port}", parts.path, "", ""))
                try:
                    reply = await client.post(pinned, json=body, headers=headers,
                                              extensions={"sni_hostname": destination.host})
                except httpx.ConnectError as exc:
                    tls_failed = tls_failed or _is_tls_failure(exc)
                    continue  # the host's next checked address
                except httpx.HTTPError as exc:
                    log.warning("TokenReview at %s failed: %s", destination.host, type(exc).__name__)
                    raise ReviewUnavailable(f"TokenReview at {destination.host!r} failed") from None
                return _answer(reply, destination.host)
        if tls_failed:
            raise ReviewUnavailable(f"TokenReview at {destination.host!r}: the TLS handshake failed "
                                    "(is kubernetes_ca_cert the cluster's CA?)")
        raise ReviewUnavailable(f"TokenReview at {destination.host!r} is unreachable")


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # the chain httpx -> httpcore -> ssl is short; bound it anyway
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _answer(reply: httpx.Response, host: str) -> dict[str, Any]:
    if reply.status_code in (401, 403):
        # The reviewer JWT (or the client's own token) may not create TokenReviews.
        raise ReviewUnavailable(f"TokenReview at {host!r} refused the reviewer's credentials "
                                f"(HTTP {reply.status_code})")
    if reply.status_code not in (200, 201) or len(reply.content) > MAX_ANSWER_BYTES:
        raise ReviewUnavailable(f"TokenReview at {host!r} answered HTTP {reply.status_code}")
    try:
        answer = reply.json()
    except ValueError:
        raise ReviewUnavailable(f"TokenReview at {host!r} answered something that is not JSON") from None
    if not isinstance(answer, dict):
        raise ReviewUnavailable(f"TokenReview at {host!r} answered something that is not a TokenReview")
    return answer


def _reviewed_user(answer: dict[str, Any]) -> ReviewedUser:
    status = answer.get("status")
    if not isinstance(status, dict):
        raise ReviewUnavailable("TokenReview answer has no status")
    if status.get("authenticated") is not True:
        # Vault's wording: the token is not (or no longer) valid in the cluster.
        raise TokenRejected("lookup failed: service account unauthorized; this could mean it has been "
                            "deleted or recreated with a new token")
    user = status.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("username"), str):
        raise ReviewUnavailable("TokenReview answer has no user")
    audiences = status.get("audiences") or []
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise ReviewUnavailable("TokenReview answer has malformed audiences")
    uid = user.get("uid")
    return ReviewedUser(user["username"], uid if isinstance(uid, str) else "", tuple(audiences))
