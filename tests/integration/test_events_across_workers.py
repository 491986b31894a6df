"""sys/events/subscribe over real HTTP against a two-worker node: the subscriber's connection is
held by one worker, the change is made through the other, and the event still arrives.

WebSocket clients use the ``websockets`` library; server-sent events use httpx streaming.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.integration.conftest import Node
from tests.integration.process_harness import REQUEST_TIMEOUT, address_port, owner_of_connection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

CANARY = "canary-value-7f3d9b1e"
RECV_TIMEOUT = 15.0


def ws_url(node: Node, event_type: str, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in {"json": "true", **params}.items())
    return node.server.address.replace("http://", "ws://") + f"/v1/sys/events/subscribe/{event_type}?{query}"


@contextlib.contextmanager
def ws_on_worker(node: Node, pid: int, event_type: str, token: str, **params: str) -> Iterator[ClientConnection]:
    """A WebSocket subscription whose TCP connection worker ``pid`` accepted."""
    pids = node.workers()
    port = address_port(node.server.address)
    for _ in range(200):
        with connect(ws_url(node, event_type, **params), additional_headers={"X-Vault-Token": token},
                     open_timeout=REQUEST_TIMEOUT) as ws:
            if owner_of_connection(port, ws.socket.getsockname()[1], pids) == pid:
                yield ws
                return
    raise AssertionError(f"no WebSocket reached worker {pid}")


def next_event(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=RECV_TIMEOUT))


def test_websocket_subscriber_on_one_worker_sees_a_write_made_through_the_other(node: Node) -> None:
    first, second = pids = node.workers()
    with ws_on_worker(node, second, "kv-v2/data-write", node.api.token) as ws, \
            node.api.pinned(first, pids) as writer:
        written = writer.request("POST", "secret/data/app/db", json={"data": {"password": CANARY}})
        assert written.status_code == 200, written.text
        raw = ws.recv(timeout=RECV_TIMEOUT)
    assert CANARY not in raw  # never a secret value
    event = json.loads(raw)
    assert event["specversion"] == "1.0"
    assert event["datacontenttype"] == "application/cloudevents"
    data = event["data"]
    assert data["event_type"] == "kv-v2/data-write"
    assert data["event"]["id"] == event["id"]
    assert data["event"]["metadata"] == {
        "path": "secret/data/app/db",
        "data_path": "secret/data/app/db",
        "operation": "data-write",
        "modified": "true",
        "current_version": "1",
        "oldest_version": "0",
    }
    assert data["plugin_info"]["mount_path"] == "secret/"
    assert data["plugin_info"]["plugin"] == "kv"
    assert data["plugin_info"]["mount_class"] == "secret"


def test_glob_path_prefix_and_filter_select_events(node: Node) -> None:
    first, second = pids = node.workers()
    with ws_on_worker(node, first, "kv-v2/*", node.api.token, path_prefix="secret/data/app/") as by_prefix, \
            ws_on_worker(node, second, "kv*", node.api.token,
                         filter='operation%20!=%20%22data-write%22') as by_filter, \
            node.api.pinned(second, pids) as writer:
        assert writer.request("POST", "secret/data/other", json={"data": {"a": CANARY}}).status_code == 200
        assert writer.request("POST", "secret/data/app/x", json={"data": {"a": CANARY}}).status_code == 200
        assert writer.request("DELETE", "secret/data/app/x").status_code == 204
        assert writer.request("POST", "secret/undelete/app/x", json={"versions": [1]}).status_code == 204
        assert writer.request("POST", "secret/destroy/app/x", json={"versions": [1]}).status_code == 204
        assert writer.request("DELETE", "secret/metadata/app/x").status_code == 204

        seen = [next_event(by_prefix)["data"]["event_type"] for _ in range(5)]
        assert seen == ["kv-v2/data-write", "kv-v2/data-delete", "kv-v2/undelete", "kv-v2/destroy",
                        "kv-v2/metadata-delete"]
        filtered = [next_event(by_filter)["data"]["event"]["metadata"]["operation"] for _ in range(4)]
        assert filtered == ["data-delete", "undelete", "destroy", "metadata-delete"]


def test_events_only_for_paths_the_token_may_read_and_subscribe_needs_read_on_the_type(node: Node) -> None:
    policy = """
    path "sys/events/subscribe/*" { capabilities = ["read"] }
    path "secret/data/team-a/*" { capabilities = ["read"] }
    path "secret/data/shared/*" { capabilities = ["subscribe"] }
    """
    assert node.api.request("PUT", "sys/policies/acl/watcher", json={"policy": policy}).status_code == 204
    token = node.api.request("POST", "auth/token/create", json={"policies": ["watcher"]}).json()["auth"][
        "client_token"]
    no_subscribe = node.api.request("POST", "auth/token/create", json={"policies": ["default"]}).json()["auth"][
        "client_token"]

    refused_headers = {"X-Vault-Token": no_subscribe}
    with pytest.raises(InvalidStatus) as refused, \
            connect(ws_url(node, "*"), additional_headers=refused_headers, open_timeout=REQUEST_TIMEOUT):
        pass
    assert refused.value.response.status_code == 403
    assert b"permission denied" in refused.value.response.body
    with pytest.raises(InvalidStatus) as no_token, connect(ws_url(node, "*"), open_timeout=REQUEST_TIMEOUT):
        pass
    assert no_token.value.response.status_code == 403

    first, _ = node.workers()
    with ws_on_worker(node, first, "*", token) as ws:
        for path in ("secret/data/team-b/x", "secret/data/team-a/x", "secret/data/shared/y"):
            assert node.api.request("POST", path, json={"data": {"v": CANARY}}).status_code == 200
        got = [next_event(ws)["data"]["event"]["metadata"]["data_path"] for _ in range(2)]
        assert got == ["secret/data/team-a/x", "secret/data/shared/y"]
        # Revoking the token ends the stream.
        assert node.api.request("POST", "auth/token/revoke", json={"token": token}).status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=RECV_TIMEOUT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008


def test_server_sent_events_stream_the_same_events(node: Node) -> None:
    first, second = pids = node.workers()
    port = address_port(node.server.address)
    headers = {"X-Vault-Token": node.api.token, "Accept": "text/event-stream"}
    with node.api.pinned(first, pids) as writer:
        for _ in range(200):
            with httpx.Client(base_url=node.server.address, timeout=RECV_TIMEOUT) as client, \
                    client.stream("GET", "/v1/sys/events/subscribe/kv-v2/data-write",
                                  params={"json": "true"}, headers=headers) as stream:
                sock = stream.extensions["network_stream"].get_extra_info("socket")
                if owner_of_connection(port, sock.getsockname()[1], pids) != second:
                    continue
                assert stream.status_code == 200
                assert stream.headers["content-type"] == "text/event-stream"
                written = writer.request("POST", "secret/data/sse", json={"data": {"k": CANARY}})
                assert written.status_code == 200
                lines: list[str] = []
                for line in stream.iter_lines():
                    if line == "" and lines:
                        break
                    if line:
                        lines.append(line)
                break
        else:
            raise AssertionError("no SSE connection reached the second worker")
    assert lines[1] == "event: kv-v2/data-write"
    assert not any(CANARY in line for line in lines)
    event = json.loads(lines[2].removeprefix("data: "))
    assert lines[0] == f"id: {event['id']}"
    assert event["data"]["event"]["metadata"]["data_path"] == "secret/data/sse"


def test_bad_subscriptions_are_clear_4xx(node: Node) -> None:
    headers = {"X-Vault-Token": node.api.token, "Accept": "text/event-stream"}
    with httpx.Client(base_url=node.server.address, timeout=REQUEST_TIMEOUT) as client:
        bad_filter = client.get("/v1/sys/events/subscribe/*", params={"filter": "data_path ~ x"}, headers=headers)
        assert bad_filter.status_code == 400
        assert "invalid event filter" in bad_filter.json()["errors"][0]
        protobuf = client.get("/v1/sys/events/subscribe/*", params={"json": "false"}, headers=headers)
        assert protobuf.status_code == 400
        plain = client.get("/v1/sys/events/subscribe/*", headers={"X-Vault-Token": node.api.token})
        assert plain.status_code == 400
        assert "WebSocket" in plain.json()["errors"][0]


def test_open_streams_end_with_a_reason_when_the_server_stops(node: Node) -> None:
    headers = {"X-Vault-Token": node.api.token, "Accept": "text/event-stream"}
    with httpx.Client(base_url=node.server.address, timeout=RECV_TIMEOUT) as client, \
            client.stream("GET", "/v1/sys/events/subscribe/*", headers=headers) as stream:
        assert stream.status_code == 200
        assert node.server.stop() == 0
        lines = [line for line in stream.iter_lines() if line]
    assert lines[-2:] == ["event: close", 'data: {"reason":"server shutting down"}']
