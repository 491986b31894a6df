"""Every kind of configuration error is one ConfigError naming file, line and key."""

from __future__ import annotations

import pytest

from strongroom.config import parse_config
from strongroom.errors import ConfigError

BASE = 'storage "inmem" {}\nlistener "tcp" { tls_disable = true }\n'  # lines 1-2


def error_of(text: str, filename: str = "strongroom.hcl") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, filename)
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n\n  # typo below\n\n  adress = "x"\n}\n',
            'strongroom.hcl:7: listener "tcp": unknown key "adress"',
            id="unknown-listener-key",
        ),
        pytest.param(
            BASE + 'default_lease_ttl = "10 parsecs"\n',
            'strongroom.hcl:3: default_lease_ttl: invalid duration "10 parsecs"',
            id="invalid-duration",
        ),
        pytest.param(
            BASE + "max_lease_ttl = -5\n",
            'strongroom.hcl:3: max_lease_ttl: invalid duration "-5": must not be negative',
            id="negative-duration",
        ),
        pytest.param(
            BASE + "storgae = 1\n",
            'strongroom.hcl:3: unknown key "storgae"',
            id="unknown-top-level-key",
        ),
        pytest.param(
            BASE + 'log_level = "info"\nlog_level = "debug"\n',
            "strongroom.hcl:3: log_level: set more than once",
            id="repeated-key",
        ),
        pytest.param(
            BASE + 'log_level = "loud"\n',
            'strongroom.hcl:3: log_level: invalid log level "loud"; use one of trace, debug, info, warn, error',
            id="invalid-log-level",
        ),
        pytest.param(
            BASE + 'ui = "maybe"\n',
            'strongroom.hcl:3: ui: invalid boolean "maybe"',
            id="invalid-boolean",
        ),
        pytest.param(
            BASE + "pid_file = [1]\n",
            "strongroom.hcl:3: pid_file: expected a string, got a list",
            id="wrong-type",
        ),
        pytest.param(
            BASE + "workers = 0\n",
            "strongroom.hcl:3: workers: must be between 1 and 1024 (got 0)",
            id="workers-zero",
        ),
        pytest.param(
            BASE + 'workers = "many"\n',
            'strongroom.hcl:3: workers: invalid number "many"',
            id="workers-not-a-number",
        ),
        pytest.param(
            BASE + 'api_addr = "vault:8200"\n',
            'strongroom.hcl:3: api_addr: invalid address "vault:8200": expected a full URL such as https://host:8200',
            id="api-addr-not-a-url",
        ),
        pytest.param(
            BASE + 'default_lease_ttl = "800h"\n',
            "strongroom.hcl:3: default_lease_ttl: default_lease_ttl (800h) is greater than max_lease_ttl (768h)",
            id="default-ttl-above-max",
        ),
        pytest.param(
            BASE + 'max_lease_ttl = "1h"\n',
            "strongroom.hcl:3: max_lease_ttl: default_lease_ttl (768h) is greater than max_lease_ttl (1h)",
            id="max-ttl-below-default",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  max_request_size = -1\n}\n',
            'strongroom.hcl:4: listener "tcp": max_request_size: must not be negative (got -1)',
            id="negative-request-size",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  address = "10.0.0.1"\n  tls_disable = true\n}\n',
            'strongroom.hcl:3: listener "tcp": address: invalid address "10.0.0.1": expected host:port',
            id="address-without-port",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  address = "::1:8200"\n  tls_disable = true\n}\n',
            'strongroom.hcl:3: listener "tcp": address: invalid address "::1:8200": write IPv6 hosts as [addr]:port',
            id="bare-ipv6-address",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:70000"\n  tls_disable = true\n}\n',
            'strongroom.hcl:3: listener "tcp": address: invalid address "127.0.0.1:70000": port out of range',
            id="port-out-of-range",
        ),
        pytest.param(
            BASE + 'listener "tcp" {\n  tls_disable = true\n}\n',
            'strongroom.hcl:3: listener "tcp": address: "127.0.0.1:8200" is used by another listener',
            id="duplicate-listener-address",
        ),
        pytest.param(
            'storage "inmem" {}\n\nlistener "tcp" {\n  address = "0.0.0.0:8200"\n}\n',
            'strongroom.hcl:3: listener "tcp": tls_cert_file is required unless tls_disable is set',
            id="tls-without-certificate",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  tls_cert_file = "c.pem"\n}\n',
            'strongroom.hcl:2: listener "tcp": tls_key_file is required unless tls_disable is set',
            id="tls-without-key",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  tls_cert_file = "c"\n  tls_key_file = "k"\n'
            "  tls_require_and_verify_client_cert = true\n}\n",
            'strongroom.hcl:5: listener "tcp": tls_client_ca_file is required with tls_require_and_verify_client_cert',
            id="client-cert-without-ca",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  tls_require_and_verify_client_cert = 1\n}\n',
            'strongroom.hcl:4: listener "tcp": tls_require_and_verify_client_cert: cannot be used with tls_disable',
            id="client-cert-without-tls",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  tls_cert_file = "c"\n  tls_key_file = "k"\n'
            '  tls_min_version = "tls11"\n}\n',
            'strongroom.hcl:5: listener "tcp": tls_min_version: "tls11" is not supported; use "tls12" or "tls13"',
            id="old-tls-version",
        ),
        pytest.param(
            'storage "inmem" {}\nlistener "tcp" {\n  tls_cert_file = "c"\n  tls_key_file = "k"\n'
            '  tls_min_version = "ssl3"\n}\n',
            'strongroom.hcl:5: listener "tcp": tls_min_version: invalid TLS version "ssl3"; use "tls12" or "tls13"',
            id="unknown-tls-version",
        ),
        pytest.param(
            'storage "inmem" {}\n\nlistener "unix" {\n  address = "/run/s.sock"\n}\n',
            'strongroom.hcl:3: listener "unix": unsupported listener type (only "tcp" is available)',
            id="unsupported-listener-type",
        ),
        pytest.param(
            'listener "tcp" { tls_disable = true }\n',
            'strongroom.hcl: a storage block is required, e.g. storage "sqlite" { path = ... }',
            id="missing-storage",
        ),
        pytest.param(
            'storage "inmem" {}\n',
            'strongroom.hcl: at least one listener block is required, e.g. listener "tcp" { ... }',
            id="missing-listener",
        ),
        pytest.param(
            BASE + 'storage "sqlite" { path = "x" }\n',
            'strongroom.hcl:3: storage "sqlite": only one storage block is allowed',
            id="two-storage-blocks",
        ),
        pytest.param(
            BASE + 'backend "inmem" {}\n',
            "strongroom.hcl:3: backend: use either storage or its legacy name backend, not both",
            id="storage-and-backend",
        ),
        pytest.param(
            'storage "sqlite" {\n}\nlistener "tcp" { tls_disable = true }\n',
            'strongroom.hcl:1: storage "sqlite": path is required (the SQLite database file)',
            id="sqlite-without-path",
        ),
        pytest.param(
            'storage "sqlite" {\n  path = "x"\n  journal_mode = "wal"\n}\nlistener "tcp" { tls_disable = true }\n',
            'strongroom.hcl:3: storage "sqlite": unknown key "journal_mode"',
            id="unknown-sqlite-option",
        ),
        pytest.param(
            'storage "inmem" {\n  path = "x"\n}\nlistener "tcp" { tls_disable = true }\n',
            'strongroom.hcl:2: storage "inmem": unknown key "path"',
            id="inmem-takes-no-options",
        ),
        pytest.param(
            'storage "consul" {\n  address = "x"\n  tags = ["a"]\n}\nlistener "tcp" { tls_disable = true }\n',
            'strongroom.hcl:3: storage "consul": tags: expected a string, got a list',
            id="storage-option-not-a-string",
        ),
        pytest.param(
            BASE + 'storage = "sqlite"\n',
            'strongroom.hcl:3: storage: expected a block like storage "type" { ... }, got a string',
            id="storage-as-a-string",
        ),
        pytest.param(
            BASE + 'seal = "shamir"\n',
            'strongroom.hcl:3: seal: expected a block like seal "type" { ... }, got a string',
            id="seal-as-a-string",
        ),
        pytest.param(
            BASE + 'seal "pkcs11" {\n  lib = "/usr/lib/softhsm.so"\n  slot = { a = 1 }\n}\n',
            'strongroom.hcl:5: seal "pkcs11": slot: expected a string, got a block',
            id="seal-option-not-a-string",
        ),
        pytest.param(
            BASE + 'telemetry = "statsd"\n',
            "strongroom.hcl:3: telemetry: expected a block, got a string",
            id="telemetry-not-a-block",
        ),
        pytest.param(
            BASE + "telemetry {\n}\ntelemetry {\n}\n",
            "strongroom.hcl:3: telemetry: only one telemetry block is allowed",
            id="two-telemetry-blocks",
        ),
    ],
)
def test_configuration_error_names_file_line_and_key(text: str, message: str) -> None:
    assert error_of(text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            'storage "inmem" {}\n\nlistener "tcp" {\n  address = \n}\n',
            "strongroom.hcl:5: syntax error: unexpected token RIGHTBRACE",
            id="missing-value",
        ),
        pytest.param(
            'storage "inmem" {\n  path = "x"\n',
            "strongroom.hcl:2: syntax error: unexpected end of file (unclosed block or list?)",
            id="unclosed-block",
        ),
        pytest.param(
            'storage "inmem" {}\nui = true\n€ = 1\n',
            "strongroom.hcl:3: syntax error: Illegal character '€'",
            id="illegal-character",
        ),
        pytest.param(
            '{\n  "storage": {"inmem": {}},\n  "listener": {"tcp": {}}\n  "ui": true\n}\n',
            "strongroom.hcl:4: syntax error: Expecting ',' delimiter",
            id="json-missing-comma",
        ),
    ],
)
def test_syntax_error_names_file_and_line(text: str, message: str) -> None:
    assert error_of(text) == message


def test_json_errors_point_at_the_line_of_the_offending_key() -> None:
    text = (
        '{\n  "storage": {"inmem": {}},\n  "listener": [\n    {"tcp": {"tls_disable": true}},\n'
        '    {"tcp": {"address": "127.0.0.1:1",\n             "tls_disable": "yes",\n'
        '             "tls_disabel": true}}\n  ]\n}\n'
    )

    assert error_of(text, "strongroom.json") == 'strongroom.json:7: listener "tcp": unknown key "tls_disabel"'


def test_error_in_a_later_listener_points_into_that_listener() -> None:
    text = (
        'storage "inmem" {}\n'
        'listener "tcp" {\n  address = "127.0.0.1:1"\n  tls_disable = true\n}\n'
        'listener "tcp" {\n  address = "127.0.0.1:2"\n  tls_disable = true\n  max_request_size = "big"\n}\n'
    )

    assert error_of(text) == 'strongroom.hcl:9: listener "tcp": max_request_size: invalid number "big"'


def test_key_names_inside_strings_and_comments_do_not_confuse_line_lookup() -> None:
    text = (
        "# adress = is a typo we once made\n"
        'storage "inmem" {}\n'
        'pid_file = "adress"\n'
        'listener "tcp" {\n  tls_disable = true\n  adress = "x"\n}\n'
    )

    assert error_of(text) == 'strongroom.hcl:6: listener "tcp": unknown key "adress"'


def test_long_invalid_values_are_shortened_in_messages() -> None:
    message = error_of(BASE + f'log_level = "{"x" * 500}"\n')

    assert len(message) < 150
    assert message.startswith('strongroom.hcl:3: log_level: invalid log level "xxxx')


def test_there_is_no_switch_for_unencrypted_storage() -> None:
    for key in ("disable_encryption", "unencrypted", "insecure_storage", "disable_barrier"):
        assert error_of(BASE + f"{key} = true\n") == f'strongroom.hcl:3: unknown key "{key}"'
