"""LIST and SCAN, Vault's extension methods, reach the server over a real socket."""

from __future__ import annotations

import socket
import time

import httpx


def _host_port(address: str) -> tuple[str, int]:
    url = httpx.URL(address)
    assert url.host is not None
    assert url.port is not None
    return url.host, url.port


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _request(method: str, path: str, token: str) -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: {token}\r\n\r\n".encode()


def test_list_verb_lists_like_query_parameter(dev_server: tuple[str, str]) -> None:
    address, token = dev_server
    httpx.post(f"{address}/v1/secret/data/ext/a", headers={"X-Vault-Token": token}, json={"data": {"k": "v"}})
    verb = httpx.request("LIST", f"{address}/v1/secret/metadata/ext", headers={"X-Vault-Token": token})
    query = httpx.get(f"{address}/v1/secret/metadata/ext?list=true", headers={"X-Vault-Token": token})
    assert verb.status_code == 200
    assert verb.json()["data"] == query.json()["data"] == {"keys": ["a"]}


def test_scan_verb_lists_recursively(dev_server: tuple[str, str]) -> None:
    address, token = dev_server
    httpx.post(f"{address}/v1/secret/data/scan/x/y", headers={"X-Vault-Token": token}, json={"data": {"k": "v"}})
    resp = httpx.request("SCAN", f"{address}/v1/secret/metadata/scan", headers={"X-Vault-Token": token})
    assert resp.status_code == 200
    assert resp.json()["data"]["keys"] == ["x/y"]


def test_method_token_split_across_tcp_segments_is_understood(dev_server: tuple[str, str]) -> None:
    address, token = dev_server
    raw = _request("LIST", "/v1/sys/policies/acl", token)
    with socket.create_connection(_host_port(address)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(raw[:2])
        time.sleep(0.05)
        sock.sendall(raw[2:])
        answer = _read_response(sock)
    assert answer.startswith(b"HTTP/1.1 200")
    assert b'"default"' in answer


def test_keep_alive_connection_mixes_ordinary_and_extension_methods(dev_server: tuple[str, str]) -> None:
    address, token = dev_server
    with socket.create_connection(_host_port(address)) as sock:
        for method, path in [("GET", "/v1/sys/health"), ("LIST", "/v1/sys/policies/acl"),
                             ("GET", "/v1/sys/policies/acl?list=true"), ("LIST", "/v1/sys/policies/acl")]:
            sock.sendall(_request(method, path, token))
            assert _read_response(sock).startswith(b"HTTP/1.1 200"), method
