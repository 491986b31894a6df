"""A real two-worker node stopped in the middle of a rotation schedule and started again later.

The node is down while its KV rotation falls due more than once. After the
restart (and unseal), the background loop of worker 0 runs the overdue
rotation once, not once per missed period, and the schedule goes on from then.
Real processes run on the real clock: the test waits for the due times to pass
and polls for the outcome; it asserts only on what was written, never on speed.
"""

from __future__ import annotations

import time
from typing import Any

from tests.integration.conftest import Node
from tests.integration.process_harness import unseal, wait_until

PERIOD = 4


def _rotation(node: Node) -> dict[str, Any]:
    reply = node.api.request("GET", "secret/rotation/app")
    assert reply.status_code == 200, reply.text
    return dict(reply.json()["data"])


def test_a_rotation_missed_while_the_node_was_down_runs_once_after_the_restart(node: Node) -> None:
    node.api.request("POST", "secret/data/app", json={"data": {"user": "app", "password": "initial"}})
    reply = node.api.request("POST", "secret/rotation/app",
                             json={"interval": f"{PERIOD}s", "generator": "random", "key": "password"})
    assert reply.status_code == 204, reply.text
    written = time.time()
    node.server.stop()
    time.sleep(max(0.0, written + 3 * PERIOD - time.time()))  # three due times pass while the node is down
    node.server.start()
    unseal(node.api, node.keys)
    wait_until(lambda: bool(_rotation(node)["history"]), timeout=30, what="the overdue rotation")
    state = _rotation(node)
    assert [(h["trigger"], h["outcome"], h["version"]) for h in state["history"]] == [("scheduled", "success", 2)]
    secret = node.api.request("GET", "secret/data/app").json()["data"]
    assert secret["metadata"]["version"] == 2
    assert secret["data"]["user"] == "app"
    assert secret["data"]["password"] != "initial"
    # The schedule goes on from the restart: the next run writes version 3, and only one version per run.
    wait_until(lambda: len(_rotation(node)["history"]) >= 2, timeout=30, what="the next rotation")
    versions = [h["version"] for h in reversed(_rotation(node)["history"])]
    assert versions == list(range(2, 2 + len(versions)))
    current = node.api.request("GET", "secret/metadata/app").json()["data"]["current_version"]
    assert current == versions[-1] or current == versions[-1] + 1  # a rotation may land between the two reads
