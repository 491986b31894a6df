"""Fixtures of the pki unit tests (the harness itself is in ``pki_support``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pki_support import PKI, OpenSSL


@pytest.fixture
def pki() -> PKI:
    return PKI()


@pytest.fixture
def rooted() -> PKI:
    """A mount with an EC root CA and a role ``web`` for subdomains of example.com."""
    mount = PKI()
    mount.root()
    mount.role()
    return mount


@pytest.fixture
def make_pki() -> type[PKI]:
    return PKI


@pytest.fixture
def openssl(tmp_path: Path) -> OpenSSL:
    return OpenSSL(tmp_path)
