"""Login lockout: failed logins counted per (auth mount, principal), applied by the core to every login.

* ``settings``  -- Vault's defaults, configuration blocks and mount tuning, resolved per mount
* ``keys``      -- principal folding and the keyed names counters are stored under
* ``store``     -- counters in the barrier, conditional writes shared by every worker
* ``service``   -- :class:`LoginLockout`, the guard ``Core`` runs around logins
* ``sys_paths`` -- ``sys/locked-users`` and unlock
"""

from strongroom.core.lockout.service import LoginLockout
from strongroom.core.lockout.settings import LockoutDefaults, LockoutSettings

__all__ = ["LockoutDefaults", "LockoutSettings", "LoginLockout"]
