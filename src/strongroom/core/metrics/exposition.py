"""Gathering the node's metric families and writing them as Prometheus text or Vault's JSON.

Where the event metrics come from depends on the process model, which
prometheus_client fixes when it is first imported:

* multi-process node: ``PROMETHEUS_MULTIPROC_DIR`` names the node's directory
  (set by the supervisor for every worker), every worker writes its own file
  there, and a scrape merges all of them, so any worker answers with node-wide
  totals. Files of workers that died stay: their counts are part of the totals.
* single process: the values live in this process's registry.

Families declared in :mod:`strongroom.core.telemetry` that nothing has updated
yet are listed empty in both models, so the output names every metric the
server has.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from strongroom.core import telemetry

#: Vault's (and Prometheus's) classic text format.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The node's metrics directory when this process runs in multi-process mode."""
    return os.environ.get(MULTIPROC_ENV) or None


def event_families() -> list[Metric]:
    """Counters, histograms and gauges from :mod:`telemetry`, node-wide."""
    path = multiprocess_dir()
    if path is None:
        return list(telemetry.REGISTRY.collect())
    collector = MultiProcessCollector(None, path=path)  # type: ignore[no-untyped-call]  # untyped in 0.26
    merged: list[Metric] = list(collector.collect())  # type: ignore[no-untyped-call]
    present = {family.name for family in merged}
    # Declared families nothing has written yet (labelled metrics without children) are absent from the files.
    for family in telemetry.REGISTRY.collect():
        if family.name not in present:
            merged.append(Metric(family.name, family.documentation, family.type, family.unit))
    return merged


class _Families:
    """The minimal collector interface :func:`generate_latest` reads."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def prometheus_text(families: Iterable[Metric]) -> bytes:
    return generate_latest(_Families(sorted(families, key=lambda family: family.name)))


def vault_json(families: Iterable[Metric], now: float) -> dict[str, Any]:
    """Vault's ``sys/metrics`` JSON shape: Timestamp, Gauges, Counters, Samples, Points.

    Our metrics are cumulative since the node started, not Vault's 10-second
    aggregation intervals, so entries carry what cumulative data can say:
    gauges ``Value``; counters ``Count`` and ``Sum`` (both the running total);
    histograms (Vault's samples) ``Count``, ``Sum`` and ``Mean``, in seconds.
    Vault's ``Rate``, ``Min``, ``Max`` and ``Stddev`` have no honest equivalent
    and are left out.
    """
    gauges: list[dict[str, Any]] = []
    counters: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    for family in sorted(families, key=lambda f: f.name):
        if family.type == "gauge":
            gauges.extend({"Name": s.name, "Value": s.value, "Labels": dict(s.labels)} for s in family.samples)
        elif family.type == "counter":
            counters.extend(
                {"Name": s.name, "Count": int(s.value), "Sum": s.value, "Labels": dict(s.labels)}
                for s in family.samples
                if s.name.endswith("_total")
            )
        elif family.type == "histogram":
            samples.extend(_histogram_entries(family))
    stamp = dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
    return {"Timestamp": stamp, "Gauges": gauges, "Points": [], "Counters": counters, "Samples": samples}


def _histogram_entries(family: Metric) -> list[dict[str, Any]]:
    totals: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}
    for sample in family.samples:
        suffix = sample.name[len(family.name):]
        if suffix not in ("_count", "_sum"):
            continue
        key = tuple(sorted(sample.labels.items()))
        totals.setdefault(key, {})[suffix] = sample.value
    entries = []
    for key, values in totals.items():
        count = values.get("_count", 0.0)
        total = values.get("_sum", 0.0)
        entries.append(
            {"Name": family.name, "Count": int(count), "Sum": total, "Mean": total / count if count else 0.0,
             "Labels": dict(key)}
        )
    return entries
