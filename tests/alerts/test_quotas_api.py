"""sys/quotas through the real Core and HTTP edge (in process), with the quota clock moved by hand."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from strongroom.core.core import Core, IncomingRequest
from strongroom.core.hooks import AuditEvent
from strongroom.core.quotas.enforcer import QuotaEnforcer
from strongroom.crypto.view import StorageView
from strongroom.errors import StrongroomError
from strongroom.sdk.logical import Operation
from strongroom.sdk.system import ManualClock
from tests.integration.two_cores import two_workers
from tests.support.inprocess import InProcessServer


@pytest.fixture
def quotas(server: InProcessServer, clock: ManualClock) -> InProcessServer:
    """The server, its quota enforcer counting on the test's clock."""
    server.core.quotas = QuotaEnforcer(StorageView(server.barrier, "sys/quotas/"), clock=clock)
    server.run(server.core.quotas.load())
    return server


def put_quota(server: InProcessServer, name: str, **body: Any) -> None:
    reply = server.request("POST", f"sys/quotas/rate-limit/{name}", json=body)
    assert reply.status_code == 204, reply.text


def statuses(server: InProcessServer, path: str, n: int) -> list[int]:
    return [server.request("GET", path).status_code for _ in range(n)]


def test_a_quota_can_be_written_read_listed_and_deleted(quotas: InProcessServer) -> None:
    put_quota(quotas, "global", rate=897.3, interval="2m", block_interval="5m")
    put_quota(quotas, "kv", rate=10, path="secret")
    read = quotas.request("GET", "sys/quotas/rate-limit/global").json()["data"]
    assert read == {"name": "global", "path": "", "type": "rate-limit", "rate": 897.3, "interval": 120,
                    "block_interval": 300, "role": "", "inheritable": True}
    assert quotas.request("GET", "sys/quotas/rate-limit/kv").json()["data"]["path"] == "secret/"
    assert quotas.request("LIST", "sys/quotas/rate-limit").json()["data"]["keys"] == ["global", "kv"]
    assert quotas.request("DELETE", "sys/quotas/rate-limit/global").status_code == 204
    assert quotas.request("GET", "sys/quotas/rate-limit/global").status_code == 404
    assert quotas.request("LIST", "sys/quotas/rate-limit").json()["data"]["keys"] == ["kv"]


def test_an_update_keeps_the_fields_it_does_not_name(quotas: InProcessServer) -> None:
    put_quota(quotas, "q", rate=5, interval="10s", path="secret/data/app/*")
    put_quota(quotas, "q", rate=7)
    data = quotas.request("GET", "sys/quotas/rate-limit/q").json()["data"]
    assert (data["rate"], data["interval"], data["path"]) == (7, 10, "secret/data/app/*")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'rate' is required"),
        ({"rate": 0}, "positive"),
        ({"rate": -3}, "positive"),
        ({"rate": "many"}, "positive"),
        ({"rate": True}, "positive"),
        ({"rate": "nan"}, "positive"),
        ({"rate": 5, "interval": "0s"}, "at least one second"),
        ({"rate": 5, "path": "nowhere/"}, 'invalid mount path "nowhere/"'),
        ({"rate": 5, "path": "secret/*/x"}, "glob"),
        ({"rate": 5, "role": "admin"}, "role"),
        ({"rate": 5, "type": "lease-count"}, "rate-limit"),
    ],
)
def test_invalid_quotas_are_refused_with_400(quotas: InProcessServer, body: dict[str, Any], message: str) -> None:
    reply = quotas.request("POST", "sys/quotas/rate-limit/bad", json=body)
    assert reply.status_code == 400
    assert message in reply.json()["errors"][0]
    assert quotas.request("GET", "sys/quotas/rate-limit/bad").status_code == 404


def test_quota_names_are_plain(quotas: InProcessServer) -> None:
    reply = quotas.request("POST", "sys/quotas/rate-limit/a b", json={"rate": 1})
    assert reply.status_code == 400


def test_requests_past_the_rate_get_vaults_429_until_the_interval_passes(
    quotas: InProcessServer, clock: ManualClock
) -> None:
    put_quota(quotas, "kv", rate=3, interval="10s", path="secret/")
    assert statuses(quotas, "secret/data/a", 3) == [404, 404, 404]
    refused = quotas.request("GET", "secret/data/a")
    assert refused.status_code == 429
    assert refused.json() == {"errors": ['request path "secret/data/a": rate limit quota exceeded']}
    assert refused.headers["retry-after"] == "10"
    assert "x-ratelimit-limit" not in refused.headers  # headers are off by default
    clock.advance(4)
    assert quotas.request("GET", "secret/data/a").headers["retry-after"] == "6"
    clock.advance(6)
    assert statuses(quotas, "secret/data/a", 4) == [404, 404, 404, 429]


def test_the_quota_is_counted_before_the_token_is_looked_at(quotas: InProcessServer) -> None:
    put_quota(quotas, "kv", rate=2, path="secret/")
    answers = [quotas.request("GET", "secret/data/a", token="not-a-token").status_code for _ in range(3)]
    assert answers == [403, 403, 429]


def test_a_block_interval_keeps_refusing_after_the_window(quotas: InProcessServer, clock: ManualClock) -> None:
    put_quota(quotas, "kv", rate=2, interval="1s", block_interval="1m", path="secret/")
    assert statuses(quotas, "secret/data/a", 3) == [404, 404, 429]
    clock.advance(30)
    assert statuses(quotas, "secret/data/a", 1) == [429]
    clock.advance(31)
    assert statuses(quotas, "secret/data/a", 1) == [404]


def test_response_headers_when_enabled(quotas: InProcessServer, clock: ManualClock) -> None:
    put_quota(quotas, "kv", rate=2, interval="10s", path="secret/")
    assert quotas.request("POST", "sys/quotas/config", json={"enable_rate_limit_response_headers": True}
                          ).status_code == 204
    first = quotas.request("GET", "secret/data/a")
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"],
            first.headers["x-ratelimit-reset"]) == ("2", "1", "10")
    clock.advance(3)
    second = quotas.request("GET", "secret/data/a")
    assert (second.headers["x-ratelimit-remaining"], second.headers["x-ratelimit-reset"]) == ("0", "7")
    third = quotas.request("GET", "secret/data/a")
    assert third.status_code == 429
    assert quotas.request("GET", "sys/health").headers.get("x-ratelimit-limit") is None  # never limited
    assert (third.headers["x-ratelimit-remaining"], third.headers["retry-after"]) == ("0", "7")


def test_only_the_most_specific_quota_counts(quotas: InProcessServer) -> None:
    put_quota(quotas, "global", rate=100)
    put_quota(quotas, "app", rate=1, path="secret/data/app/*")
    assert statuses(quotas, "secret/data/app/db", 2) == [404, 429]
    assert statuses(quotas, "secret/data/other", 5) == [404] * 5


def test_health_and_seal_status_are_never_limited(quotas: InProcessServer) -> None:
    assert quotas.request("POST", "sys/quotas/config", json={"rate_limit_exempt_paths": []}).status_code == 204
    put_quota(quotas, "global", rate=1, interval="1h", block_interval="1h")
    assert statuses(quotas, "sys/mounts", 2) == [200, 429]
    # The global quota is spent and nothing is exempt, yet monitoring still sees the node.
    assert statuses(quotas, "sys/health", 20) == [200] * 20
    assert statuses(quotas, "sys/seal-status", 20) == [200] * 20


def test_exempt_paths_from_the_config_are_not_limited(quotas: InProcessServer) -> None:
    config = quotas.request("GET", "sys/quotas/config").json()["data"]
    assert config["enable_rate_limit_audit_logging"] is False
    assert "sys/unseal" in config["rate_limit_exempt_paths"]
    assert quotas.request("POST", "sys/quotas/config", json={"rate_limit_exempt_paths": ["secret/data/free*"]}
                          ).status_code == 204
    put_quota(quotas, "kv", rate=1, path="secret/")
    assert statuses(quotas, "secret/data/freedom", 5) == [404] * 5
    assert statuses(quotas, "secret/data/other", 2) == [404, 429]


def test_editing_a_quota_starts_every_count_afresh(quotas: InProcessServer) -> None:
    put_quota(quotas, "kv", rate=1, interval="1h", path="secret/")
    assert statuses(quotas, "secret/data/a", 2) == [404, 429]
    put_quota(quotas, "kv", rate=2)
    assert statuses(quotas, "secret/data/a", 3) == [404, 404, 429]


def test_deleting_the_quota_lifts_it(quotas: InProcessServer) -> None:
    put_quota(quotas, "kv", rate=1, interval="1h", path="secret/")
    assert statuses(quotas, "secret/data/a", 2) == [404, 429]
    assert quotas.request("DELETE", "sys/quotas/rate-limit/kv").status_code == 204
    assert statuses(quotas, "secret/data/a", 3) == [404] * 3


class RecordingBroker:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def log_request(self, event: AuditEvent) -> None:
        self.events.append(("request", event.error.message if event.error else ""))

    async def log_response(self, event: AuditEvent) -> None:
        self.events.append(("response", event.error.message if event.error else ""))


@pytest.mark.parametrize("audit_logging", [True, False])
def test_refusals_are_audited_only_when_configured(quotas: InProcessServer, audit_logging: bool) -> None:
    quotas.request("POST", "sys/quotas/config", json={"enable_rate_limit_audit_logging": audit_logging})
    put_quota(quotas, "kv", rate=1, interval="1h", path="secret/")
    quotas.request("GET", "secret/data/a")
    broker = RecordingBroker()
    quotas.core.audit = broker
    assert quotas.request("GET", "secret/data/a").status_code == 429
    refusal = 'request path "secret/data/a": rate limit quota exceeded'
    assert broker.events == ([("request", refusal), ("response", refusal)] if audit_logging else [])


def test_a_quota_written_through_one_core_applies_in_another_on_its_next_request() -> None:
    async def scenario() -> list[int]:
        pair = await two_workers()
        await pair.unseal_b()

        async def call(core: Core, op: Operation, path: str, data: dict[str, Any] | None = None) -> int:
            request = IncomingRequest(op, path, data or {}, token=pair.root_token, remote_addr="10.0.0.1")
            try:
                return (await core.handle(request)).status
            except StrongroomError as exc:
                return exc.status

        written = await call(pair.a, Operation.UPDATE, "sys/quotas/rate-limit/all", {"rate": 1, "interval": "1h"})
        assert written == 204
        return [await call(pair.b, Operation.READ, "sys/mounts") for _ in range(2)]

    assert asyncio.run(scenario()) == [200, 429]
