"""Helpers shared by the in-process API and security tests.

* :func:`started_server` gives an initialised, unsealed :class:`InProcessServer`
  (dev mode: KV v2 at ``secret/``) driven by a :class:`ManualClock`.
* :func:`storage_snapshot` reads every entry of the server's physical storage,
  so a test can prove that a refused request changed nothing at all.
* :func:`raw_request` drives the ASGI app with a hand-built scope. httpx
  normalises URLs (``..``, ``.``) before sending them; a real HTTP server does
  not, so path-spelling tests must bypass the client. The scope is built the
  way uvicorn builds it: ``path`` is ``raw_path`` percent-decoded exactly once.
  It also counts how many body chunks the app pulled, which is how the tests
  prove that an oversized body is refused without being buffered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson
from tests.support.inprocess import InProcessServer

from strongroom.http.limits import RequestLimits
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import ManualClock

SEALED_BODY = {"errors": ["Vault is sealed"]}
DENIED_BODY = {"errors": ["permission denied"]}


@contextlib.contextmanager
def started_server(
    *, clock: ManualClock | None = None, limits: RequestLimits | None = None, initialise: bool = True
) -> Iterator[InProcessServer]:
    """An in-process server, initialised and unsealed unless ``initialise`` is False."""
    server = InProcessServer(clock=clock or ManualClock(), limits=limits)
    try:
        if initialise:
            server.init_and_unseal()
        yield server
    finally:
        server.close()


async def _walk(backend: StorageBackend, prefix: str, out: dict[str, bytes]) -> None:
    for name in await backend.list(prefix):
        key = prefix + name
        if name.endswith("/"):
            await _walk(backend, key, out)
        else:
            value = await backend.get(key)
            assert value is not None
            out[key] = value


def storage_snapshot(server: InProcessServer) -> dict[str, bytes]:
    """Every key and raw (encrypted) value in the server's physical storage."""
    # Events of earlier writes reach storage a moment after them (docs/events.md): let them land
    # first, so the snapshot holds what the server has done rather than what it is still doing.
    server.run(server.core.event_publisher.drain())
    out: dict[str, bytes] = {}
    server.run(_walk(server.physical, "", out))
    return out


@dataclass
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes
    chunks_read: int = 0

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class _Exchange:
    chunks: Iterator[bytes]
    chunks_read: int = 0
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)

    async def receive(self) -> MutableMapping[str, Any]:
        chunk = next(self.chunks, None)
        if chunk is None:
            # What a server hands over once the body is done and the client leaves.
            return {"type": "http.disconnect"}
        self.chunks_read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


def raw_request(
    server: InProcessServer,
    method: str,
    raw_target: bytes,
    *,
    token: str | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes | None = None,
    chunks: Iterator[bytes] | None = None,
) -> RawReply:
    """Send ``method raw_target`` (e.g. ``b"/v1/secret/data/a/../b?x=1"``) straight to the ASGI app.

    ``body`` is sent as one final chunk; ``chunks`` is an iterator of chunks the
    app may pull one by one (all marked ``more_body``), for streaming tests.
    ``token`` defaults to the server's root token; pass ``""`` for none.
    """
    raw_path, _, query = raw_target.partition(b"?")
    all_headers = list(headers)
    use = server.root_token if token is None else token
    if use:
        all_headers.append((b"x-vault-token", use.encode()))
    if body is not None:
        exchange = _Exchange(iter([]))

        async def receive_all() -> MutableMapping[str, Any]:
            exchange.chunks_read += 1
            return {"type": "http.request", "body": body, "more_body": False}

        receive = receive_all
    else:
        exchange = _Exchange(chunks if chunks is not None else iter([]))
        receive = exchange.receive
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": all_headers,
        "client": ("127.0.0.1", 40000),
        "server": ("strongroom.test", 80),
    }
    asyncio.run_coroutine_threadsafe(server.app(scope, receive, exchange.send), server.loop).result(timeout=60)
    return RawReply(exchange.status, exchange.headers, bytes(exchange.body), exchange.chunks_read)


def write_policy(server: InProcessServer, name: str, text: str) -> None:
    reply = server.request("PUT", f"sys/policies/acl/{name}", json={"policy": text})
    assert reply.status_code == 204, reply.text


def create_token(server: InProcessServer, *, token: str | None = None, **fields: Any) -> str:
    """Create a child token of ``token`` (root by default) and return its id."""
    reply = server.request("POST", "auth/token/create", token=token, json=fields)
    assert reply.status_code == 200, reply.text
    client_token: str = reply.json()["auth"]["client_token"]
    return client_token
