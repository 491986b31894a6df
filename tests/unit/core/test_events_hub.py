"""The event bus inside one real core (in-memory storage, ManualClock): what engines publish,
what subscribers get, slow consumers, per-token limits, retention, and the filter syntax."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.support.inprocess import InProcessServer

from strongroom.core.events import SubscriptionRefused
from strongroom.core.events.filter_expr import matches, parse_filter
from strongroom.core.events.log import RETENTION_SECONDS
from strongroom.errors import InvalidRequest, PermissionDenied
from strongroom.sdk.system import ManualClock

CANARY = "canary-4be2a9c0d1"
WAIT = 20.0  # an upper bound on waiting for the hub's task, never an asserted duration


@pytest.fixture(autouse=True)
def _end_subscriptions(server: InProcessServer) -> Iterator[None]:
    yield
    server.run(server.core.events.aclose("test over"))


def subscribe(server: InProcessServer, event_type: str = "*", **kwargs: Any) -> Any:
    return server.run(server.core.subscribe_events(server.root_token, "", event_type, **kwargs))


def collect(server: InProcessServer, sub: Any, count: int) -> list[dict[str, Any]]:
    async def take() -> list[dict[str, Any]]:
        await server.core.event_publisher.drain()
        got = []
        for _ in range(count):
            event = await asyncio.wait_for(sub.next(), WAIT)
            assert event is not None, sub.closed_reason
            got.append(event)
        return got

    return server.run(take())


def test_every_kv_change_is_published_and_no_event_holds_a_value(server: InProcessServer) -> None:
    assert server.request("POST", "sys/mounts/kv1", json={"type": "kv", "options": {"version": "1"}}).status_code == 204
    sub = subscribe(server)
    steps = [
        ("POST", "secret/data/app", {"data": {"password": CANARY}}, "kv-v2/data-write"),
        ("POST", "secret/metadata/app", {"custom_metadata": {"owner": "ops"}}, "kv-v2/metadata-write"),
        ("POST", "secret/delete/app", {"versions": [1]}, "kv-v2/delete"),
        ("POST", "secret/undelete/app", {"versions": [1]}, "kv-v2/undelete"),
        ("DELETE", "secret/data/app", None, "kv-v2/data-delete"),
        ("POST", "secret/destroy/app", {"versions": [1]}, "kv-v2/destroy"),
        ("DELETE", "secret/metadata/app", None, "kv-v2/metadata-delete"),
        ("POST", "kv1/app", {"password": CANARY}, "kv-v1/write"),
        ("DELETE", "kv1/app", None, "kv-v1/delete"),
    ]
    for method, path, body, _ in steps:
        response = server.request(method, path, json=body) if body is not None else server.request(method, path)
        assert response.status_code in (200, 204), response.text
    events = collect(server, sub, len(steps))
    assert [event["data"]["event_type"] for event in events] == [step[3] for step in steps]
    assert CANARY.encode() not in orjson.dumps(events)
    assert events[0]["data"]["event"]["metadata"]["current_version"] == "1"
    assert events[7]["data"]["plugin_info"]["mount_path"] == "kv1/"


def test_patch_publishes_data_patch(server: InProcessServer) -> None:
    assert server.request("POST", "secret/data/p", json={"data": {"a": "1"}}).status_code == 200
    sub = subscribe(server, "kv-v2/data-patch")
    patched = server.request(
        "PATCH", "secret/data/p", json={"data": {"b": CANARY}}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert patched.status_code == 200, patched.text
    (event,) = collect(server, sub, 1)
    assert event["data"]["event"]["metadata"]["current_version"] == "2"
    assert CANARY not in orjson.dumps(event).decode()


def test_a_slow_consumer_is_dropped_not_buffered(server: InProcessServer) -> None:
    server.core.events.queue_size = 3
    sub = subscribe(server)
    for n in range(6):
        assert server.request("POST", f"secret/data/s{n}", json={"data": {"n": n}}).status_code == 200

    async def wait_end() -> Any:
        await server.core.event_publisher.drain()
        return await asyncio.wait_for(sub.next(), WAIT)

    # Nothing was consumed: the fourth event overflowed the queue and ended the stream at once.
    assert server.run(wait_end()) is None
    assert "slow consumer" in sub.closed_reason
    assert server.core.events.subscriptions == 0


def test_subscriptions_per_token_are_limited(server: InProcessServer) -> None:
    server.core.events.max_per_token = 2
    first = subscribe(server)
    subscribe(server)
    with pytest.raises(SubscriptionRefused) as refused:
        subscribe(server)
    assert refused.value.status == 429
    first.close()
    subscribe(server)  # a closed subscription frees its place


def test_old_batches_are_pruned(server: InProcessServer, clock: ManualClock) -> None:
    assert server.request("POST", "secret/data/old", json={"data": {"a": "1"}}).status_code == 200
    log = server.core.event_publisher.log
    server.run(server.core.event_publisher.drain())
    assert server.run(log.storage.list("log/"))
    assert server.run(log.prune()) == 0
    clock.advance(RETENTION_SECONDS + 2)
    assert server.run(log.prune()) == 1
    assert server.run(log.storage.list("log/")) == []


def test_filter_expressions() -> None:
    event = {
        "data": {
            "event_type": "kv-v2/data-write",
            "event": {"metadata": {"data_path": "secret/data/a b", "operation": "data-write"}},
            "plugin_info": {"mount_path": "secret/"},
        }
    }
    assert matches(parse_filter(""), event)
    assert matches(parse_filter('data_path == "secret/data/a b"'), event)
    assert not matches(parse_filter('operation != "data-write"'), event)
    assert matches(parse_filter('operation == nope or plugin_info.mount_path == "secret/"'), event)
    assert not matches(parse_filter("event_type == kv-v2/data-write and operation == x"), event)
    for bad in ("data_path", "a == ", "a ~ b", "a == b and", "a == b xor c == d", 'a == "x'):
        with pytest.raises(InvalidRequest):
            parse_filter(bad)


def test_a_subscriber_sees_only_its_namespace_events(server: InProcessServer) -> None:
    assert server.request("POST", "sys/namespaces/team-a").status_code in (200, 204)
    in_team = {"X-Vault-Namespace": "team-a"}
    enabled = server.request("POST", "sys/mounts/secret", json={"type": "kv", "options": {"version": "2"}},
                             headers=in_team)
    assert enabled.status_code == 204, enabled.text
    sub = subscribe(server, "kv-v2/data-write")
    # The same path in another namespace is another secret: the root subscriber must not hear of it.
    assert server.request("POST", "secret/data/app", json={"data": {"a": "1"}}, headers=in_team).status_code == 200
    assert server.request("POST", "secret/data/app", json={"data": {"a": "2"}}).status_code == 200
    (event,) = collect(server, sub, 1)
    assert event["data"]["namespace"] == ""
    assert event["data"]["event"]["metadata"]["current_version"] == "1"
    assert sub.queue.empty()


def test_subscriptions_are_audited_granted_or_refused(server: InProcessServer, tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    enabled = server.request("PUT", "sys/audit/file", json={"type": "file", "options": {"file_path": str(log)}})
    assert enabled.status_code == 204, enabled.text
    subscribe(server, "kv*", path_prefix="secret/data/app/")
    with pytest.raises(PermissionDenied):
        server.run(server.core.subscribe_events("hvs.not-a-token", "", "kv*"))
    entries = [orjson.loads(line) for line in log.read_text().splitlines()]
    subscribed = [e for e in entries if e.get("request", {}).get("path") == "sys/events/subscribe/kv*"]
    assert [(e["type"], "error" in e and bool(e["error"])) for e in subscribed] == [
        ("request", False), ("response", False), ("request", True), ("response", True)]
    assert subscribed[0]["request"]["data"]["path_prefix"].startswith("hmac-sha256:")  # values are HMAC'd
