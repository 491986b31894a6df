"""The webhook generator's one call: POST a JSON description of the rotation, read the new value back.

The request names the secret (mount, path, field, current version) and never
carries a secret value. The answer must be 200 with a JSON object whose
``value`` is a non-empty string, read no further than :data:`MAX_ANSWER_BYTES`.

The URL goes through the egress check (:func:`strongroom.sdk.egress.check_url`)
on every call and the connection goes to the exact address that was checked
(no second DNS answer: no rebinding), with the host name kept for TLS (SNI and
certificate checks against the system trust store). Redirects are not
followed. Loopback targets are refused unless the operator set
``STRONGROOM_KV_ROTATION_ALLOW_LOOPBACK=true`` (environment only, never the API).

Every failure is a :class:`WebhookFailed` naming the host and what went wrong,
never a body: a misbehaving endpoint could echo a credential.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.egress import EgressPolicy, check_url
from strongroom.sdk.outbound import BodyTooLarge, is_tls_failure, read_bounded

#: Seconds for one whole call (resolution excluded).
WEBHOOK_TIMEOUT = 10.0
MAX_ANSWER_BYTES = 64 * 1024


class WebhookFailed(InternalError):
    """The rotation webhook could not give a new value; the message names the host, never a body."""


async def fetch_value(url: str, request: dict[str, Any], egress: EgressPolicy) -> str:
    """POST ``request`` (JSON) to ``url`` and answer the ``value`` of its JSON answer."""
    try:
        destination = await check_url(url, egress)
    except InvalidRequest as refused:
        raise WebhookFailed(f"rotation webhook refused: {refused.message}") from None
    parts = urlsplit(url)
    where = f"the rotation webhook at {destination.host!r}"
    headers = {"Host": parts.netloc, "Accept": "application/json", "Content-Type": "application/json"}
    body = json.dumps(request).encode()
    tls_failed = False
    timeout = WEBHOOK_TIMEOUT
    try:
        async with asyncio.timeout(timeout), httpx.AsyncClient(
                timeout=timeout, verify=parts.scheme == "https", follow_redirects=False, trust_env=False) as client:
            for address in destination.addresses:
                literal = f"[{address}]" if ":" in address else address
                pinned = urlunsplit((parts.scheme, f"{literal}:{destination.port}", parts.path or "/", parts.query, ""))
                try:
                    async with client.stream("POST", pinned, headers=headers, content=body,
                                             extensions={"sni_hostname": destination.host}) as reply:
                        content = await read_bounded(reply, MAX_ANSWER_BYTES)
                except httpx.ConnectError as exc:
                    tls_failed = tls_failed or is_tls_failure(exc)
                    continue  # the host's next checked address
                except BodyTooLarge:
                    raise WebhookFailed(f"{where} answered more than {MAX_ANSWER_BYTES} bytes") from None
                except httpx.HTTPError as exc:
                    raise WebhookFailed(f"calling {where} failed ({type(exc).__name__})") from None
                return _value(reply.status_code, content, where)
    except TimeoutError:
        raise WebhookFailed(f"{where} did not answer within {timeout:g}s") from None
    if tls_failed:
        raise WebhookFailed(f"{where}: the TLS handshake failed")
    raise WebhookFailed(f"{where} is unreachable")


def _value(status: int, content: bytes, where: str) -> str:
    if status != 200:
        raise WebhookFailed(f"{where} answered HTTP {status}")
    try:
        answer = json.loads(content)
    except (ValueError, RecursionError):
        raise WebhookFailed(f"{where} did not answer JSON") from None
    value = answer.get("value") if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        raise WebhookFailed(f'{where} answered no "value" string')
    return value
