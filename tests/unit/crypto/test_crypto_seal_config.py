"""The seal seam's configuration, stored in plaintext at core/seal-config."""

from __future__ import annotations

import dataclasses
import json

import pytest

from strongroom.errors import InternalError
from strongroom.sdk.seal import SEAL_CONFIG_PATH, SealConfig


def test_a_shamir_config_round_trips_through_json() -> None:
    config = SealConfig(type="shamir", secret_shares=5, secret_threshold=3)
    assert SealConfig.from_json(config.to_json()) == config
    assert json.loads(config.to_json()) == {
        "type": "shamir",
        "secret_shares": 5,
        "secret_threshold": 3,
        "stored_shares": 0,
        "recovery_shares": 0,
        "recovery_threshold": 0,
    }


def test_an_auto_seal_config_with_recovery_shares_round_trips() -> None:
    config = SealConfig(
        type="pkcs11", secret_shares=1, secret_threshold=1, stored_shares=1, recovery_shares=5,
        recovery_threshold=3,
    )
    assert SealConfig.from_json(config.to_json()) == config


def test_the_config_is_frozen_and_lives_at_its_documented_path() -> None:
    config = SealConfig(type="shamir", secret_shares=1, secret_threshold=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.secret_threshold = 2  # type: ignore[misc]
    assert SEAL_CONFIG_PATH == "core/seal-config"


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "", "secret_shares": 1, "secret_threshold": 1},
        {"type": "shamir", "secret_shares": 3, "secret_threshold": 4},
        {"type": "shamir", "secret_shares": 3, "secret_threshold": 0},
        {"type": "shamir", "secret_shares": 256, "secret_threshold": 2},
        {"type": "shamir", "secret_shares": True, "secret_threshold": 1},
        {"type": "shamir", "secret_shares": 3, "secret_threshold": 2, "recovery_shares": 3,
         "recovery_threshold": 2},
        {"type": "shamir", "secret_shares": 3, "secret_threshold": 2, "stored_shares": 1},
        {"type": "pkcs11", "secret_shares": 1, "secret_threshold": 1, "stored_shares": 2},
        {"type": "pkcs11", "secret_shares": 1, "secret_threshold": 1, "recovery_shares": 3},
        {"type": "pkcs11", "secret_shares": 1, "secret_threshold": 1, "recovery_threshold": 1},
        {"type": "pkcs11", "secret_shares": 1, "secret_threshold": 1, "recovery_shares": 2,
         "recovery_threshold": 3},
    ],
)
def test_impossible_configs_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SealConfig(**fields)  # type: ignore[arg-type]
    with pytest.raises(InternalError):
        SealConfig.from_json(json.dumps(fields).encode())


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'{"type": "shamir"}', b'{"type": "shamir", "secret_shares": 1, '
     b'"secret_threshold": 1, "surprise": 1}'],
)
def test_a_damaged_stored_config_is_an_internal_error(data: bytes) -> None:
    with pytest.raises(InternalError) as caught:
        SealConfig.from_json(data)
    assert caught.value.message == "stored seal configuration is malformed"

