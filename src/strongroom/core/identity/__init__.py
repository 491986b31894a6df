"""Identity: entities, entity aliases, groups and group aliases (Vault's identity store).

* :mod:`.model` -- the records; :mod:`.keys` -- where they are stored;
* :mod:`.store` -- :class:`IdentityStore`: writes under storage preconditions, logins, request-time resolution;
* :mod:`.backend` -- the ``identity/`` mount's endpoints; :mod:`.responses` -- their JSON shapes.
"""

from strongroom.core.identity.store import IdentityStore, Resolved

__all__ = ["IdentityStore", "Resolved"]
