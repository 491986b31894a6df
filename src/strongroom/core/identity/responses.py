"""Vault's JSON shapes for identity records (read, list ``key_info``, lookup)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strongroom.core.identity.model import Entity, EntityAlias, Group, GroupAlias
from strongroom.core.tokens.responses import rfc3339

#: The auth mount an accessor names: (path such as ``auth/userpass/``, type), or None.
MountOf = Callable[[str], tuple[str, str] | None]


def mount_fields(mount_of: MountOf, accessor: str) -> dict[str, str]:
    found = mount_of(accessor)
    path, kind = found if found is not None else ("", "")
    return {"mount_path": path, "mount_type": kind}


def alias_data(alias: EntityAlias, mount_of: MountOf, namespace_id: str) -> dict[str, Any]:
    return {
        "id": alias.id,
        "canonical_id": alias.canonical_id,
        "name": alias.name,
        "mount_accessor": alias.mount_accessor,
        **mount_fields(mount_of, alias.mount_accessor),
        "metadata": dict(alias.metadata) or None,
        "custom_metadata": dict(alias.custom_metadata) or None,
        "creation_time": rfc3339(alias.creation_time),
        "last_update_time": rfc3339(alias.last_update_time),
        "merged_from_canonical_ids": list(alias.merged_from_canonical_ids) or None,
        "local": False,
        "namespace_id": namespace_id,
    }


def entity_data(
    entity: Entity, direct: list[str], inherited: list[str], mount_of: MountOf, namespace_id: str
) -> dict[str, Any]:
    return {
        "id": entity.id,
        "name": entity.name,
        "metadata": dict(entity.metadata) or None,
        "policies": list(entity.policies),
        "disabled": entity.disabled,
        "aliases": [alias_data(a, mount_of, namespace_id) for a in entity.aliases],
        "creation_time": rfc3339(entity.creation_time),
        "last_update_time": rfc3339(entity.last_update_time),
        "merged_entity_ids": list(entity.merged_entity_ids) or None,
        "direct_group_ids": direct,
        "inherited_group_ids": inherited,
        "group_ids": sorted({*direct, *inherited}),
        "namespace_id": namespace_id,
        "mfa_secrets": {},
    }


def group_alias_data(alias: GroupAlias, mount_of: MountOf) -> dict[str, Any]:
    return {
        "id": alias.id,
        "canonical_id": alias.canonical_id,
        "name": alias.name,
        "mount_accessor": alias.mount_accessor,
        **mount_fields(mount_of, alias.mount_accessor),
        "creation_time": rfc3339(alias.creation_time),
        "last_update_time": rfc3339(alias.last_update_time),
        "metadata": None,
        "merged_from_canonical_ids": None,
    }


def group_data(group: Group, parents: list[str], mount_of: MountOf, namespace_id: str) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "type": group.type,
        "metadata": dict(group.metadata) or None,
        "policies": list(group.policies),
        "member_entity_ids": list(group.member_entity_ids),
        "member_group_ids": list(group.member_group_ids),
        "parent_group_ids": parents,
        "alias": group_alias_data(group.alias, mount_of) if group.alias is not None else {},
        "creation_time": rfc3339(group.creation_time),
        "last_update_time": rfc3339(group.last_update_time),
        "modify_index": group.modify_index,
        "namespace_id": namespace_id,
    }
