"""``GET /v1/sys/events/subscribe/:eventType``: the event stream over WebSocket or server-sent events.

The core decides who may subscribe and which events each subscriber sees
(``Core.subscribe_events``); this module only speaks the two wire formats:

* WebSocket (as Vault): each event is one text message holding its JSON envelope.
  A refused subscription is answered before the upgrade with the usual JSON
  error body and status (ASGI's WebSocket denial response).
* Server-sent events (``Accept: text/event-stream``, our addition): each event is
  ``id:``/``event:``/``data:`` lines; a comment line every ``KEEPALIVE`` seconds
  lets the server notice a client that went away.

Either way the stream ends when the client leaves, the token is revoked, the node
seals, or the subscriber falls too far behind (slow consumers are dropped, not
buffered); WebSocket closes with code 1008 and the reason, SSE sends a final
``event: close`` whose data is ``{"reason": ...}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from strongroom.core.events import Subscription
from strongroom.core.events.filter_expr import parse_filter
from strongroom.errors import InvalidRequest, StrongroomError

log = logging.getLogger("strongroom.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: ``Core.subscribe_events``: (token, remote address, event type, path prefix, filter) -> subscription.
Subscriber = Callable[..., Awaitable[Subscription]]

PATH_PREFIX = "/v1/sys/events/subscribe/"
KEEPALIVE = 15.0
_JSON_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


@dataclass(frozen=True, slots=True)
class StreamRequest:
    token: str
    remote_addr: str
    event_type: str
    path_prefix: str
    filter: str


def is_event_stream(scope: Scope) -> bool:
    """A GET of the subscribe path asking for server-sent events (else it is an ordinary request)."""
    if scope["method"] != "GET" or not scope["path"].startswith(PATH_PREFIX):
        return False
    return any(name == b"accept" and b"text/event-stream" in value for name, value in scope["headers"])


def parse_stream_request(scope: Scope) -> StreamRequest:
    """Token, event type and filters of a subscribe request; 400 for what we do not serve."""
    path: str = scope["path"]
    event_type = unquote(path[len(PATH_PREFIX):])
    if not event_type:
        raise InvalidRequest("missing event type: use sys/events/subscribe/<type> ('*' for every type)")
    query: dict[str, str] = {}
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        query.setdefault(key, value)
    as_json = query.get("json", "")  # absent: JSON too (the only format served)
    if as_json in _FALSE:
        raise InvalidRequest("only JSON events are served: use json=true (protobuf is not supported)")
    if as_json and as_json not in _TRUE:
        raise InvalidRequest("invalid value for the 'json' query parameter: expected a boolean")
    namespaces = [part for part in re.split(r"[,\s]+", query.get("namespaces", "")) if part not in ("", "root", "/")]
    if namespaces:
        raise InvalidRequest("namespaces are not supported for event subscriptions")
    token = ""
    for name, value in scope["headers"]:
        if name == b"x-vault-token":
            token = value.decode("latin-1").strip()
        elif name == b"authorization" and not token and value[:7].lower() == b"bearer ":
            token = value[7:].decode("latin-1").strip()
        elif name == b"x-vault-namespace" and value.strip() not in (b"", b"root", b"root/"):
            raise InvalidRequest("namespaces are not supported for event subscriptions")
    expression = query.get("filter", "")
    parse_filter(expression)  # a 400 now rather than a stream that never matches
    client = scope.get("client")
    return StreamRequest(
        token=token,
        remote_addr=client[0] if client else "",
        event_type=event_type,
        path_prefix=query.get("path_prefix", "").lstrip("/"),
        filter=expression,
    )


async def _open(subscribe: Subscriber, request: StreamRequest) -> Subscription:
    return await subscribe(
        request.token, request.remote_addr, request.event_type, request.path_prefix, request.filter
    )


def _error_body(exc: Exception) -> tuple[int, bytes]:
    if isinstance(exc, StrongroomError):
        return exc.status, orjson.dumps({"errors": exc.errors})
    log.exception("internal error while opening an event subscription")
    return 500, b'{"errors":["internal error"]}'


async def serve_websocket(scope: Scope, receive: Receive, send: Send, subscribe: Subscriber) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    try:
        sub = await _open(subscribe, parse_stream_request(scope))
    except Exception as exc:
        status, body = _error_body(exc)
        await _deny(scope, send, status, body)
        return
    try:
        await send({"type": "websocket.accept"})
        reason = await _pump(sub, receive, lambda event: send({"type": "websocket.send", "text": _text(event)}))
        if reason:
            await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
    except OSError:
        pass  # the client went away mid-send
    finally:
        sub.close()


async def serve_sse(scope: Scope, receive: Receive, send: Send, subscribe: Subscriber) -> None:
    try:
        sub = await _open(subscribe, parse_stream_request(scope))
    except Exception as exc:
        status, body = _error_body(exc)
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def emit(event: dict[str, Any] | None) -> None:
        if event is None:
            chunk = b": keepalive\n\n"
        else:
            chunk = b"id: %s\nevent: %s\ndata: %s\n\n" % (
                str(event["id"]).encode(),
                str(event["type"]).encode(),
                orjson.dumps(event),
            )
        await send({"type": "http.response.body", "body": chunk, "more_body": True})

    try:
        reason = await _pump(sub, receive, emit, keepalive=True)
        tail = b"event: close\ndata: %s\n\n" % orjson.dumps({"reason": reason}) if reason else b""
        await send({"type": "http.response.body", "body": tail, "more_body": False})
    except OSError:
        pass
    finally:
        sub.close()


async def _pump(
    sub: Subscription,
    receive: Receive,
    emit: Callable[[Any], Awaitable[None]],
    *,
    keepalive: bool = False,
) -> str:
    """Forward events until the stream ends. Answers why it ended ("" when the client left)."""
    gone = asyncio.ensure_future(_client_gone(receive))
    try:
        while True:
            getter = asyncio.ensure_future(sub.next())
            done, _ = await asyncio.wait({getter, gone}, timeout=KEEPALIVE, return_when=asyncio.FIRST_COMPLETED)
            if gone in done:
                getter.cancel()
                return ""
            if getter not in done:
                getter.cancel()
                if keepalive:
                    await emit(None)
                continue
            event = getter.result()
            if event is None:
                return sub.closed_reason or "closed"
            await emit(event)
    finally:
        gone.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gone


async def _client_gone(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] in ("http.disconnect", "websocket.disconnect"):
            return


async def _deny(scope: Scope, send: Send, status: int, body: bytes) -> None:
    """Refuse the upgrade with an HTTP answer (ASGI's denial response), else a policy-violation close."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


def _text(event: dict[str, Any]) -> str:
    return orjson.dumps(event).decode()
