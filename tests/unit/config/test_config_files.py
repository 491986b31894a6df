"""Whole configuration files, HCL and JSON, load into the expected ServerConfig."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from strongroom.config import ListenerConfig, ServerConfig, StorageConfig, load_config, parse_config
from strongroom.errors import ConfigError

HERE = Path(__file__).parent
MINIMAL = 'storage "inmem" {}\nlistener "tcp" { tls_disable = true }\n'


def test_vault_style_hcl_file_loads_every_implemented_key() -> None:
    config = load_config(str(HERE / "vault_example.hcl"))

    assert config.storage == StorageConfig(type="sqlite", options={"path": "/var/lib/strongroom/strongroom.db"})
    assert config.storage.path == "/var/lib/strongroom/strongroom.db"
    public, local = config.listeners
    assert public == ListenerConfig(
        address="0.0.0.0:8200",
        host="0.0.0.0",
        port=8200,
        tls_cert_file="/etc/vault/tls/server.crt",
        tls_key_file="/etc/vault/tls/server.key",
        tls_min_version="tls13",
        tls_client_ca_file="/etc/vault/tls/ca.crt",
        tls_require_and_verify_client_cert=True,
        max_request_duration=120,
    )
    assert local.tls_disable is True
    assert (local.host, local.port) == ("127.0.0.1", 8210)
    assert local.max_request_size == 1048576
    assert local.max_request_duration == 90
    assert config.api_addr == "https://vault.example.com:8200"
    assert config.cluster_addr == "https://vault-0.internal:8201"
    assert (config.default_lease_ttl, config.max_lease_ttl) == (24 * 3600, 720 * 3600)
    assert config.log_level == "debug"
    assert config.disable_mlock is True
    assert config.ui is True
    assert [seal.type for seal in config.seals] == ["transit"]
    assert config.seals[0].options["key_name"] == "autounseal"
    assert config.telemetry["disable_hostname"] is True
    assert config.telemetry["prefix_filter"] == ("+vault.token", "-vault.expire")
    assert config.pid_file == "/run/strongroom.pid"
    assert config.workers == 4
    assert config.source == str(HERE / "vault_example.hcl")


def test_vault_only_keys_become_warnings_with_file_and_line() -> None:
    config = load_config(str(HERE / "vault_example.hcl"))
    path = str(HERE / "vault_example.hcl")

    assert config.warnings == (
        f"{path}:6: cluster_name: accepted for Vault compatibility, not implemented; ignored",
        f"{path}:7: plugin_directory: accepted for Vault compatibility, not implemented; ignored",
        f'{path}:20: listener "tcp": x_forwarded_for_authorized_addrs: '
        "accepted for Vault compatibility, not implemented; ignored",
    )


def test_json_file_with_vault_keys_loads_like_hcl() -> None:
    config = load_config(str(HERE / "vault_example.json"))

    assert config.storage.type == "sqlite"
    assert [(item.port, item.tls_disable) for item in config.listeners] == [(8200, False), (8210, True)]
    assert config.listeners[1].max_request_size == 1048576
    assert config.default_lease_ttl == 24 * 3600
    assert config.max_lease_ttl == 720 * 3600
    assert config.log_level == "warn"
    assert len(config.warnings) == 1
    assert ":14: cluster_name:" in config.warnings[0]


def test_minimal_config_gets_vault_defaults() -> None:
    config = parse_config(MINIMAL, "strongroom.hcl")

    (listener,) = config.listeners
    assert listener.address == "127.0.0.1:8200"
    assert listener.max_request_size == 32 * 1024 * 1024
    assert listener.max_request_duration == 90
    assert listener.tls_min_version == "tls12"
    assert config.default_lease_ttl == config.max_lease_ttl == 768 * 3600
    assert config.log_level == "info"
    assert config.workers == (os.cpu_count() or 1)
    assert config.seals == ()
    assert dict(config.telemetry) == {}
    assert config.warnings == ()


def test_zero_values_mean_the_default() -> None:
    text = MINIMAL.replace("tls_disable = true", "tls_disable = true, max_request_size = 0, max_request_duration = 0")
    config = parse_config(text + 'default_lease_ttl = "0"\n', "strongroom.hcl")

    assert config.listeners[0].max_request_size == 32 * 1024 * 1024
    assert config.listeners[0].max_request_duration == 90
    assert config.default_lease_ttl == 768 * 3600


def test_default_max_request_duration_applies_to_listeners_without_their_own() -> None:
    text = (
        'storage "inmem" {}\ndefault_max_request_duration = "30s"\n'
        'listener "tcp" { tls_disable = true }\n'
        'listener "tcp" { tls_disable = true, address = "127.0.0.1:8201", max_request_duration = "5s" }\n'
    )
    config = parse_config(text, "strongroom.hcl")

    assert [item.max_request_duration for item in config.listeners] == [30, 5]


def test_legacy_backend_block_is_storage() -> None:
    config = parse_config('backend "inmem" {}\nlistener "tcp" { tls_disable = true }', "strongroom.hcl")

    assert config.storage == StorageConfig(type="inmem")


def test_unknown_storage_types_are_carried_as_string_options_for_the_server_to_judge() -> None:
    text = (
        'storage "postgresql" {\n  connection_url ='
        ' "postgres://u:p@db/vault"\n  max_parallel = 128\n  ha_enabled = true\n}\n'
    )
    config = parse_config(text + 'listener "tcp" { tls_disable = true }', "strongroom.hcl")

    assert config.storage.type == "postgresql"
    assert dict(config.storage.options) == {
        "connection_url": "postgres://u:p@db/vault",
        "max_parallel": "128",
        "ha_enabled": "true",
    }


@pytest.mark.parametrize(
    "spelling",
    [
        'listener "tcp" { tls_disable = true }',
        "listener tcp { tls_disable = true }",
        "listener { tcp { tls_disable = true } }",
    ],
)
def test_every_hcl_spelling_of_a_labeled_block_is_accepted(spelling: str) -> None:
    config = parse_config(f'storage "inmem" {{}}\n{spelling}\n', "strongroom.hcl")

    assert config.listeners == (ListenerConfig(tls_disable=True),)


def test_repeated_listener_blocks_are_all_kept_in_order() -> None:
    text = "".join(
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  tls_disable = true\n}}\n' for port in (9001, 9002, 9003)
    )
    config = parse_config('storage "inmem" {}\n' + text, "strongroom.hcl")

    assert [item.port for item in config.listeners] == [9001, 9002, 9003]


def test_ipv6_listener_address_is_split_into_host_and_port() -> None:
    config = parse_config('storage "inmem" {}\nlistener "tcp" { address = "[::1]:8443", tls_disable = true }', "f")

    assert (config.listeners[0].host, config.listeners[0].port) == ("::1", 8443)


@pytest.mark.parametrize(("spelling", "expected"), [("1", True), ('"true"', True), ("false", False), ('"0"', False)])
def test_booleans_accept_vault_spellings(spelling: str, expected: bool) -> None:
    config = parse_config(f'storage "inmem" {{}}\nui = {spelling}\nlistener "tcp" {{ tls_disable = true }}', "f")

    assert config.ui is expected


@pytest.mark.parametrize(("spelling", "level"), [("TRACE", "trace"), ("warning", "warn"), ("err", "error")])
def test_log_level_is_normalised(spelling: str, level: str) -> None:
    config = parse_config(MINIMAL + f'log_level = "{spelling}"', "f")

    assert config.log_level == level


def test_secrets_in_option_blocks_never_reach_repr() -> None:
    text = (
        'storage "postgresql" { connection_url = "postgres://u:canary-db-password@db/v" }\n'
        'listener "tcp" { tls_disable = true }\n'
        'seal "transit" { token = "canary-seal-token" }\n'
        'telemetry { circonus_api_token = "canary-telemetry-token" }\n'
    )
    config = parse_config(text, "f")

    rendered = repr(config) + str(config) + repr(config.storage) + repr(config.seals)
    assert "canary" not in rendered
    assert config.seals[0].options["token"] == "canary-seal-token"


def test_config_is_frozen_and_its_option_mappings_are_read_only() -> None:
    config = parse_config(MINIMAL + 'seal "shamir" { x = "1" }\ntelemetry { a = { b = [1] } }\n', "f")

    with pytest.raises(dataclasses.FrozenInstanceError):
        config.workers = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.seals[0].options["x"] = "2"  # type: ignore[index]
    inner = config.telemetry["a"]
    assert not isinstance(inner, dict)
    with pytest.raises(TypeError):
        inner["b"] = 3  # type: ignore[index]
    assert isinstance(config, ServerConfig)


def test_load_config_of_a_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.hcl"

    with pytest.raises(ConfigError, match=r"nope\.hcl: cannot read configuration file: No such file"):
        load_config(str(missing))


def test_load_config_of_a_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.hcl"
    path.write_bytes(b'storage "inmem" {}\n# caf\xe9\n')

    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_config(str(path))
