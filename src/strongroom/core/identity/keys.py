"""Storage keys of the identity store (inside the storage view the caller hands it).

::

    entity/<id>                    the entity, its aliases inside
    entity-name/<digest(name)>     -> entity id            (names are unique)
    alias/<digest(accessor, name)> -> {"id", "entity_id"}  (one alias per mount and principal)
    alias-id/<alias id>            -> entity id
    group/<id>                     the group, its alias inside
    group-name/<digest(name)>      -> group id
    group-alias/<digest(accessor, name)> -> group id
    group-alias-id/<alias id>      -> group id

Names are compared case-insensitively, as Vault's identity store does by default,
and are hashed into keys so a name holding '/' or odd characters is still one
storage segment. The index entries are what uniqueness hangs on: each is created
with an "absent" precondition in the same transaction as the record it names, so
two workers creating the same alias at once cannot both succeed.
"""

from __future__ import annotations

import hashlib

ENTITY = "entity/"
ENTITY_NAME = "entity-name/"
ALIAS = "alias/"
ALIAS_ID = "alias-id/"
GROUP = "group/"
GROUP_NAME = "group-name/"
GROUP_ALIAS = "group-alias/"
GROUP_ALIAS_ID = "group-alias-id/"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(part.lower() for part in parts).encode()).hexdigest()


def entity(entity_id: str) -> str:
    return ENTITY + entity_id


def entity_name(name: str) -> str:
    return ENTITY_NAME + _digest(name)


def alias(mount_accessor: str, name: str) -> str:
    return ALIAS + _digest(mount_accessor, name)


def alias_id(alias_id: str) -> str:
    return ALIAS_ID + alias_id


def group(group_id: str) -> str:
    return GROUP + group_id


def group_name(name: str) -> str:
    return GROUP_NAME + _digest(name)


def group_alias(mount_accessor: str, name: str) -> str:
    return GROUP_ALIAS + _digest(mount_accessor, name)


def group_alias_id(alias_id: str) -> str:
    return GROUP_ALIAS_ID + alias_id
