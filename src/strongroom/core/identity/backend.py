"""The ``identity/`` system mount: Vault's entity, entity-alias, group, group-alias and lookup paths.

Answers as Vault does: a create answers ``{"id", "name"}`` (aliases: ``{"id",
"canonical_id"}``), an update by id answers 204, a read of something absent 404,
LIST by id carries ``key_info``, a lookup that finds nothing answers 204.
Access is governed by ACL policies on these paths like any mount.
"""

from __future__ import annotations

from typing import Any

from strongroom.core.identity.model import GROUP_TYPES, Entity, Group
from strongroom.core.identity.responses import (
    MountOf,
    alias_data,
    entity_data,
    group_alias_data,
    group_data,
    mount_fields,
)
from strongroom.core.identity.store import (
    AliasChanges,
    EntityChanges,
    GroupChanges,
    IdentityStore,
    checked_name,
)
from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, Operation, Request, Response

R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST

_ENTITY_FIELDS = {
    "id": Field(T.STRING, "", "ID of the entity to update."),
    "name": Field(T.STRING, "", "Name of the entity."),
    "metadata": Field(T.STRING_MAP, None, "Metadata of the entity."),
    "policies": Field(T.STRING_LIST, None, "Policies of the entity."),
    "disabled": Field(T.BOOL, None, "Tokens of a disabled entity are refused."),
}
_ALIAS_FIELDS = {
    "id": Field(T.STRING, "", "ID of the alias to update."),
    "name": Field(T.STRING, "", "Name of the alias (the principal's name at the auth method)."),
    "mount_accessor": Field(T.STRING, "", "Accessor of the auth mount."),
    "canonical_id": Field(T.STRING, "", "Entity (or group) the alias belongs to."),
    "metadata": Field(T.STRING_MAP, None, "Not settable: alias metadata comes from the auth method."),
    "custom_metadata": Field(T.STRING_MAP, None, "Custom metadata of the alias."),
    "entity_id": Field(T.STRING, "", "Deprecated name of canonical_id."),
}
_GROUP_FIELDS = {
    "id": Field(T.STRING, "", "ID of the group to update."),
    "name": Field(T.STRING, "", "Name of the group."),
    "type": Field(T.STRING, "", "internal or external."),
    "metadata": Field(T.STRING_MAP, None, "Metadata of the group."),
    "policies": Field(T.STRING_LIST, None, "Policies of the group."),
    "member_entity_ids": Field(T.STRING_LIST, None, "Entities in the group."),
    "member_group_ids": Field(T.STRING_LIST, None, "Groups in the group."),
}
_MERGE_FIELDS = {
    "from_entity_ids": Field(T.STRING_LIST, [], "Entities to merge into to_entity_id (deleted afterwards)."),
    "to_entity_id": Field(T.STRING, "", "The entity that receives the aliases."),
    "force": Field(T.BOOL, False, "Not supported: name the aliases to keep instead."),
    "conflicting_alias_ids_to_keep": Field(T.STRING_LIST, [], "Of two aliases on one mount, the ones to keep."),
}
_LOOKUP_FIELDS = {
    "id": Field(T.STRING, ""),
    "name": Field(T.STRING, ""),
    "alias_id": Field(T.STRING, ""),
    "alias_name": Field(T.STRING, ""),
    "alias_mount_accessor": Field(T.STRING, ""),
}


def _entity_changes(f: FieldData) -> EntityChanges:
    name = f.get("name")
    return EntityChanges(
        name=checked_name(name, "entity") if name else None,
        metadata=f.get("metadata"),
        policies=[p.strip() for p in f.get("policies")] if f.get("policies") is not None else None,
        disabled=f.get("disabled"),
    )


class IdentityBackend(FrameworkBackend):
    type_name = "identity"
    kind = "secret"

    def __init__(self, ctx: BackendContext, store: IdentityStore, mount_of: MountOf) -> None:
        super().__init__(ctx)
        self.store = store
        self.mount_of = mount_of

    def paths(self) -> list[Path]:
        ident = r"(?P<id>[^/]+)"
        name = r"(?P<name>[^/]+)"
        return [
            Path("entity/?", {U: self._entity_write}, _ENTITY_FIELDS),
            Path("entity/merge", {U: self._entity_merge}, _MERGE_FIELDS),
            Path("entity/id/?", {L: self._entity_list_ids}),
            Path(f"entity/id/{ident}", {R: self._entity_read, U: self._entity_write, D: self._entity_delete},
                 _ENTITY_FIELDS),
            Path("entity/name/?", {L: self._entity_list_names}),
            Path(f"entity/name/{name}", {R: self._entity_read_name, U: self._entity_write_name,
                                          D: self._entity_delete_name}, _ENTITY_FIELDS),
            Path("entity-alias/?", {U: self._alias_write}, _ALIAS_FIELDS),
            Path("entity-alias/id/?", {L: self._alias_list}),
            Path(f"entity-alias/id/{ident}", {R: self._alias_read, U: self._alias_write, D: self._alias_delete},
                 _ALIAS_FIELDS),
            Path("group/?", {U: self._group_write}, _GROUP_FIELDS),
            Path("group/id/?", {L: self._group_list_ids}),
            Path(f"group/id/{ident}", {R: self._group_read, U: self._group_write, D: self._group_delete},
                 _GROUP_FIELDS),
            Path("group/name/?", {L: self._group_list_names}),
            Path(f"group/name/{name}", {R: self._group_read_name, U: self._group_write_name,
                                         D: self._group_delete_name}, _GROUP_FIELDS),
            Path("group-alias/?", {U: self._group_alias_write}, _ALIAS_FIELDS),
            Path("group-alias/id/?", {L: self._group_alias_list}),
            Path(f"group-alias/id/{ident}", {R: self._group_alias_read, U: self._group_alias_write,
                                              D: self._group_alias_delete}, _ALIAS_FIELDS),
            Path("lookup/entity", {U: self._lookup_entity}, _LOOKUP_FIELDS),
            Path("lookup/group", {U: self._lookup_group}, _LOOKUP_FIELDS),
        ]

    # -- entities -------------------------------------------------------------------------

    def _entity(self, entity: Entity) -> dict[str, Any]:
        direct, inherited = self.store.memberships(entity)
        return entity_data(entity, direct, inherited, self.mount_of, self.store.namespace_id)

    async def _entity_write(self, req: Request, f: FieldData) -> Response | None:
        entity_id = f.get("id") or None
        entity, _created = await self.store.write_entity(entity_id, _entity_changes(f))
        if entity_id is not None:
            return None
        return Response(data={"id": entity.id, "name": entity.name, "aliases": [a.id for a in entity.aliases]})

    async def _entity_write_name(self, req: Request, f: FieldData) -> Response | None:
        changes = _entity_changes(f)
        changes.name = checked_name(f.get("name"), "entity")
        entity, created = await self.store.write_entity(None, changes)
        return Response(data={"id": entity.id, "name": entity.name}) if created else None

    async def _entity_read(self, req: Request, f: FieldData) -> Response:
        entity = await self.store.entity(f.get("id"))
        if entity is None:
            raise NotFound()
        return Response(data=self._entity(entity))

    async def _entity_read_name(self, req: Request, f: FieldData) -> Response:
        entity = await self.store.entity_by_name(f.get("name"))
        if entity is None:
            raise NotFound()
        return Response(data=self._entity(entity))

    async def _entity_delete(self, req: Request, f: FieldData) -> None:
        await self.store.delete_entity(f.get("id"))

    async def _entity_delete_name(self, req: Request, f: FieldData) -> None:
        entity = await self.store.entity_by_name(f.get("name"))
        if entity is not None:
            await self.store.delete_entity(entity.id)

    async def _entity_merge(self, req: Request, f: FieldData) -> None:
        if f.get("force"):
            raise InvalidRequest("'force' is not supported: name the aliases to keep in "
                                 "'conflicting_alias_ids_to_keep'")
        if not f.get("to_entity_id"):
            raise InvalidRequest("'to_entity_id' is missing")
        await self.store.merge_entities(f.get("from_entity_ids"), f.get("to_entity_id"),
                                        f.get("conflicting_alias_ids_to_keep"))

    async def _entity_list_ids(self, req: Request, f: FieldData) -> Response:
        entities = await self.store.entities()
        info = {
            e.id: {"name": e.name, "aliases": [{"id": a.id, "name": a.name, "mount_accessor": a.mount_accessor,
                                                **mount_fields(self.mount_of, a.mount_accessor)}
                                               for a in e.aliases]}
            for e in entities
        }
        return Response.list_of([e.id for e in entities], {"key_info": info} if info else None)

    async def _entity_list_names(self, req: Request, f: FieldData) -> Response:
        return Response.list_of(sorted(e.name for e in await self.store.entities()))

    # -- entity aliases ------------------------------------------------------------------------

    def _alias_changes(self, f: FieldData) -> AliasChanges:
        if f.get("metadata") is not None:
            raise InvalidRequest("'metadata' of an entity alias is set by its auth method; use 'custom_metadata'")
        accessor = f.get("mount_accessor") or None
        if accessor is not None and self.mount_of(accessor) is None:
            raise InvalidRequest("invalid mount accessor " + repr(accessor))
        name = f.get("name")
        return AliasChanges(
            name=checked_name(name, "alias") if name else None,
            mount_accessor=accessor,
            canonical_id=f.get("canonical_id") or f.get("entity_id") or None,
            custom_metadata=f.get("custom_metadata"),
        )

    async def _alias_write(self, req: Request, f: FieldData) -> Response | None:
        alias_id = f.get("id") or None
        alias, created = await self.store.write_alias(alias_id, self._alias_changes(f))
        if not created:
            return None
        return Response(data={"id": alias.id, "canonical_id": alias.canonical_id})

    async def _alias_read(self, req: Request, f: FieldData) -> Response:
        found = await self.store.alias(f.get("id"))
        if found is None:
            raise NotFound()
        return Response(data=alias_data(found[1], self.mount_of, self.store.namespace_id))

    async def _alias_delete(self, req: Request, f: FieldData) -> None:
        await self.store.delete_alias(f.get("id"))

    async def _alias_list(self, req: Request, f: FieldData) -> Response:
        pairs = await self.store.aliases()
        info = {
            a.id: {"canonical_id": a.canonical_id, "name": a.name, "mount_accessor": a.mount_accessor,
                   **mount_fields(self.mount_of, a.mount_accessor), "custom_metadata": dict(a.custom_metadata)}
            for _, a in pairs
        }
        return Response.list_of(sorted(info), {"key_info": info} if info else None)

    # -- groups ------------------------------------------------------------------------------

    def _group(self, group: Group) -> dict[str, Any]:
        return group_data(group, self.store.parent_group_ids(group.id), self.mount_of, self.store.namespace_id)

    def _group_changes(self, f: FieldData) -> GroupChanges:
        kind = f.get("type").strip().lower() or None
        if kind is not None and kind not in GROUP_TYPES:
            raise InvalidRequest("invalid group type: use 'internal' or 'external'")
        name = f.get("name")
        return GroupChanges(
            name=checked_name(name, "group") if name else None,
            type=kind,
            metadata=f.get("metadata"),
            policies=[p.strip() for p in f.get("policies")] if f.get("policies") is not None else None,
            member_entity_ids=f.get("member_entity_ids"),
            member_group_ids=f.get("member_group_ids"),
        )

    async def _group_write(self, req: Request, f: FieldData) -> Response | None:
        group_id = f.get("id") or None
        if group_id is not None and self.store.group(group_id) is None:
            raise InvalidRequest("group not found from id")
        group, _created = await self.store.write_group(group_id, self._group_changes(f))
        return Response(data={"id": group.id, "name": group.name})

    async def _group_write_name(self, req: Request, f: FieldData) -> Response | None:
        changes = self._group_changes(f)
        changes.name = checked_name(f.get("name"), "group")
        group, created = await self.store.write_group(None, changes)
        return Response(data={"id": group.id, "name": group.name}) if created else None

    async def _group_read(self, req: Request, f: FieldData) -> Response:
        group = self.store.group(f.get("id"))
        if group is None:
            raise NotFound()
        return Response(data=self._group(group))

    async def _group_read_name(self, req: Request, f: FieldData) -> Response:
        group = self.store.group_by_name(f.get("name"))
        if group is None:
            raise NotFound()
        return Response(data=self._group(group))

    async def _group_delete(self, req: Request, f: FieldData) -> None:
        await self.store.delete_group(f.get("id"))

    async def _group_delete_name(self, req: Request, f: FieldData) -> None:
        group = self.store.group_by_name(f.get("name"))
        if group is not None:
            await self.store.delete_group(group.id)

    async def _group_list_ids(self, req: Request, f: FieldData) -> Response:
        groups = self.store.groups()
        info = {
            g.id: {"name": g.name, "num_member_entities": len(g.member_entity_ids),
                   "num_parent_groups": len(self.store.parent_group_ids(g.id))}
            for g in groups
        }
        return Response.list_of([g.id for g in groups], {"key_info": info} if info else None)

    async def _group_list_names(self, req: Request, f: FieldData) -> Response:
        return Response.list_of(sorted(g.name for g in self.store.groups()))

    # -- group aliases ----------------------------------------------------------------------------

    async def _group_alias_write(self, req: Request, f: FieldData) -> Response | None:
        changes = self._alias_changes(f)
        alias, created = await self.store.write_group_alias(f.get("id") or None, changes)
        return Response(data={"id": alias.id, "canonical_id": alias.canonical_id}) if created else None

    async def _group_alias_read(self, req: Request, f: FieldData) -> Response:
        group = self.store.group_alias(f.get("id"))
        if group is None or group.alias is None:
            raise NotFound()
        return Response(data=group_alias_data(group.alias, self.mount_of))

    async def _group_alias_delete(self, req: Request, f: FieldData) -> None:
        await self.store.delete_group_alias(f.get("id"))

    async def _group_alias_list(self, req: Request, f: FieldData) -> Response:
        aliases = [g.alias for g in self.store.groups() if g.alias is not None]
        info = {
            a.id: {"canonical_id": a.canonical_id, "name": a.name, "mount_accessor": a.mount_accessor,
                   **mount_fields(self.mount_of, a.mount_accessor)}
            for a in aliases
        }
        return Response.list_of(sorted(info), {"key_info": info} if info else None)

    # -- lookups ----------------------------------------------------------------------------------

    async def _lookup_entity(self, req: Request, f: FieldData) -> Response | None:
        criterion = _one_criterion(f)
        entity: Entity | None
        if criterion == "id":
            entity = await self.store.entity(f.get("id"))
        elif criterion == "name":
            entity = await self.store.entity_by_name(f.get("name"))
        else:
            found = (await self.store.alias(f.get("alias_id")) if criterion == "alias_id"
                     else await self.store.alias_by_name(f.get("alias_mount_accessor"), f.get("alias_name")))
            entity = found[0] if found is not None else None
        return Response(data=self._entity(entity)) if entity is not None else None

    async def _lookup_group(self, req: Request, f: FieldData) -> Response | None:
        criterion = _one_criterion(f)
        group: Group | None
        if criterion == "id":
            group = self.store.group(f.get("id"))
        elif criterion == "name":
            group = self.store.group_by_name(f.get("name"))
        elif criterion == "alias_id":
            group = self.store.group_alias(f.get("alias_id"))
        else:
            group = self.store.group_alias_by_name(f.get("alias_mount_accessor"), f.get("alias_name"))
        return Response(data=self._group(group)) if group is not None else None


def _one_criterion(f: FieldData) -> str:
    """Exactly one way of naming the record: id, name, alias_id, or alias_name with alias_mount_accessor."""
    given = [k for k in ("id", "name", "alias_id") if f.get(k)]
    if f.get("alias_name") or f.get("alias_mount_accessor"):
        if not (f.get("alias_name") and f.get("alias_mount_accessor")):
            raise InvalidRequest("both 'alias_name' and 'alias_mount_accessor' must be set")
        given.append("alias")
    if len(given) != 1:
        raise InvalidRequest("exactly one of 'id', 'name', 'alias_id' or 'alias_name' (with "
                             "'alias_mount_accessor') must be set")
    return given[0]
