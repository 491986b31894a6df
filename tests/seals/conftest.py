"""One SoftHSM2 token for the in-process tests (the PKCS#11 library is loaded once per process)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.seals.kms_emulator import KmsEmulator
from tests.seals.softhsm import Token, make_token


@pytest.fixture(scope="session")
def session_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    token = make_token(Path(tmp_path_factory.mktemp("softhsm")), keys=("strongroom-seal", "other-key"))
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(token.conf)
    yield token
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture(scope="session")
def kms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KmsEmulator]:
    """moto's KMS emulator on 127.0.0.1 (see tests/seals/kms_emulator.py); tests that stop it start it again."""
    emulator = KmsEmulator(Path(tmp_path_factory.mktemp("moto")) / "recording.jsonl")
    emulator.start()
    yield emulator
    emulator.stop()
