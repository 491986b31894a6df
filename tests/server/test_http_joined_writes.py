"""A response's status line and headers leave in the same write as its body, and nothing is held back."""

from __future__ import annotations

import asyncio
import socket

import httpx

from strongroom.server.http_protocol import JoinedResponseWrites


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def _run(scenario: object) -> None:
    asyncio.run(scenario)  # type: ignore[arg-type]


def test_headers_and_body_written_in_one_call() -> None:
    async def scenario() -> None:
        inner = RecordingTransport()
        joined = JoinedResponseWrites(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert inner.writes == []
        joined.write(b"body")
        assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        joined.write(b"more")  # later writes pass straight through
        assert inner.writes[-1] == b"more"
        await asyncio.sleep(0)  # the pending flush finds nothing held
        assert len(inner.writes) == 2

    _run(scenario())


def test_headers_without_a_body_leave_at_the_end_of_the_turn() -> None:
    async def scenario() -> None:
        inner = RecordingTransport()
        joined = JoinedResponseWrites(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n")  # a HEAD answer: no body write follows
        await asyncio.sleep(0)
        assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n"]

    _run(scenario())


def test_close_flushes_what_is_held_first_and_nothing_is_written_after() -> None:
    async def scenario() -> None:
        inner = RecordingTransport()
        joined = JoinedResponseWrites(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        joined.write(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        joined.close()
        assert inner.writes == [b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n"]
        assert inner.closed
        assert joined.is_closing()
        await asyncio.sleep(0)  # the scheduled flush must not write to the closed transport
        assert len(inner.writes) == 1

    _run(scenario())


def test_other_transport_methods_reach_the_real_transport() -> None:
    async def scenario() -> None:
        joined = JoinedResponseWrites(RecordingTransport(), asyncio.get_running_loop())  # type: ignore[arg-type]
        assert joined.get_extra_info("peername") == "info:peername"

    _run(scenario())


def _read_response(sock: socket.socket, *, head_only: bool = False) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed early"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while not head_only and len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed early"
        body += chunk
    return head, body


def test_keep_alive_connection_serves_get_head_204_and_a_large_body_in_order(dev_server: tuple[str, str]) -> None:
    address, token = dev_server
    url = httpx.URL(address)
    assert url.host is not None
    assert url.port is not None
    big = "x" * 300_000
    written = httpx.post(f"{address}/v1/secret/data/joined/big", headers={"X-Vault-Token": token},
                         json={"data": {"v": big}})
    assert written.status_code == 200
    auth = f"Host: x\r\nX-Vault-Token: {token}\r\n"
    with socket.create_connection((url.host, url.port)) as sock:
        sock.sendall(f"GET /v1/secret/data/joined/big HTTP/1.1\r\n{auth}\r\n".encode())
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 200")
        assert httpx.Response(200, content=body).json()["data"]["data"]["v"] == big
        sock.sendall(f"HEAD /v1/sys/health HTTP/1.1\r\n{auth}\r\n".encode())
        head, body = _read_response(sock, head_only=True)
        assert head.startswith(b"HTTP/1.1 200")
        assert body == b""
        sock.sendall(f"DELETE /v1/secret/data/joined/big HTTP/1.1\r\n{auth}\r\n".encode())
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 204")
        assert body == b""
        # Two requests in one segment: both answers come back, in order.
        sock.sendall(f"GET /v1/sys/health HTTP/1.1\r\n{auth}\r\nGET /v1/sys/nope HTTP/1.1\r\n{auth}\r\n".encode())
        first, _ = _read_response(sock)
        assert first.startswith(b"HTTP/1.1 200")
        second, _ = _read_response(sock)
        assert second.startswith(b"HTTP/1.1 40")
        sock.sendall(f"GET /v1/sys/health HTTP/1.1\r\n{auth}Connection: close\r\n\r\n".encode())
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 200")
        assert b'"initialized"' in body
        assert sock.recv(65536) == b""  # then the server closes
