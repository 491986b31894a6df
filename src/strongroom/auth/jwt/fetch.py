"""Fetching the public JSON documents a JWT mount trusts (JWKS, OIDC discovery), through the egress check.

Every URL goes through :func:`strongroom.sdk.egress.check_url` on every fetch
and the connection goes to the exact address that was checked (no second DNS
answer, so no rebinding), with the configured host name kept for TLS (SNI and
certificate matching). TLS is verified against the configured CA PEM when one
is given, the system trust store otherwise. Redirects are not followed (a
redirect could lead past the egress check). Answers are read no further than
:data:`MAX_DOCUMENT_BYTES` and the whole exchange is bounded by a timeout.

Failures are :class:`DocumentUnavailable` (500) naming the host and what went
wrong, never a body or a header value.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.egress import EgressPolicy, check_url
from strongroom.sdk.outbound import BodyTooLarge, is_tls_failure, read_bounded

log = logging.getLogger("strongroom.auth.jwt")

#: Seconds for one whole fetch (resolution excluded).
FETCH_TIMEOUT = 10.0
#: A JWKS or discovery document larger than this is refused.
MAX_DOCUMENT_BYTES = 1024 * 1024
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d{1,9})\s*(?:,|$)", re.IGNORECASE)


class DocumentUnavailable(InternalError):
    """A JWKS or discovery document could not be fetched or was not a JSON object."""


@dataclass(frozen=True, slots=True)
class Document:
    """A fetched JSON object and the ``Cache-Control: max-age`` its server sent (None when absent)."""

    body: dict[str, Any]
    max_age: int | None


@dataclass(frozen=True, slots=True)
class Fetcher:
    """GETs JSON documents; ``transport`` exists for tests of transport failures only."""

    egress: EgressPolicy
    timeout: float = FETCH_TIMEOUT
    transport: httpx.AsyncBaseTransport | None = None

    async def get_json(self, url: str, ca_pem: str, what: str) -> Document:
        """The JSON object at ``url``; ``what`` names the document in errors (e.g. ``"JWKS"``)."""
        try:
            destination = await check_url(url, self.egress)
        except InvalidRequest as refused:
            raise DocumentUnavailable(f"fetching the {what} refused: {refused.message}") from None
        parts = urlsplit(url)
        where = f"the {what} at {destination.host!r}"
        try:
            verify: ssl.SSLContext | bool = (
                (ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context())
                if parts.scheme == "https" else False)
        except (ssl.SSLError, ValueError):
            raise DocumentUnavailable(f"the CA certificate configured for {where} cannot be loaded") from None
        headers = {"Host": parts.netloc, "Accept": "application/json"}
        try:
            tls_failed = False
            async with asyncio.timeout(self.timeout), httpx.AsyncClient(
                    timeout=self.timeout, verify=verify, follow_redirects=False, trust_env=False,
                    transport=self.transport) as client:
                for address in destination.addresses:
                    literal = f"[{address}]" if ":" in address else address
                    pinned = urlunsplit((parts.scheme, f"{literal}:{destination.port}", parts.path or "/",
                                         parts.query, ""))
                    try:
                        async with client.stream("GET", pinned, headers=headers,
                                                 extensions={"sni_hostname": destination.host}) as reply:
                            content = await _bounded(reply, where)
                    except httpx.ConnectError as exc:
                        tls_failed = tls_failed or is_tls_failure(exc)
                        continue  # the host's next checked address
                    except httpx.HTTPError as exc:
                        log.warning("fetching %s failed: %s", where, type(exc).__name__)
                        raise DocumentUnavailable(f"fetching {where} failed") from None
                    return _document(reply, content, where)
        except TimeoutError:
            raise DocumentUnavailable(f"fetching {where} timed out") from None
        if tls_failed:
            raise DocumentUnavailable(f"{where}: the TLS handshake failed (is the configured CA the server's CA?)")
        raise DocumentUnavailable(f"{where} is unreachable")


async def _bounded(reply: httpx.Response, where: str) -> bytes:
    try:
        return await read_bounded(reply, MAX_DOCUMENT_BYTES)
    except BodyTooLarge:
        raise DocumentUnavailable(f"{where} is larger than {MAX_DOCUMENT_BYTES} bytes") from None


def _document(reply: httpx.Response, content: bytes, where: str) -> Document:
    if reply.status_code != 200:
        raise DocumentUnavailable(f"{where} answered HTTP {reply.status_code}")
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        raise DocumentUnavailable(f"{where} is not JSON") from None
    if not isinstance(body, dict):
        raise DocumentUnavailable(f"{where} is not a JSON object")
    found = _MAX_AGE.search(reply.headers.get("cache-control", ""))
    return Document(body, int(found.group(1)) if found else None)
