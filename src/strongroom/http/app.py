"""The HTTP edge: a plain ASGI application that speaks Vault's wire format.

It only translates: HTTP method and query into an operation, the body into a
dict (within the limits), headers into token/namespace; and the core's outcome
(or error) into Vault's JSON shapes and status codes. Errors become status codes
here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from strongroom.core.core import IncomingRequest, Outcome
from strongroom.errors import InvalidRequest, PayloadTooLarge, StrongroomError, UnsupportedOperation
from strongroom.http import events
from strongroom.http.limits import RequestLimits, check_json_shape
from strongroom.http.render import render_outcome
from strongroom.sdk.fields import parse_duration
from strongroom.sdk.logical import Operation

log = logging.getLogger("strongroom.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[IncomingRequest], Awaitable[Outcome]]

MERGE_PATCH = b"application/merge-patch+json"
_JSON_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
# Go's strconv.ParseBool, which Vault uses for ?list= (anything else is a 400 there too).
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class HttpError(Exception):
    """An error raised by the edge itself before the core is involved."""


class VaultApp:
    """ASGI app for ``/v1/...``. ``handler`` is ``Core.handle`` (or a worker's equivalent)."""

    def __init__(
        self, handler: Handler, limits: RequestLimits | None = None, subscribe: events.Subscriber | None = None
    ) -> None:
        self.handler = handler
        self.limits = limits or RequestLimits()
        #: ``Core.subscribe_events``: serves ``sys/events/subscribe`` streams (``strongroom.http.events``).
        self.subscribe = subscribe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.subscribe is not None and events.is_event_stream(scope):
                await events.serve_sse(scope, receive, send, self.subscribe)
            else:
                await self._http(scope, receive, send)
        elif kind == "websocket":
            if self.subscribe is not None and scope["path"].startswith(events.PATH_PREFIX):
                await events.serve_websocket(scope, receive, send, self.subscribe)
            else:
                await receive()
                await send({"type": "websocket.close", "code": 1008})
        elif kind == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope["method"] == "HEAD"
        try:
            incoming = await self._parse(scope, receive)
            outcome = await self.handler(incoming)
            status, headers, body = render_outcome(outcome)
            if outcome.headers:
                headers = [*headers, *_header_pairs(outcome.headers)]
        except StrongroomError as exc:
            status, headers, body = exc.status, _JSON_HEADERS, orjson.dumps({"errors": exc.errors})
            if exc.headers:
                headers = [*headers, *_header_pairs(exc.headers)]
        except Exception:
            log.exception("internal error while serving %s %s", scope["method"], scope["path"])
            status, headers, body = 500, _JSON_HEADERS, b'{"errors":["internal error"]}'
        if status != 204:  # a 204 carries no Content-Length (RFC 9110 8.6)
            headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

    async def _parse(self, scope: Scope, receive: Receive) -> IncomingRequest:
        path: str = scope["path"]
        if not path.startswith("/v1/"):
            raise _not_found()
        method: str = scope["method"]
        if method == "GET" and path.startswith(events.PATH_PREFIX):
            raise InvalidRequest("subscribe with a WebSocket upgrade or with Accept: text/event-stream")
        query = _query(scope.get("query_string", b""))
        token = ""
        namespace = ""
        wrap_ttl = 0
        content_length = -1
        content_type = b""
        for name, value in scope["headers"]:
            if name == b"x-vault-token":
                token = value.decode("latin-1")
            elif name == b"authorization" and not token and value[:7].lower() == b"bearer ":
                token = value[7:].decode("latin-1").strip()
            elif name == b"x-vault-namespace":
                namespace = value.decode("latin-1")
            elif name == b"x-vault-wrap-ttl":
                wrap_ttl = _wrap_ttl(value)
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                try:
                    content_length = int(value)
                except ValueError:
                    raise InvalidRequest("invalid Content-Length header") from None
        if content_length > self.limits.max_request_size:
            raise PayloadTooLarge("http: request body too large")

        operation, data = _operation(method, query)
        if operation is Operation.PATCH:
            _check_merge_patch(content_type)
        if operation in (Operation.UPDATE, Operation.PATCH) or (
            operation is Operation.DELETE and content_length > 0
        ):
            body = await self._read_body(receive)
            if body.strip():
                parsed = _parse_json(body)
                check_json_shape(parsed, self.limits, encoded_size=len(body))
                if operation is Operation.DELETE:
                    data.update(parsed)
                else:
                    data = {**data, **parsed} if data else parsed
        client = scope.get("client")
        return IncomingRequest(
            operation=operation,
            path=path[4:],
            data=data,
            token=token.strip(),
            remote_addr=client[0] if client else "",
            namespace=namespace.strip(),
            peer_certificate=_peer_certificate(scope),
            wrap_ttl=wrap_ttl,
        )

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        limit = self.limits.max_request_size
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise InvalidRequest("client disconnected")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge("http: request body too large")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _header_pairs(extra: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]


def _not_found() -> StrongroomError:
    err = StrongroomError("not found", errors=[])
    err.status = 404
    return err


def _check_merge_patch(content_type: bytes) -> None:
    """PATCH bodies are JSON merge patches (RFC 7386); as in Vault, any other media type is a 415
    and a missing one a 400, before the body is read. The message does not echo the header."""
    media_type = content_type.split(b";", 1)[0].strip().lower()
    if media_type == MERGE_PATCH:
        return
    message = "PATCH requires Content-Type of application/merge-patch+json"
    if not media_type:
        raise InvalidRequest(message)
    err = StrongroomError(message)
    err.status = 415
    raise err


def _wrap_ttl(value: bytes) -> int:
    """Seconds from ``X-Vault-Wrap-TTL`` (a Vault duration: ``60``, ``90s``, ``5m``); empty means none.

    A value that does not parse is a 400 rather than an unwrapped answer: answering in
    clear would hand the secret to whoever relays the response.
    """
    text = value.decode("latin-1").strip()
    if not text:
        return 0
    ttl = parse_duration(text, "X-Vault-Wrap-TTL")
    if ttl <= 0:
        raise InvalidRequest("invalid X-Vault-Wrap-TTL: the wrapping TTL must be greater than zero")
    return ttl


def _query(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    data: dict[str, Any] = {}
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key in data:
            existing = data[key]
            data[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[key] = value
    return data


def _operation(method: str, query: dict[str, Any]) -> tuple[Operation, dict[str, Any]]:
    if method in ("GET", "HEAD"):
        if _query_flag(query, "list"):
            return Operation.LIST, query
        if _query_flag(query, "scan"):
            return Operation.SCAN, query
        return Operation.READ, query
    if method in ("POST", "PUT"):
        return Operation.UPDATE, {}
    if method == "PATCH":
        return Operation.PATCH, {}
    if method == "DELETE":
        return Operation.DELETE, query
    if method == "LIST":
        return Operation.LIST, query
    if method == "SCAN":
        return Operation.SCAN, query
    raise UnsupportedOperation(f"unsupported method {method!r}")


def _query_flag(query: dict[str, Any], name: str) -> bool:
    """Pop a boolean query parameter; absent or empty is False, the first of repeated values counts."""
    raw = query.pop(name, "")
    if isinstance(raw, list):
        raw = raw[0]
    if raw in _GO_TRUE:
        return True
    if raw == "" or raw in _GO_FALSE:
        return False
    raise InvalidRequest(f"invalid value for the {name!r} query parameter: expected a boolean")


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("failed to parse JSON input: the request body is not valid JSON") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise InvalidRequest("failed to parse JSON input: the request body must be a JSON object")
    return parsed


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _peer_certificate(scope: Scope) -> str:
    """The TLS client certificate the handshake verified (PEM), from ASGI's TLS extension; "" if none."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return str(chain[0]) if chain else ""
