"""The JWT auth method (Vault-compatible ``jwt``/``oidc`` types; JWT login only, no browser flow).

* ``config``   -- the mount's key source (PEM keys, JWKS URL or OIDC discovery), issuer, algorithms
* ``roles``    -- roles (audience/subject/claim bindings, claim mappings, leeways, token settings)
* ``claims``   -- the checks a verified token's claims must pass, and what a login takes from them
* ``fetch``    -- fetching JWKS and discovery documents through the egress check
* ``keysets``  -- caching and selecting verification keys (max age, kid refetch at most once a minute)
* ``backend``  -- paths and handlers

JWS parsing and signature checks live in :mod:`strongroom.sdk.jwt`, shared with the Kubernetes method.
"""

from strongroom.auth.jwt.backend import JwtBackend, jwt_factory

__all__ = ["JwtBackend", "jwt_factory"]
