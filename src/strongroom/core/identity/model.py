"""What the identity store keeps: entities with their aliases, and groups with their alias.

Records are plain mutable dataclasses that live only for one read-modify-write: the
store reads one, changes it and writes it back under a storage precondition. Their
JSON form is the stored form (inside the barrier); :mod:`.responses` builds Vault's
answer shapes from them.

An entity holds its aliases (one read serves a request's identity and its policy
templates). ``external_group_ids`` records, per auth mount accessor, the external
groups the entity's last login on that mount was found in (through group aliases of
the login's ``groups``); keeping it on the entity means a login never rewrites a
shared group record.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from strongroom.errors import InternalError

INTERNAL = "internal"
EXTERNAL = "external"
GROUP_TYPES = (INTERNAL, EXTERNAL)


@dataclass
class EntityAlias:
    id: str
    canonical_id: str
    mount_accessor: str
    name: str
    metadata: dict[str, str] = field(default_factory=dict)
    custom_metadata: dict[str, str] = field(default_factory=dict)
    creation_time: float = 0.0
    last_update_time: float = 0.0
    merged_from_canonical_ids: list[str] = field(default_factory=list)


@dataclass
class Entity:
    id: str
    name: str
    metadata: dict[str, str] = field(default_factory=dict)
    policies: list[str] = field(default_factory=list)
    disabled: bool = False
    aliases: list[EntityAlias] = field(default_factory=list)
    creation_time: float = 0.0
    last_update_time: float = 0.0
    merged_entity_ids: list[str] = field(default_factory=list)
    external_group_ids: dict[str, list[str]] = field(default_factory=dict)

    def alias(self, alias_id: str) -> EntityAlias | None:
        return next((a for a in self.aliases if a.id == alias_id), None)

    def alias_on_mount(self, mount_accessor: str) -> EntityAlias | None:
        return next((a for a in self.aliases if a.mount_accessor == mount_accessor), None)


@dataclass
class GroupAlias:
    id: str
    canonical_id: str
    mount_accessor: str
    name: str
    creation_time: float = 0.0
    last_update_time: float = 0.0


@dataclass
class Group:
    id: str
    name: str
    type: str = INTERNAL
    metadata: dict[str, str] = field(default_factory=dict)
    policies: list[str] = field(default_factory=list)
    member_entity_ids: list[str] = field(default_factory=list)
    member_group_ids: list[str] = field(default_factory=list)
    alias: GroupAlias | None = None
    creation_time: float = 0.0
    last_update_time: float = 0.0
    modify_index: int = 0


def to_json(record: Entity | Group) -> dict[str, Any]:
    return dataclasses.asdict(record)


def entity_from_json(body: Any) -> Entity:
    try:
        aliases = [EntityAlias(**item) for item in body.pop("aliases")]
        return Entity(aliases=aliases, **body)
    except (TypeError, KeyError, AttributeError):
        raise InternalError("a stored identity entity is malformed") from None


def group_from_json(body: Any) -> Group:
    try:
        alias_body = body.pop("alias")
        alias = GroupAlias(**alias_body) if alias_body is not None else None
        return Group(alias=alias, **body)
    except (TypeError, KeyError, AttributeError):
        raise InternalError("a stored identity group is malformed") from None
