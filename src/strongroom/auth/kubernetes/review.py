"""The cluster's TokenReview API: asks the Kubernetes API server whether a token is valid *now*.

(Also reads a service account's annotations, for ``use_annotations_as_alias_metadata``, and a
namespace's labels, for ``bound_service_account_namespace_selector``.)

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

import asyncio
import json
import logging
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

import httpx

from strongroom.auth.kubernetes.jws import TokenRejected
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.egress import Destination, EgressPolicy, check_url
from strongroom.sdk.outbound import BodyTooLarge, is_tls_failure, read_bounded

log = logging.getLogger("strongroom.auth.kubernetes")

REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"
#: Seconds for the whole exchange with the API server (resolution excluded); a login waits no longer.
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
        return ssl.create_default_context(cadata=self.ca_pem) if self.ca_pem else ssl.create_default_context()

    async def review(self, token: str, bearer: str, audiences: tuple[str, ...]) -> ReviewedUser:
        """The user the API server authenticates ``token`` as; ``bearer`` authorises the call itself."""
        body: dict[str, Any] = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, **({"audiences": list(audiences)} if audiences else {})},
        }
        answer = await self._call("POST", REVIEW_PATH, body, bearer, "TokenReview")
        return _reviewed_user(answer)

    async def annotations(self, namespace: str, name: str, bearer: str) -> dict[str, str]:
        """The annotations of service account ``namespace/name`` (read with ``bearer``'s permissions)."""
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/serviceaccounts/{quote(name, safe='')}"
        return await self._metadata_map(path, "annotations", bearer, "Service account lookup")

    async def namespace_labels(self, namespace: str, bearer: str) -> dict[str, str]:
        """The labels of ``namespace`` (read with ``bearer``'s permissions)."""
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}"
        return await self._metadata_map(path, "labels", bearer, "Namespace lookup")

    async def _metadata_map(self, path: str, key: str, bearer: str, what: str) -> dict[str, str]:
        answer = await self._call("GET", path, None, bearer, what)
        metadata = answer.get("metadata")
        found = metadata.get(key) if isinstance(metadata, dict) else None
        if not isinstance(found, dict):
            return {}
        return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}

    async def _call(self, method: str, path: str, body: dict[str, Any] | None, bearer: str,
                    what: str) -> dict[str, Any]:
        url = self.host.rstrip("/") + path
        try:
            destination = await check_url(url, self.egress)
        except InvalidRequest as refused:
            raise ReviewUnavailable(f"{what} refused: {refused.message}") from None
        parts = urlsplit(url)
        headers = {"Authorization": f"Bearer {bearer}", "Host": parts.netloc, "Accept": "application/json"}
        where = f"{what} at {destination.host!r}"
        try:
            # httpx's timeout bounds each phase; this bounds the whole exchange (a slow drip included).
            async with asyncio.timeout(self.timeout):
                return await self._exchange(method, parts, destination, body=body, headers=headers, where=where)
        except TimeoutError:
            raise ReviewUnavailable(f"{where} timed out") from None

    async def _exchange(self, method: str, parts: SplitResult, destination: Destination, *,
                        body: dict[str, Any] | None, headers: dict[str, str], where: str) -> dict[str, Any]:
        verify: ssl.SSLContext | bool = self._tls() if parts.scheme == "https" else False
        async with httpx.AsyncClient(timeout=self.timeout, verify=verify, follow_redirects=False,
                                     trust_env=False, transport=self.transport) as client:
            tls_failed = False
            for address in destination.addresses:
                literal = f"[{address}]" if ":" in address else address
                pinned = urlunsplit((parts.scheme, f"{literal}:{destination.port}", parts.path, "", ""))
                try:
                    async with client.stream(method, pinned, json=body, headers=headers,
                                             extensions={"sni_hostname": destination.host}) as reply:
                        content = await _bounded_body(reply, where)
                except httpx.ConnectError as exc:
                    tls_failed = tls_failed or is_tls_failure(exc)
                    continue  # the host's next checked address
                except httpx.HTTPError as exc:
                    log.warning("%s failed: %s", where, type(exc).__name__)
                    raise ReviewUnavailable(f"{where} failed") from None
                return _answer(reply.status_code, content, where)
        if tls_failed:
            raise ReviewUnavailable(f"{where}: the TLS handshake failed (is kubernetes_ca_cert the cluster's CA?)")
        raise ReviewUnavailable(f"{where} is unreachable")


async def _bounded_body(reply: httpx.Response, where: str) -> bytes:
    """The reply's body, read no further than :data:`MAX_ANSWER_BYTES`."""
    try:
        return await read_bounded(reply, MAX_ANSWER_BYTES)
    except BodyTooLarge:
        raise ReviewUnavailable(f"{where} answered more than {MAX_ANSWER_BYTES} bytes") from None


def _answer(status: int, content: bytes, where: str) -> dict[str, Any]:
    if status in (401, 403):
        # The reviewer JWT (or the client's own token) may not make this call.
        raise ReviewUnavailable(f"{where} refused the reviewer's credentials (HTTP {status})")
    if status not in (200, 201):
        raise ReviewUnavailable(f"{where} answered HTTP {status}")
    try:
        answer = json.loads(content)
    except ValueError:
        raise ReviewUnavailable(f"{where} answered something that is not JSON") from None
    if not isinstance(answer, dict):
        raise ReviewUnavailable(f"{where} answered something that is not a JSON object")
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
