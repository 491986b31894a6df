"""The configuration settings metrics read: the telemetry block's unauthenticated access, the rotation limit."""

from __future__ import annotations

import pytest

from strongroom.config.loader import parse_config
from strongroom.errors import ConfigError
from strongroom.server.main import settings_from_config

BASE = 'storage "sqlite" {\n  path = "/tmp/x.db"\n}\nlistener "tcp" {\n  tls_disable = true\n}\n'


def test_unauthenticated_metrics_access_is_off_unless_the_telemetry_block_turns_it_on() -> None:
    assert parse_config(BASE, "f.hcl").unauthenticated_metrics_access is False
    assert parse_config(BASE + "telemetry {\n}\n", "f.hcl").unauthenticated_metrics_access is False
    on = parse_config(BASE + "telemetry {\n  unauthenticated_metrics_access = true\n}\n", "f.hcl")
    assert on.unauthenticated_metrics_access is True
    assert on.telemetry["unauthenticated_metrics_access"] is True  # the raw block is still there
    assert settings_from_config(on).unauthenticated_metrics_access is True


def test_unauthenticated_metrics_access_must_be_a_boolean() -> None:
    message = r'f.hcl:8: telemetry: unauthenticated_metrics_access: invalid boolean "yes please"'
    with pytest.raises(ConfigError, match=message):
        parse_config(BASE + 'telemetry {\n  unauthenticated_metrics_access = "yes please"\n}\n', "f.hcl")


def test_the_rotation_limit_defaults_to_half_the_aes_gcm_bound() -> None:
    config = parse_config(BASE, "f.hcl")
    assert config.key_rotation_max_operations is None
    assert settings_from_config(config).key_rotation_max_operations == 2**31


def test_the_rotation_limit_can_be_lowered() -> None:
    config = parse_config(BASE + "key_rotation_max_operations = 1000\n", "f.hcl")
    assert settings_from_config(config).key_rotation_max_operations == 1000


@pytest.mark.parametrize("limit", ["0", "-5", "3865470567", "4294967296"])
def test_the_rotation_limit_cannot_be_zero_or_past_the_safe_bound(limit: str) -> None:
    with pytest.raises(ConfigError, match="key_rotation_max_operations: must be between 1 and 3865470566"):
        parse_config(BASE + f"key_rotation_max_operations = {limit}\n", "f.hcl")
