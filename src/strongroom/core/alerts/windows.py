"""Sliding-window counters for the burst rules, bounded in memory.

One window per subject (a source address, a token accessor, an entity),
holding at most ``threshold`` timestamps: enough to know whether the last
``threshold`` events fell inside ``window`` seconds. The number of subjects
tracked is capped; past the cap the least recently active subject is
forgotten, so an attacker cycling through addresses costs bounded memory (and
each of those addresses alone stays under the threshold anyway).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BurstRule:
    """Raise an alert when ``threshold`` events for one subject fall within ``window`` seconds."""

    threshold: int = 10
    window: float = 60.0

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.window <= 0:
            raise ValueError("a burst rule needs threshold >= 1 and a positive window")


class Windows:
    def __init__(self, max_tracked: int = 10_000) -> None:
        self._max = max_tracked
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._events)

    def add(self, key: str, at: float, rule: BurstRule) -> tuple[int, float]:
        """Count an event for ``key`` at ``at``; answer (events inside the window, oldest of them)."""
        events = self._events.get(key)
        if events is None:
            events = deque(maxlen=rule.threshold)
            self._events[key] = events
            if len(self._events) > self._max:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        events.append(at)
        while events and at - events[0] > rule.window:
            events.popleft()
        return len(events), events[0]

    def forget(self, key: str) -> None:
        self._events.pop(key, None)
