"""Fixtures for the hvac compatibility suite: hvac clients of the session's dev server process."""

from __future__ import annotations

import hvac
import pytest
from tests.compat.hvac_support import client


@pytest.fixture
def root(dev_server: tuple[str, str]) -> hvac.Client:
    """An hvac client holding the dev server's root token."""
    address, token = dev_server
    return client(address, token)
