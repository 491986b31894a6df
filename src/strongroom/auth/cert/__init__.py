"""The cert auth method (Vault-compatible): log in with the TLS client certificate.

* ``matching`` -- pure checks: is a certificate trusted by an entry, does it pass its name constraints
* ``roles``    -- trusted certificate entries in the mount's storage
* ``backend``  -- paths and handlers
"""

from strongroom.auth.cert.backend import CertAuthBackend

__all__ = ["CertAuthBackend"]
