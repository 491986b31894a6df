"""SECURITY.md "denial of service by request shape" (CVE-2025-6203 deep/wide JSON, CVE-2023-6337
huge requests): size, depth, string-length and element-count limits hold on every path,
including unauthenticated ones, and health keeps answering during the attack."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import httpx
import pytest
from tests.api.api_support import raw_request, started_server, storage_snapshot
from tests.support.inprocess import InProcessServer

from strongroom.http.limits import RequestLimits

LIMIT = 64 * 1024
UNAUTHENTICATED = [
    "sys/unseal", "sys/init", "sys/seal-status", "sys/health", "auth/token/create",
    "sys/generate-root/attempt", "sys/generate-root/update", "sys/rekey/init", "sys/rekey/update", "sys/rekey/verify",
]


def deep_body(depth: int) -> bytes:
    return b'{"key":' + b"[" * depth + b"]" * depth + b"}"


def wide_object(entries: int) -> bytes:
    return b"{" + b",".join(b'"k%d":0' % i for i in range(entries)) + b"}"


def wide_array(elements: int) -> bytes:
    return b'{"key":[' + b",".join(b"0" for _ in range(elements)) + b"]}"


ATTACKS = {
    "deep": deep_body(5_000),
    "just past the depth limit": deep_body(RequestLimits().max_json_depth),
    "wide object": wide_object(10_001),
    "wide array": wide_array(10_001),
    "long string": b'{"key":"' + b"x" * (1024 * 1024 + 1) + b'"}',
    "long key": b'{"' + b"k" * (1024 * 1024 + 1) + b'":0}',
    "many small nested objects": b'{"key":[' + b",".join(b'{"a":[{"b":[]}]}' for _ in range(10_001)) + b"]}",
}


@pytest.fixture
def small() -> Iterator[InProcessServer]:
    """A server with a small request size limit, as a listener's max_request_size would set it."""
    with started_server(limits=RequestLimits(max_request_size=LIMIT)) as server:
        yield server


@pytest.mark.parametrize("name", ATTACKS)
def test_shaped_bodies_are_refused_on_every_unauthenticated_path(server: InProcessServer, name: str) -> None:
    before = storage_snapshot(server)
    for path in UNAUTHENTICATED:
        reply = server.request("PUT" if path != "sys/health" else "POST", path, token="", content=ATTACKS[name])
        assert reply.status_code in (400, 405), (path, reply.text)
        assert server.request("GET", "sys/health", token="").status_code == 200
    assert storage_snapshot(server) == before


@pytest.mark.parametrize("name", ATTACKS)
def test_shaped_bodies_are_refused_with_400_before_reaching_an_engine(server: InProcessServer, name: str) -> None:
    before = storage_snapshot(server)
    for path in ("secret/data/x", "auth/token/create", "sys/policies/acl/x", "no-such-mount/x"):
        reply = server.request("POST", path, token="", content=ATTACKS[name])
        assert reply.status_code == 400, (path, reply.text)
    assert storage_snapshot(server) == before


def endless() -> Iterator[bytes]:
    yield b'{"key":"'
    yield from itertools.repeat(b"x" * 8192)


def test_endless_bodies_on_unauthenticated_paths_are_cut_at_the_limit(small: InProcessServer) -> None:
    for path in UNAUTHENTICATED:
        reply = raw_request(small, "PUT", f"/v1/{path}".encode(), token="", chunks=endless())
        assert reply.status == 413, path
        assert reply.chunks_read <= 2 + LIMIT // 8192


def test_health_answers_while_attacks_are_in_flight(small: InProcessServer) -> None:
    async def attack(client: httpx.AsyncClient) -> int:
        async def body() -> object:
            yield b'{"key":"'
            for _ in range(LIMIT // 1024 + 8):
                yield b"x" * 1024
                await asyncio.sleep(0)

        reply = await client.put("/v1/sys/unseal", content=body())  # type: ignore[arg-type]
        return reply.status_code

    async def health(client: httpx.AsyncClient) -> int:
        return (await client.get("/v1/sys/health")).status_code

    async def storm() -> tuple[list[int], list[int]]:
        client = small.client
        attacks = [attack(client) for _ in range(20)]
        checks = [health(client) for _ in range(20)]
        results = await asyncio.gather(*attacks, *checks)
        return list(results[:20]), list(results[20:])

    attacked, healthy = small.run(storm())
    assert set(attacked) == {413}
    assert set(healthy) == {200}


def test_query_strings_do_not_smuggle_wide_data_into_a_write(server: InProcessServer) -> None:
    # Query parameters only ever feed reads; a write takes its data from the (checked) body.
    query = "&".join(f"k{i}=v" for i in range(2_000))
    reply = server.request("POST", f"secret/data/q?{query}", json={"data": {"a": "b"}})
    assert reply.status_code == 200
    assert server.request("GET", "secret/data/q").json()["data"]["data"] == {"a": "b"}
