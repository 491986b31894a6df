"""The request observer: which counters and histograms a finished request moves, and with which labels."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from strongroom.core import telemetry
from strongroom.core.hooks import RequestRecord
from strongroom.core.metrics.buffer import BUFFER
from strongroom.core.metrics.observer import MetricsObserver
from tests.metrics.samples import local


def record(**overrides: object) -> RequestRecord:
    fields: dict[str, object] = {
        "request_id": "r", "operation": "read", "path": "secret/data/app", "status": 200, "duration": 0.003,
        "mount_type": "kv", "mount_point": "secret/",
    }
    fields.update(overrides)
    return RequestRecord(**fields)  # type: ignore[arg-type]


def every_label_value() -> set[str]:
    return {
        value
        for family in _flushed_registry().collect()
        for sample in family.samples
        for value in sample.labels.values()
    }


def test_a_request_counts_by_mount_type_point_operation_and_status() -> None:
    labels = {"mount_type": "kv", "mount_point": "secret/", "operation": "read", "status": "200"}
    before = local("strongroom_core_requests_total", **labels)
    MetricsObserver().observe(record())
    assert local("strongroom_core_requests_total", **labels) == before + 1


def test_a_request_lands_in_the_latency_histogram_of_its_mount_type_and_operation() -> None:
    labels = {"mount_type": "kv", "operation": "list"}
    count = local("strongroom_core_handle_request_seconds_count", **labels)
    total = local("strongroom_core_handle_request_seconds_sum", **labels)
    small = local("strongroom_core_handle_request_seconds_bucket", le="0.005", **labels)
    MetricsObserver().observe(record(operation="list", duration=0.004))
    assert local("strongroom_core_handle_request_seconds_count", **labels) == count + 1
    assert abs(local("strongroom_core_handle_request_seconds_sum", **labels) - total - 0.004) < 1e-9
    assert local("strongroom_core_handle_request_seconds_bucket", le="0.005", **labels) == small + 1


def test_logins_count_successes_and_failures_by_method() -> None:
    ok = {"method": "userpass", "result": "success"}
    bad = {"method": "userpass", "result": "failure"}
    before_ok, before_bad = local("strongroom_auth_logins_total", **ok), local("strongroom_auth_logins_total", **bad)
    observer = MetricsObserver()
    observer.observe(record(login_method="userpass", login_succeeded=True, mount_type="userpass"))
    observer.observe(record(login_method="userpass", login_succeeded=False, status=400, mount_type="userpass"))
    # A login whose backend raised never sets login_succeeded: it failed too.
    observer.observe(record(login_method="userpass", login_succeeded=None, status=403, mount_type="userpass"))
    assert local("strongroom_auth_logins_total", **ok) == before_ok + 1
    assert local("strongroom_auth_logins_total", **bad) == before_bad + 2


def test_requests_that_are_not_logins_leave_the_login_counters_alone() -> None:
    before = sum(
        sample.value
        for family in _flushed_registry().collect()
        if family.name == "strongroom_auth_logins"
        for sample in family.samples
    )
    MetricsObserver().observe(record(status=403, permission_denied=True))
    after = sum(
        sample.value
        for family in _flushed_registry().collect()
        if family.name == "strongroom_auth_logins"
        for sample in family.samples
    )
    assert after == before


def test_permission_denials_count_by_mount_type_and_operation() -> None:
    labels = {"mount_type": "kv", "operation": "delete"}
    before = local("strongroom_policy_denials_total", **labels)
    MetricsObserver().observe(record(operation="delete", status=403, permission_denied=True))
    MetricsObserver().observe(record(operation="delete", status=204))
    assert local("strongroom_policy_denials_total", **labels) == before + 1


def test_requests_answered_before_routing_count_as_system_and_unmatched_ones_as_none() -> None:
    system = {"mount_type": "system", "mount_point": "sys/", "operation": "read", "status": "503"}
    unrouted = {"mount_type": "none", "mount_point": "", "operation": "read", "status": "404"}
    before_system = local("strongroom_core_requests_total", **system)
    before_unrouted = local("strongroom_core_requests_total", **unrouted)
    observer = MetricsObserver()
    observer.observe(record(path="sys/seal-status", status=503, mount_type="", mount_point=""))
    observer.observe(record(path="nowhere/at/all", status=404, mount_type="", mount_point=""))
    assert local("strongroom_core_requests_total", **system) == before_system + 1
    assert local("strongroom_core_requests_total", **unrouted) == before_unrouted + 1


def test_no_part_of_the_request_path_below_the_mount_becomes_a_label() -> None:
    canary = "canary-path-4c1f7d"
    MetricsObserver().observe(record(path=f"secret/data/{canary}", accessor=f"acc-{canary}", remote_addr=canary,
                                     entity_id=canary, error=canary, policies=(canary,)))
    MetricsObserver().observe(record(path=f"{canary}/x", mount_type="", mount_point="", status=404))
    assert not any(canary in value for value in every_label_value())


def test_the_after_request_hook_runs_once_per_request() -> None:
    calls: list[int] = []
    observer = MetricsObserver(after_request=lambda: calls.append(1))
    observer.observe(record())
    observer.observe(record(status=500))
    assert calls == [1, 1]


def _flushed_registry() -> CollectorRegistry:
    BUFFER.flush()
    return telemetry.REGISTRY
