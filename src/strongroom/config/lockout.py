"""The ``user_lockout "<method>" { ... }`` blocks: server-wide login lockout defaults (Vault's stanza).

```hcl
user_lockout "all" {            # every auth method
  lockout_threshold     = 5     # failed logins that lock a principal
  lockout_duration      = "15m" # how long it stays locked
  lockout_counter_reset = "15m" # a quiet spell this long forgets earlier failures
}
user_lockout "userpass" {       # one auth method type; wins over "all" field by field
  lockout_threshold = 10
}
user_lockout "approle" {
  disable_lockout = true
}
```

Values are validated here (with file and line); the core resolves them per
mount, below a mount's own ``user_lockout_config`` tuning
(``strongroom.core.lockout.settings``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from strongroom.config.values import ValueProblem, as_bool, as_duration, as_int

#: The largest number accepted (about 68 years in seconds), as for the same settings through the API.
_MAX = 2**31 - 1
#: A label is "all" or a method type: the names the mount registry uses.
LABEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _at_least_one(convert: Callable[[object], int], unit: str) -> Callable[[object], int]:
    def checked(value: object) -> int:
        number = convert(value)
        if number < 1:
            raise ValueProblem(f"must be at least 1{unit}")
        if number > _MAX:
            raise ValueProblem(f"must be at most {_MAX}{unit}")
        return number

    return checked


VALUES: Mapping[str, Callable[[object], object]] = {
    "lockout_threshold": _at_least_one(as_int, ""),
    "lockout_duration": _at_least_one(as_duration, " second"),
    "lockout_counter_reset": _at_least_one(as_duration, " second"),
    "disable_lockout": as_bool,
}
KEYS = frozenset(VALUES)
