"""Reading metric values in tests: from this process's registry, or from a scraped exposition."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from strongroom.core import telemetry
from strongroom.core.metrics.buffer import BUFFER


def local(name: str, **labels: str) -> float:
    """A sample of this (single-process) test process's registry; 0 when the series does not exist yet.

    Hot-path updates are buffered (core.metrics.buffer); a reading flushes them first, as a scrape does.
    """
    BUFFER.flush()
    value = telemetry.REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by (sample name, sorted labels)."""
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """One sample from :func:`parse` output; 0 when the series does not exist."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
