"""Leases: every dynamic secret the core hands out, persisted through the barrier until revoked.

``records`` (the stored shape and keys), ``ttl`` (clamping), ``schedule`` (the
index by due time), ``manager`` (issue, renew, revoke, expire), ``runner`` (the
expiry loop), ``sys_paths`` (``sys/leases/*``). See ``docs/leases.md``.
"""

from strongroom.core.leases.manager import ExpirationManager, LeaseConfig
from strongroom.core.leases.records import LeaseEntry

__all__ = ["ExpirationManager", "LeaseConfig", "LeaseEntry"]
