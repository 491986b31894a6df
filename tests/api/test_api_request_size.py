"""Oversized bodies answer 413 before they are buffered, whether or not they declare a length.

"Before buffering" is measured, not assumed: the raw ASGI driver counts how
many body chunks the app pulled, so a server that read the whole body first
(or kept reading an endless one) fails these tests.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import pytest
from tests.api.api_support import raw_request, started_server, storage_snapshot
from tests.support.inprocess import InProcessServer

from strongroom.http.limits import RequestLimits

LIMIT = 4096
CHUNK = 1024
TOO_LARGE = {"errors": ["http: request body too large"]}


@pytest.fixture
def small() -> Iterator[InProcessServer]:
    with started_server(limits=RequestLimits(max_request_size=LIMIT)) as server:
        assert server.request("POST", "secret/data/app", json={"data": {"user": "alice"}}).status_code == 200
        yield server


def endless_json() -> Iterator[bytes]:
    """A body that never ends: a JSON object opening, then padding forever."""
    yield b'{"data": {"user": "'
    yield from itertools.repeat(b"x" * CHUNK)


def test_declared_oversized_body_answers_413_without_reading_it(small: InProcessServer) -> None:
    before = storage_snapshot(small)
    reply = raw_request(
        small, "POST", b"/v1/secret/data/app",
        headers=[(b"content-length", str(LIMIT + 1).encode()), (b"content-type", b"application/json")],
        chunks=endless_json(),
    )
    assert reply.status == 413
    assert reply.json() == TOO_LARGE
    assert reply.chunks_read == 0
    assert storage_snapshot(small) == before


def test_streamed_oversized_body_without_length_answers_413_after_at_most_the_limit(small: InProcessServer) -> None:
    before = storage_snapshot(small)
    reply = raw_request(small, "POST", b"/v1/secret/data/app", chunks=endless_json())
    assert reply.status == 413
    assert reply.json() == TOO_LARGE
    # The opening chunk plus LIMIT / CHUNK padding chunks reach the limit; one more crosses it.
    assert reply.chunks_read <= 2 + LIMIT // CHUNK
    assert storage_snapshot(small) == before


def test_body_longer_than_its_declared_length_is_still_cut_at_the_limit(small: InProcessServer) -> None:
    reply = raw_request(
        small, "POST", b"/v1/secret/data/app", headers=[(b"content-length", b"10")], chunks=endless_json()
    )
    assert reply.status == 413
    assert reply.chunks_read <= 2 + LIMIT // CHUNK


def test_chunked_upload_through_the_http_client_answers_413(small: InProcessServer) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"data": {"user": "'
        for _ in range(10):
            yield b"x" * CHUNK
        yield b'"}}'

    before = storage_snapshot(small)
    reply = small.request("POST", "secret/data/app", content=chunks())
    assert reply.status_code == 413
    assert reply.json() == TOO_LARGE
    assert storage_snapshot(small) == before


def test_body_exactly_at_the_limit_is_accepted(small: InProcessServer) -> None:
    frame = b'{"data": {"user": ""}}'
    body = frame[:-3] + b"y" * (LIMIT - len(frame)) + frame[-3:]
    assert len(body) == LIMIT
    reply = small.request("POST", "secret/data/app", content=body)
    assert reply.status_code == 200, reply.text


def test_oversized_body_is_refused_on_unauthenticated_endpoints_too(small: InProcessServer) -> None:
    for path in (b"/v1/sys/unseal", b"/v1/sys/init", b"/v1/auth/token/create"):
        reply = raw_request(small, "POST", path, token="", chunks=endless_json())
        assert reply.status == 413, path
        assert reply.chunks_read <= 2 + LIMIT // CHUNK


def test_health_keeps_answering_between_oversized_requests(small: InProcessServer) -> None:
    for _ in range(20):
        assert raw_request(small, "PUT", b"/v1/secret/data/app", chunks=endless_json()).status == 413
        assert small.request("GET", "sys/health", token="").status_code == 200
    assert small.request("GET", "secret/data/app").json()["data"]["data"] == {"user": "alice"}


def test_default_limit_is_32_mebibytes() -> None:
    assert RequestLimits().max_request_size == 32 * 1024 * 1024
