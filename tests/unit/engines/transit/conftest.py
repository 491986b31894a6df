"""Fixtures for the transit engine's unit tests (the harness lives in ``transit_harness.py``)."""

from __future__ import annotations

import pytest
from transit_harness import Transit


@pytest.fixture
def transit() -> Transit:
    return Transit()


@pytest.fixture
def make_transit() -> type[Transit]:
    return Transit
