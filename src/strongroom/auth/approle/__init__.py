"""The AppRole auth method (Vault-compatible): roles, role IDs, secret IDs, login, tidy.

* ``ids``        -- role names, generated ids, salted HMACs of credentials
* ``roles``      -- roles and the role ID index, changed together atomically
* ``secret_ids`` -- secret IDs stored as HMACs, uses spent atomically across workers
* ``terms``      -- parsing role settings and secret-ID terms (Vault's rules)
* ``backend``    -- paths and handlers
"""

from strongroom.auth.approle.backend import AppRoleBackend

__all__ = ["AppRoleBackend"]
