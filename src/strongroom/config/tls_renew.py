"""The ``tls_auto_renew { ... }`` block: the server renews its listeners' certificates from its PKI engine.

```hcl
tls_auto_renew {
  role           = "server"                          # PKI role to issue from (required)
  mount          = "pki"                             # PKI mount path
  token_file     = "/etc/strongroom/renew-token"     # token with update on <mount>/issue/<role> (required)
  renew_before   = "72h"                             # renew when the certificate expires within this
  check_interval = "1h"                              # how often to look
  ttl            = "720h"                            # TTL to ask for (default: the role's)
}
```

Strongroom-only (Vault has no such block). The token file is read at every attempt, so it can be
replaced without a restart; its content never reaches a log or an error. The table below drives the
validation in ``build.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from strongroom.config.values import ValueProblem, as_duration, as_str

_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


@dataclass(frozen=True, slots=True)
class TLSAutoRenewConfig:
    role: str
    token_file: str
    mount: str = "pki"
    renew_before: int = 72 * 3600
    check_interval: int = 3600
    ttl: int = 0


def _path_part(value: object) -> str:
    text = as_str(value).strip("/")
    if not _SEGMENT.fullmatch(text) or ".." in text.split("/"):
        raise ValueProblem("must be a mount or role name (letters, digits, '_', '-', '.', '/')")
    return text


def _file(value: object) -> str:
    text = as_str(value)
    if not text:
        raise ValueProblem("must not be empty")
    return text


def _positive_duration(value: object) -> int:
    seconds = as_duration(value)
    if seconds <= 0:
        raise ValueProblem("must be longer than zero")
    return seconds


def _optional_duration(value: object) -> int:
    seconds = as_duration(value)
    if seconds < 0:
        raise ValueProblem("must not be negative")
    return seconds


TLS_RENEW_VALUES: Mapping[str, tuple[Callable[[object], object], object]] = {
    "role": (_path_part, ""),
    "mount": (_path_part, "pki"),
    "token_file": (_file, ""),
    "renew_before": (_positive_duration, 72 * 3600),
    "check_interval": (_positive_duration, 3600),
    "ttl": (_optional_duration, 0),
}
TLS_RENEW_KEYS = frozenset(TLS_RENEW_VALUES)
REQUIRED = ("role", "token_file")


def make_tls_renew_config(values: Mapping[str, object]) -> TLSAutoRenewConfig:
    return TLSAutoRenewConfig(
        role=str(values["role"]),
        token_file=str(values["token_file"]),
        mount=str(values["mount"]),
        renew_before=int(values["renew_before"]),  # type: ignore[call-overload]
        check_interval=int(values["check_interval"]),  # type: ignore[call-overload]
        ttl=int(values["ttl"]),  # type: ignore[call-overload]
    )
