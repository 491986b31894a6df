"""Metric updates on the request path, buffered in plain numbers and flushed in bulk.

In multi-process mode every prometheus_client update is a locked write into a
shared mmap'd file, about 2 µs each; a request made about a dozen of them. Here
a request only adds to dictionaries; :func:`flush` moves the totals into the
prometheus children (one write per series, however many requests) a few times
a second and before every scrape this process answers. Another worker's most
recent requests therefore appear in a scrape within one flush interval.
"""

from __future__ import annotations

import bisect
from typing import Any, Protocol

#: How often each process moves its buffered totals into the shared metric files.
FLUSH_INTERVAL = 0.25


class _Counter(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class MetricBuffer:
    def __init__(self) -> None:
        self._counts: dict[Any, float] = {}
        # histogram child -> [sum, count per bucket]
        self._histograms: dict[Any, list[Any]] = {}

    def inc(self, child: _Counter, amount: float = 1.0) -> None:
        self._counts[child] = self._counts.get(child, 0.0) + amount

    def observe(self, child: Any, value: float) -> None:
        """Buffer one observation for a prometheus_client Histogram child."""
        entry = self._histograms.get(child)
        if entry is None:
            entry = self._histograms[child] = [0.0, [0] * len(child._upper_bounds)]
        entry[0] += value
        entry[1][bisect.bisect_left(child._upper_bounds, value)] += 1

    def flush(self) -> None:
        counts, self._counts = self._counts, {}
        histograms, self._histograms = self._histograms, {}
        for counter, amount in counts.items():
            counter.inc(amount)
        for child, (total, buckets) in histograms.items():
            # The same two kinds of write Histogram.observe makes, once per series.
            child._sum.inc(total)
            for index, count in enumerate(buckets):
                if count:
                    child._buckets[index].inc(count)


#: The process-wide buffer every hot-path metric update goes through.
BUFFER = MetricBuffer()
