"""Bounds on caller-supplied numbers, checked before any date arithmetic or storage encoding.

A duration of 10**40 seconds would overflow ``datetime`` and the JSON codec; it
is a 400 here instead of a 500 later.
"""

from __future__ import annotations

from strongroom.errors import InvalidRequest

#: About 1,000 years: past any certificate a CA should sign (Y10K dates go through ``not_after``).
MAX_DURATION = 1000 * 365 * 24 * 3600


def check_duration(seconds: int, name: str) -> int:
    if seconds > MAX_DURATION:
        raise InvalidRequest(f"invalid value for {name!r}: longer than 1000 years")
    return seconds
