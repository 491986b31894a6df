"""The built-in ``default`` policy: what every token needs to look after itself.

It matches the effect of Vault's default policy for the features we serve,
including the templated paths that let a token read its own entity;
Enterprise features (control groups, MFA) and the OIDC identity provider are
left out because we do not support them. Operators may edit it; it cannot be
deleted.
"""

from __future__ import annotations

DEFAULT_POLICY_TEXT = """\
# The built-in "default" policy. Attached to every token unless
# no_default_policy is set. It may be edited but not deleted.

# A token may read its own properties...
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# ...extend its own lifetime...
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# ...and give itself up.
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# A token may read its own entity, by id or by name (no entity: no such path).
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}

path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}

# A token may ask what it is allowed to do on given paths.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# The UI asks for the calling token's resulting ACL.
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Leases: holding the lease id is the authorisation to renew or look it up.
path "sys/renew" {
  capabilities = ["update"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Each token's private cubbyhole (the engine scopes it to the token).
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping: wrap data, inspect and unwrap a wrapping token.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

path "sys/wrapping/lookup" {
  capabilities = ["update"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# Hashing helpers.
path "sys/tools/hash" {
  capabilities = ["update"]
}

path "sys/tools/hash/*" {
  capabilities = ["update"]
}
"""
