"""The alerts { ... } block of the server configuration."""

from __future__ import annotations

import pytest

from strongroom.config import parse_config
from strongroom.config.alerts import AlertsConfig, WebhookConfig
from strongroom.errors import ConfigError

BASE = 'storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n}\n'
SECRET = "s3cr3t-0123456789-abcdef"


def alerts(block: str) -> AlertsConfig:
    return parse_config(BASE + block, "strongroom.hcl").alerts


def test_without_a_block_the_defaults_apply() -> None:
    assert parse_config(BASE, "strongroom.hcl").alerts == AlertsConfig()
    assert AlertsConfig() == AlertsConfig(10, 60, 10, 60, 300, 2, 500, None)


def test_every_key_is_read() -> None:
    config = alerts(f"""
alerts {{
  permission_denied_threshold = 25
  permission_denied_window    = "2m"
  login_failed_threshold      = "5"
  login_failed_window         = 30
  quiet_period                = "1h"
  notify_delay                = "0s"
  history                     = 50
  webhook {{
    url              = "https://hooks.example.com/strongroom"
    secret           = "{SECRET}"
    timeout          = "10s"
    max_attempts     = 3
    allow_loopback   = true
    allow_link_local = true
    allow_private    = false
  }}
}}
""")
    assert config == AlertsConfig(
        25, 120, 5, 30, 3600, 0, 50,
        WebhookConfig("https://hooks.example.com/strongroom", SECRET, 10, 3, True, True, False),
    )


def test_the_json_spelling_works_too() -> None:
    text = ('{"storage": {"inmem": {}}, "listener": [{"tcp": {"tls_disable": true}}], '
            f'"alerts": {{"history": 7, "webhook": {{"url": "http://10.0.0.8:9000/x", "secret": "{SECRET}"}}}}}}')
    config = parse_config(text, "strongroom.json").alerts
    assert config.history == 7
    assert config.webhook is not None
    assert config.webhook.allow_loopback is False


def test_the_webhook_secret_stays_out_of_repr() -> None:
    block = f'alerts {{\n webhook {{\n url = "https://h.example/x"\n secret = "{SECRET}"\n}}\n}}\n'
    config = parse_config(BASE + block, "strongroom.hcl")
    assert SECRET not in repr(config)
    assert SECRET not in repr(config.alerts)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("alerts {\n  thresold = 3\n}\n", 'strongroom.hcl:6: alerts: unknown key "thresold"'),
        ("alerts {\n  permission_denied_threshold = 0\n}\n", "permission_denied_threshold: must be between 1"),
        ("alerts {\n  permission_denied_window = \"0s\"\n}\n", "permission_denied_window: must be at least one second"),
        ("alerts {\n  quiet_period = \"soon\"\n}\n", "quiet_period: invalid duration"),
        ("alerts {\n  webhook {\n    secret = \"" + SECRET + "\"\n  }\n}\n", "alerts: webhook: url is required"),
        ("alerts {\n  webhook {\n    url = \"https://h.example/x\"\n  }\n}\n", "alerts: webhook: secret is required"),
        ("alerts {\n  webhook {\n    url = \"https://h.example/x\"\n    secret = \"short\"\n  }\n}\n",
         "secret: must be at least 16 characters"),
        ("alerts {\n  webhook {\n    url = \"gopher://h.example/x\"\n    secret = \"" + SECRET + "\"\n  }\n}\n",
         "url: URL scheme must be one of http, https"),
        ("alerts {\n  webhook {\n    url = \"https://u:p@h.example/x\"\n    secret = \"" + SECRET + "\"\n  }\n}\n",
         "url: URL must not carry user info"),
        ("alerts {\n  webhook {\n    url = \"https://h.example/x\"\n    secret = \"" + SECRET
         + "\"\n    max_attempts = 50\n  }\n}\n", "max_attempts: must be between 1 and 20"),
        ("alerts {\n  webhook = \"https://h.example/x\"\n}\n", "alerts: webhook: expected a block"),
        ("alerts {}\nalerts {}\n", "alerts: only one alerts block is allowed"),
    ],
)
def test_invalid_blocks_are_refused_with_a_located_message(block: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + block, "strongroom.hcl")
    assert message in caught.value.message
    assert SECRET not in caught.value.message
