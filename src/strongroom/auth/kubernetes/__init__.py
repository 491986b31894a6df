"""The Kubernetes auth method (Vault-compatible): config, roles, login with a service-account JWT.

* ``jws``           -- compact JWS parsing and RS/ES signature checks (never ``none`` or HMAC)
* ``claims``        -- the service account a token names; expiry, issuer and audience checks
* ``globs``         -- ``*`` globs for name and namespace bindings
* ``config``        -- the mount's cluster configuration
* ``roles``         -- roles and their storage
* ``review``        -- the cluster's TokenReview API, through the egress check
* ``local_account`` -- the server pod's own token and CA
* ``backend``       -- paths and handlers
"""

from strongroom.auth.kubernetes.backend import KubernetesBackend, kubernetes_factory

__all__ = ["KubernetesBackend", "kubernetes_factory"]
