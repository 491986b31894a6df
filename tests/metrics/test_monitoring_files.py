"""deploy/monitoring: the Grafana dashboard and the Prometheus rules name only metrics a real node exports,
and both files are well formed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.metrics.node import metrics_node
from tests.metrics.promql import metric_names

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
DASHBOARD = MONITORING / "strongroom-dashboard.json"
RULES = MONITORING / "strongroom-alerts.yml"
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every series name a freshly started two-worker node exports after a little traffic."""
    with metrics_node(tmp_path_factory.mktemp("monitoring")) as node:
        assert node.api.request("PUT", "secret/data/x", json={"data": {"a": 1}}).status_code == 200
        text = node.scrape_text()
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        # Declared families nothing has updated yet have no samples; name their series from the type.
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def dashboard_panels() -> Iterator[dict[str, Any]]:
    for panel in dashboard()["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries() -> list[str]:
    queries = [target["expr"] for panel in dashboard_panels() for target in panel.get("targets", [])]
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            queries.append(variable["query"]["query"])
    return queries


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def referenced(exprs: list[str]) -> set[str]:
    names: set[str] = set()
    for expr in exprs:
        # label_values(metric, label) is a Grafana function: its first argument is a metric name.
        names |= metric_names(expr.replace("label_values(", "("))
    names.discard("instance")  # label_values' second argument
    return names


# -- the extractor itself --------------------------------------------------------------------------------


def test_the_extractor_finds_metrics_and_skips_functions_labels_and_variables() -> None:
    expr = ('histogram_quantile(0.99, sum by (le, mount_type) (rate(strongroom_core_handle_request_seconds_bucket'
            '{instance=~"$instance", status!="5.."}[$__rate_interval]))) / on(instance) group_left '
            'strongroom_core_unsealed offset 5m > bool 1e3 and ignoring(job) up_alias:ratio')
    assert metric_names(expr) == {
        "strongroom_core_handle_request_seconds_bucket", "strongroom_core_unsealed", "up_alias:ratio",
    }


def test_the_extractor_catches_a_metric_the_server_does_not_export(exported: set[str]) -> None:
    assert metric_names("rate(strongroom_made_up_total[5m])") - exported == {"strongroom_made_up_total"}


# -- the dashboard ---------------------------------------------------------------------------------------


def test_every_metric_the_dashboard_queries_is_exported(exported: set[str]) -> None:
    names = referenced(dashboard_queries())
    assert names, "no metric names found in the dashboard"
    assert names - exported == set()


def test_the_dashboard_shows_every_metric_family_the_server_exports(exported: set[str]) -> None:
    shown = referenced(dashboard_queries())
    families = {name.removesuffix("_total") for name in exported if not name.endswith(("_bucket", "_sum", "_count"))}
    families |= {name.rsplit("_", 1)[0] for name in exported if name.endswith(("_bucket", "_sum", "_count"))}
    shown_families = {name.removesuffix("_total") for name in shown}
    shown_families |= {name.rsplit("_", 1)[0] for name in shown if name.endswith(("_bucket", "_sum", "_count"))}
    assert families - shown_families == set()


def test_the_dashboard_is_a_well_formed_grafana_dashboard() -> None:
    board = dashboard()
    assert board["uid"]
    assert board["title"]
    assert isinstance(board["schemaVersion"], int)
    ids = [panel["id"] for panel in dashboard_panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {variable["name"] for variable in board["templating"]["list"]}
    assert {"datasource", "instance"} <= variables
    for panel in dashboard_panels():
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids, panel["title"]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]


def test_no_two_dashboard_panels_overlap() -> None:
    cells: set[tuple[int, int]] = set()
    for panel in dashboard_panels():
        grid = panel["gridPos"]
        covered = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                   for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not covered & cells, panel["title"]
        cells |= covered


# -- the alerting rules ----------------------------------------------------------------------------------


def test_every_metric_an_alerting_rule_reads_is_exported(exported: set[str]) -> None:
    names = referenced([rule["expr"] for rule in rules()])
    assert names, "no metric names found in the rules"
    assert names - exported == set()


def test_the_rule_file_has_prometheus_rule_file_structure() -> None:
    document = yaml.safe_load(RULES.read_text())
    assert set(document) == {"groups"}
    group_names = [group["name"] for group in document["groups"]]
    assert len(group_names) == len(set(group_names)), "group names must be unique"
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"}
        assert group["rules"], group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}, rule
            assert isinstance(rule["alert"], str), rule
            assert rule["alert"].isidentifier(), rule
            assert isinstance(rule["expr"], str), rule
            assert rule["expr"].strip(), rule
            assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
            assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]
            if "for" in rule:
                assert re.fullmatch(r"\d+[smhd]", rule["for"]), rule["alert"]


def test_alert_names_are_unique() -> None:
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names))


def test_alerts_cover_seal_audit_failures_suspicious_access_and_the_keyring() -> None:
    read = referenced([rule["expr"] for rule in rules()])
    assert {
        "strongroom_core_unsealed",
        "strongroom_audit_write_failures_total",
        "strongroom_alerts_raised_total",
        "strongroom_barrier_estimated_encryptions",
    } <= read
