"""Writing metric families as Vault's JSON and as Prometheus text."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from strongroom.core.metrics.exposition import prometheus_text, vault_json
from strongroom.core.metrics.node_state import NodeState, state_families


def families() -> list[object]:
    gauge = GaugeMetricFamily("strongroom_core_unsealed", "seal", value=1)
    counter = CounterMetricFamily("strongroom_core_requests", "requests", labels=["status"])
    counter.add_metric(["200"], 7)
    histogram = HistogramMetricFamily("strongroom_core_handle_request_seconds", "latency", labels=["operation"])
    histogram.add_metric(["read"], buckets=[("0.1", 3), ("+Inf", 4)], sum_value=0.5)
    return [histogram, counter, gauge]


def test_vault_json_has_vaults_top_level_keys_and_a_go_style_timestamp() -> None:
    body = vault_json(families(), 1_800_000_000.0)  # type: ignore[arg-type]
    assert list(body) == ["Timestamp", "Gauges", "Points", "Counters", "Samples"]
    assert body["Timestamp"] == "2027-01-15 08:00:00 +0000 UTC"
    assert body["Points"] == []


def test_vault_json_maps_gauges_counters_and_histograms() -> None:
    body = vault_json(families(), 0.0)  # type: ignore[arg-type]
    assert body["Gauges"] == [{"Name": "strongroom_core_unsealed", "Value": 1, "Labels": {}}]
    assert body["Counters"] == [
        {"Name": "strongroom_core_requests_total", "Count": 7, "Sum": 7, "Labels": {"status": "200"}}
    ]
    assert body["Samples"] == [
        {"Name": "strongroom_core_handle_request_seconds", "Count": 4, "Sum": 0.5, "Mean": 0.125,
         "Labels": {"operation": "read"}}
    ]


def test_prometheus_text_round_trips_through_the_prometheus_parser() -> None:
    text = prometheus_text(families()).decode()  # type: ignore[arg-type]
    parsed = {family.name: family for family in text_string_to_metric_families(text)}
    assert parsed["strongroom_core_requests"].type == "counter"
    assert parsed["strongroom_core_handle_request_seconds"].type == "histogram"
    assert [s.value for s in parsed["strongroom_core_unsealed"].samples] == [1]


def test_a_sealed_node_reports_only_what_needs_no_storage() -> None:
    sealed = {family.name for family in state_families(NodeState(unsealed=False, max_encryptions=10))}
    assert sealed == {"strongroom_core_unsealed", "strongroom_barrier_max_encryptions"}
    unsealed = state_families(NodeState(unsealed=True, max_encryptions=10, tokens=3, leases=0, term=2, encryptions=5))
    assert {family.name: family.samples[0].value for family in unsealed} == {
        "strongroom_core_unsealed": 1,
        "strongroom_token_count": 3,
        "strongroom_expire_num_leases": 0,
        "strongroom_barrier_keyring_term": 2,
        "strongroom_barrier_estimated_encryptions": 5,
        "strongroom_barrier_max_encryptions": 10,
    }
