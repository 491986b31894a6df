"""The userpass auth method (Vault-compatible): users, argon2id password hashes, login.

* ``names``   -- the one canonical spelling of a username (lookups and lockout alike)
* ``hashing`` -- argon2id parameters and hashing off the event loop
* ``users``   -- user entries in the mount's storage, conditional writes
* ``backend`` -- paths and handlers
"""

from strongroom.auth.userpass.backend import UserpassBackend

__all__ = ["UserpassBackend"]
