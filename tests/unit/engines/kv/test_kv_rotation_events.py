"""Every KV v2 rotation, scheduled or on demand, reaches event subscribers: the path and version, never the value."""

from __future__ import annotations

import orjson
from rotation_support import data, run_due
from tests.support.events import collect
from tests.support.inprocess import InProcessServer

from strongroom.sdk.system import ManualClock


def test_scheduled_and_on_demand_rotations_are_published_without_the_new_value(
    server: InProcessServer, clock: ManualClock
) -> None:
    sub = server.run(server.core.subscribe_events(server.root_token, "", "kv-v2/*", path_prefix="secret/data/app"))
    reply = server.request("POST", "secret/rotation/app", json={"interval": "1h", "generator": "random", "bytes": 24})
    assert reply.status_code == 204, reply.text
    clock.advance(3600)
    run_due(server)
    scheduled = data(server, "app")
    assert scheduled["metadata"]["version"] == 1
    assert server.request("POST", "secret/rotate/app").status_code in (200, 204)
    on_demand = data(server, "app")
    assert on_demand["metadata"]["version"] == 2

    events = collect(server, sub, 2)
    published = [e["data"]["event"]["metadata"] for e in events]
    assert [m["path"] for m in published] == ["secret/data/app", "secret/data/app"]
    assert [str(m["current_version"]) for m in published] == ["1", "2"]
    dumped = orjson.dumps(events)
    for version in (scheduled, on_demand):
        for value in version["data"].values():
            assert str(value).encode() not in dumped
