"""The ``alerts { ... }`` block: detector thresholds and the optional signed webhook.

```hcl
alerts {
  permission_denied_threshold = 10      # denials from one address, token or entity ...
  permission_denied_window    = "60s"   # ... within this window open an alert
  login_failed_threshold      = 10
  login_failed_window         = "60s"
  quiet_period                = "5m"    # an alert absorbs repeats until this long without one
  notify_delay                = "2s"    # sinks hear of an alert this long after it opened
  history                     = 500     # alerts kept for sys/alerts

  webhook {
    url            = "https://hooks.example.com/strongroom"
    secret         = "at least 16 characters"   # HMAC-SHA256 key of X-Strongroom-Signature
    timeout        = "5s"
    max_attempts   = 5
    allow_loopback   = false   # egress check: loopback denied by default
    allow_link_local = false   # link-local denied by default (metadata addresses always)
    allow_private    = true
  }
}
```

The tables below drive the validation in ``build.py``: each key, its
converter and its default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from strongroom.config.values import ValueProblem, as_bool, as_duration, as_int, as_str
from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import split_url

MIN_SECRET = 16


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    secret: str = field(repr=False)
    timeout: int = 5
    max_attempts: int = 5
    allow_loopback: bool = False
    allow_link_local: bool = False
    allow_private: bool = True


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    permission_denied_threshold: int = 10
    permission_denied_window: int = 60
    login_failed_threshold: int = 10
    login_failed_window: int = 60
    quiet_period: int = 300
    notify_delay: int = 2
    history: int = 500
    webhook: WebhookConfig | None = None


def _positive_int(value: object) -> int:
    number = as_int(value)
    if not 1 <= number <= 1_000_000:
        raise ValueProblem(f"must be between 1 and 1000000 (got {number})")
    return number


def _positive_duration(value: object) -> int:
    seconds = as_duration(value)
    if seconds < 1:
        raise ValueProblem("must be at least one second")
    return seconds


def _url(value: object) -> str:
    text = as_str(value).strip()
    try:
        split_url(text)
    except InvalidRequest as problem:
        raise ValueProblem(problem.message) from None
    return text


def _secret(value: object) -> str:
    text = as_str(value)
    if len(text) < MIN_SECRET:
        raise ValueProblem(f"must be at least {MIN_SECRET} characters")
    return text


def _attempts(value: object) -> int:
    number = as_int(value)
    if not 1 <= number <= 20:
        raise ValueProblem(f"must be between 1 and 20 (got {number})")
    return number


Converter = Callable[[object], object]

ALERT_VALUES: Mapping[str, tuple[Converter, object]] = {
    "permission_denied_threshold": (_positive_int, 10),
    "permission_denied_window": (_positive_duration, 60),
    "login_failed_threshold": (_positive_int, 10),
    "login_failed_window": (_positive_duration, 60),
    "quiet_period": (_positive_duration, 300),
    "notify_delay": (as_duration, 2),
    "history": (_positive_int, 500),
}
WEBHOOK_VALUES: Mapping[str, tuple[Converter, object]] = {
    "url": (_url, ""),
    "secret": (_secret, ""),
    "timeout": (_positive_duration, 5),
    "max_attempts": (_attempts, 5),
    "allow_loopback": (as_bool, False),
    "allow_link_local": (as_bool, False),
    "allow_private": (as_bool, True),
}
ALERT_KEYS = frozenset({*ALERT_VALUES, "webhook"})
WEBHOOK_KEYS = frozenset(WEBHOOK_VALUES)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueProblem("expected a whole number")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueProblem("expected a boolean")
    return value


def make_alerts_config(values: Mapping[str, object], webhook: Mapping[str, object] | None) -> AlertsConfig:
    """Assemble the block from values the tables' converters produced (``build.py`` runs them)."""
    hook = None
    if webhook is not None:
        hook = WebhookConfig(
            url=str(webhook["url"]),
            secret=str(webhook["secret"]),
            timeout=_int(webhook["timeout"]),
            max_attempts=_int(webhook["max_attempts"]),
            allow_loopback=_bool(webhook["allow_loopback"]),
            allow_link_local=_bool(webhook["allow_link_local"]),
            allow_private=_bool(webhook["allow_private"]),
        )
    return AlertsConfig(
        permission_denied_threshold=_int(values["permission_denied_threshold"]),
        permission_denied_window=_int(values["permission_denied_window"]),
        login_failed_threshold=_int(values["login_failed_threshold"]),
        login_failed_window=_int(values["login_failed_window"]),
        quiet_period=_int(values["quiet_period"]),
        notify_delay=_int(values["notify_delay"]),
        history=_int(values["history"]),
        webhook=hook,
    )
