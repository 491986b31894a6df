"""hvac against the session's dev server process: sys/metrics answers in both forms a Vault client reads."""

from __future__ import annotations

from typing import Any

import hvac
import hvac.exceptions
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.compat.hvac_support import client


def test_hvac_reads_the_json_form_with_vaults_keys(dev_server: tuple[str, str]) -> None:
    root = client(*dev_server)
    body: Any = root.adapter.get("/v1/sys/metrics")
    assert {"Timestamp", "Gauges", "Counters", "Samples", "Points"} <= set(body)
    gauges = {entry["Name"]: entry["Value"] for entry in body["Gauges"]}
    assert gauges["strongroom_core_unsealed"] == 1


def test_hvac_reads_the_prometheus_form_as_text(dev_server: tuple[str, str]) -> None:
    root = client(*dev_server)
    response: Any = root.adapter.get("/v1/sys/metrics", params={"format": "prometheus"})
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert "strongroom_core_requests" in names


def test_hvac_without_a_token_is_refused(dev_server: tuple[str, str]) -> None:
    with pytest.raises(hvac.exceptions.Forbidden):
        client(dev_server[0]).adapter.get("/v1/sys/metrics")
