"""Alerts and quotas end to end: a real two-worker node, real HTTP, a real webhook receiver on 127.0.0.1.

The burst threshold (30) is above what either worker sees alone (25 each, pinned),
so the one alert with count 50 also shows that the node counts across workers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from strongroom.core.alerts.webhook import verify
from tests.alerts.receiver import Delivery, Receiver, receiver
from tests.integration.process_harness import Api, InitKeys, enable_kv2, initialize, unseal, wait_until, worker_pids
from tests.support.server import ServerProcess, sqlite_server_process

SECRET = "e2e-webhook-secret-0123456789"
CANARY_VALUE = "canary-value-7d1e0c9b"
NOTIFY_DELAY = 2


@dataclass
class Node:
    server: ServerProcess
    api: Api
    keys: InitKeys
    hook: Receiver
    workers: list[int]

    def deliveries(self, kind: str) -> list[dict[str, Any]]:
        found = []
        for delivery in list(self.hook.deliveries):
            body = json.loads(delivery.body)
            if body["alert"]["kind"] == kind:
                found.append(body["alert"])
        return found

    def wait_for_delivery(self, kind: str, timeout: float = 20) -> dict[str, Any]:
        wait_until(lambda: bool(self.deliveries(kind)), timeout, f"a {kind} alert at the webhook")
        return self.deliveries(kind)[0]

    def listed(self, kind: str) -> list[dict[str, Any]]:
        reply = self.api.request("GET", "sys/alerts", params={"kind": kind})
        assert reply.status_code == 200, reply.text
        alerts: list[dict[str, Any]] = reply.json()["data"]["alerts"]
        return alerts

    def metric(self, name: str, **labels: str) -> float | None:
        text = self.api.request("GET", "sys/metrics", params={"format": "prometheus"}).text
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else None

    def wait_for_metric(self, expected: float, name: str, **labels: str) -> None:
        wait_until(lambda: self.metric(name, **labels) == expected, 20, f"{name}{labels} == {expected}")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with receiver() as hook:
        config = f"""
alerts {{
  permission_denied_threshold = 30
  notify_delay                = "{NOTIFY_DELAY}s"
  webhook {{
    url            = "{hook.url}"
    secret         = "{SECRET}"
    allow_loopback = true
  }}
}}
"""
        server = sqlite_server_process(tmp_path_factory.mktemp("alerts-node"), workers=2, extra=config)
        server.start()
        try:
            api = Api(server.address)
            keys = initialize(api, shares=1, threshold=1)
            unseal(api, keys, threshold=1)
            api.token = keys.root_token
            enable_kv2(api)
            yield Node(server, api, keys, hook, worker_pids(server, 2))
        finally:
            server.stop()


def signed(delivery: Delivery) -> bool:
    return verify(SECRET.encode(), delivery.body, delivery.headers["x-strongroom-signature"])


def test_a_brute_force_burst_across_both_workers_is_one_signed_alert_with_its_count(node: Node) -> None:
    token = node.api.request("POST", "auth/token/create", json={"policies": ["default"]}).json()["auth"]
    first, second = node.workers
    with node.api.pinned(first, node.workers) as a, node.api.pinned(second, node.workers) as b:
        for client in (a, b):
            for _ in range(25):
                assert client.request("GET", "secret/data/crown-jewels", token=token["client_token"]).status_code == 403

    alert = node.wait_for_delivery("permission_denied")
    assert alert["count"] == 50
    assert alert["subject"]["remote_addr"] == "127.0.0.1"
    assert alert["subject"]["accessor"] == token["accessor"]
    assert all(signed(d) for d in node.hook.deliveries)
    time.sleep(NOTIFY_DELAY + 1)  # time enough for a second notification, were there one
    assert len(node.deliveries("permission_denied")) == 1

    (listed,) = node.listed("permission_denied")
    assert (listed["id"], listed["count"]) == (alert["id"], 50)
    node.wait_for_metric(1.0, "strongroom_alerts_raised_total", kind="permission_denied")


def test_reading_a_canary_secret_alerts(node: Node) -> None:
    assert node.api.request("POST", "secret/data/ops/break-glass", json={"data": {"pw": CANARY_VALUE}}
                            ).status_code == 200
    assert node.api.request("POST", "secret/metadata/ops/break-glass", json={"custom_metadata": {"canary": "true"}}
                            ).status_code == 204
    assert node.deliveries("canary_read") == []
    assert node.api.request("GET", "secret/data/ops/break-glass").status_code == 200

    alert = node.wait_for_delivery("canary_read")
    assert (alert["severity"], alert["subject"]["path"]) == ("critical", "secret/data/ops/break-glass")
    assert [a["id"] for a in node.listed("canary_read")] == [alert["id"]]
    node.wait_for_metric(1.0, "strongroom_alerts_raised_total", kind="canary_read")
    log = node.server.log_text()
    assert len(re.findall(r"WARNING.*alert canary_read \[critical\]", log)) == 1
    for secret in (CANARY_VALUE, SECRET):
        assert secret not in log
        assert all(secret.encode() not in d.body for d in node.hook.deliveries)


def test_a_quota_answers_429_past_its_rate_on_any_worker_and_recovers_after_the_interval(node: Node) -> None:
    assert node.api.request("POST", "sys/quotas/rate-limit/kv", json={"rate": 5, "interval": "2s", "path": "secret/"}
                            ).status_code == 204
    first, second = node.workers
    with node.api.pinned(first, node.workers) as a, node.api.pinned(second, node.workers) as b:
        via_a = [a.request("GET", "secret/data/quota-probe").status_code for _ in range(3)]
        via_b = [b.request("GET", "secret/data/quota-probe").status_code for _ in range(3)]
        refused = b.request("GET", "secret/data/quota-probe")
        assert via_a + via_b == [404, 404, 404, 404, 404, 429]  # one allowance for the node, not one per worker
        assert refused.status_code == 429
        assert refused.json() == {"errors": ['request path "secret/data/quota-probe": rate limit quota exceeded']}
        assert int(refused.headers["retry-after"]) in (1, 2)
        assert node.api.request("GET", "sys/health").status_code == 200  # never limited
        time.sleep(2.2)
        assert a.request("GET", "secret/data/quota-probe").status_code == 404
    node.wait_for_metric(2.0, "strongroom_quota_rejections_total", quota="kv")
    assert node.api.request("DELETE", "sys/quotas/rate-limit/kv").status_code == 204


def test_sealing_the_node_raises_an_alert(node: Node) -> None:
    assert node.api.request("POST", "sys/seal").status_code == 204
    alert = node.wait_for_delivery("sealed")
    assert (alert["kind"], alert["severity"], alert["count"]) == ("sealed", "critical", 1)
    unseal(node.api, node.keys, threshold=1)
    assert [a["id"] for a in node.listed("sealed")] == [alert["id"]]  # kept across the seal
    node.wait_for_metric(1.0, "strongroom_alerts_raised_total", kind="sealed")
