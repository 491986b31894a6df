"""Lockout defaults from the configuration file's ``user_lockout`` blocks, and how they resolve per mount."""

from __future__ import annotations

import pytest

from strongroom.config import parse_config
from strongroom.core.lockout.settings import LockoutDefaults, LockoutSettings
from strongroom.errors import ConfigError, InvalidRequest
from strongroom.server.main import settings_from_config
from strongroom.server.settings import NodeSettings

BASE = 'storage "inmem" {}\nlistener "tcp" { tls_disable = true }\n'  # lines 1-2


def test_blocks_are_parsed_per_label_with_vaults_spellings() -> None:
    config = parse_config(
        BASE + 'user_lockout "all" {\n  lockout_threshold = "7"\n  lockout_duration = "1h"\n}\n'
        'user_lockout "userpass" {\n  lockout_counter_reset = 600\n}\n'
        'user_lockout "approle" {\n  disable_lockout = "true"\n}\n',
        "strongroom.hcl",
    )
    assert {k: dict(v) for k, v in config.user_lockout.items()} == {
        "all": {"lockout_threshold": 7, "lockout_duration": 3600},
        "userpass": {"lockout_counter_reset": 600},
        "approle": {"disable_lockout": True},
    }
    assert not [w for w in config.warnings if "user_lockout" in w]


def test_defaults_resolve_field_by_field_below_the_mounts_tuning() -> None:
    defaults = LockoutDefaults.from_config({
        "all": {"lockout_threshold": 7, "lockout_duration": 3600},
        "userpass": {"lockout_threshold": 3},
        "approle": {"disable_lockout": True},
    })
    assert defaults.resolve("userpass", {}) == LockoutSettings(threshold=3, duration=3600, counter_reset=900)
    assert defaults.resolve("kubernetes", {}) == LockoutSettings(threshold=7, duration=3600, counter_reset=900)
    assert defaults.resolve("approle", {}).disabled is True
    tuned = defaults.resolve("userpass", {"lockout_threshold": 9, "lockout_counter_reset": 60})
    assert tuned == LockoutSettings(threshold=9, duration=3600, counter_reset=60)
    assert LockoutDefaults().resolve("userpass", {}) == LockoutSettings(5, 900, 900, False)


def test_the_blocks_reach_every_workers_core_through_the_node_settings() -> None:
    config = parse_config(BASE + 'user_lockout "userpass" {\n  lockout_threshold = 2\n}\n', "strongroom.hcl")
    settings = NodeSettings.from_json(settings_from_config(config).to_json())
    defaults = LockoutDefaults.from_config(settings.user_lockout)
    assert defaults.resolve("userpass", {}).threshold == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('user_lockout "all" {\n  lockout_treshold = 3\n}\n', 'strongroom.hcl:4: user_lockout "all": unknown key'),
        ('user_lockout "all" {\n  lockout_threshold = 0\n}\n', "lockout_threshold: must be at least 1"),
        ('user_lockout "all" {\n  lockout_duration = "soon"\n}\n', 'lockout_duration: invalid duration "soon"'),
        ('user_lockout "all" {\n  lockout_counter_reset = 0\n}\n', "must be at least 1 second"),
        ('user_lockout "all" {\n  disable_lockout = "perhaps"\n}\n', "disable_lockout: invalid boolean"),
        ('user_lockout "all" {\n  lockout_threshold = 99999999999\n}\n', "must be at most"),
        ('user_lockout "All Methods" {\n}\n', "the label must be"),
        ('user_lockout "all" {\n}\nuser_lockout "all" {\n}\n', "only one block per label"),
    ],
)
def test_bad_blocks_are_located_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + text, "strongroom.hcl")
    assert message in caught.value.message
    assert caught.value.message.startswith("strongroom.hcl:")


def test_tuned_values_are_validated_like_configured_ones() -> None:
    with pytest.raises(InvalidRequest, match="at least 1"):
        LockoutDefaults().resolve("userpass", {"lockout_threshold": 0})
