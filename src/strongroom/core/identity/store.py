"""The identity store: entities, entity aliases, groups and group aliases over one storage view.

The caller hands in the storage view (the core gives it ``sys/identity/`` inside the
barrier), so one store per namespace is one store per view. Layout: :mod:`.keys`.

Consistency across worker processes:

* Every change is one :class:`~.txn.Txn`: the records and index entries it read are
  preconditions of its commit, and it runs again on a conflict. Uniqueness (entity
  and group names, one alias per mount accessor and name) therefore holds when two
  workers log the same principal in at the same moment: one creates the entity, the
  other re-reads and finds it.
* Entities are read on every request of a token that has one, through a per-process
  :class:`RevisionCache` emptied whenever the storage revision moved (a commit by any
  process), so an entity disabled or given new policies through one worker is in force
  on every worker's next request.
* Groups are few and change through the API only; every process keeps them in
  memory, reloaded when the core's storage generation moves (:meth:`load`). A group
  change calls ``on_change`` (the core bumps the generation), as a policy change does.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strongroom.core.identity import keys
from strongroom.core.identity.model import (
    EXTERNAL,
    GROUP_TYPES,
    INTERNAL,
    Entity,
    EntityAlias,
    Group,
    GroupAlias,
    entity_from_json,
    group_from_json,
    to_json,
)
from strongroom.core.identity.txn import Txn
from strongroom.core.policy.templates import AliasFacts, GroupFacts, TemplateIdentity
from strongroom.core.read_cache import RevisionCache
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.storage import StorageBackend, retry_on_conflict
from strongroom.sdk.system import Clock, RandomBytes

log = logging.getLogger("strongroom.identity")

T = TypeVar("T")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: Bound of the per-process map from a stored entity's bytes to its resolved identity.
RESOLVED_MAX = 4096
MAX_NAME_CHARS = 512


def valid_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


def checked_name(name: str, what: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidRequest(f"{what} name is missing")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"{what} name is longer than {MAX_NAME_CHARS} characters")
    return name


def _pairs(mapping: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items()))


@dataclass(frozen=True, slots=True)
class Resolved:
    """A token's identity at request time: its identity policies and what templates read."""

    entity_id: str
    disabled: bool
    policies: tuple[str, ...]
    template: TemplateIdentity
    direct_group_ids: tuple[str, ...]
    inherited_group_ids: tuple[str, ...]


@dataclass
class EntityChanges:
    """Fields of an entity write; None leaves a field as it is."""

    name: str | None = None
    metadata: dict[str, str] | None = None
    policies: list[str] | None = None
    disabled: bool | None = None


@dataclass
class GroupChanges:
    name: str | None = None
    type: str | None = None
    metadata: dict[str, str] | None = None
    policies: list[str] | None = None
    member_entity_ids: list[str] | None = None
    member_group_ids: list[str] | None = None


@dataclass
class AliasChanges:
    name: str | None = None
    mount_accessor: str | None = None
    canonical_id: str | None = None
    metadata: dict[str, str] | None = None
    custom_metadata: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class IdentityStore:
    def __init__(self, storage: StorageBackend, *, clock: Clock, random_bytes: RandomBytes) -> None:
        self._storage = storage
        self._reads = RevisionCache(storage)
        self._clock = clock
        self._random_bytes = random_bytes
        #: Called after a group change (the core bumps its storage generation).
        self.on_change: Callable[[], Awaitable[None]] | None = None
        #: The id of the namespace this store serves, as answers name it (Vault's ``namespace_id``).
        self.namespace_id = "root"
        self._groups: dict[str, Group] = {}
        self._parents: dict[str, list[str]] = {}
        self._group_aliases: dict[tuple[str, str], str] = {}
        self._resolved: dict[bytes, Resolved] = {}
        self._revision: int | None = None

    # -- lifecycle (a BarrierState) -------------------------------------------------

    async def load(self) -> None:
        groups: dict[str, Group] = {}
        for group_id in await self._storage.list(keys.GROUP):
            raw = await self._storage.get(keys.group(group_id))
            if raw is not None:
                groups[group_id] = group_from_json(_decode(raw))
        self._set_groups(groups)
        self._reads.invalidate()

    async def unload(self) -> None:
        self._set_groups({})
        self._reads.invalidate()

    def invalidate_reads(self) -> None:
        """Storage changed somewhere: cached entity reads may be stale."""
        self._reads.invalidate()
        self._revision = None

    def _current_reads(self) -> RevisionCache:
        """The read cache, emptied first if any process wrote to storage since it was filled."""
        # Revision first, then the reads it guards: a write landing in between moves the
        # revision again, so the next call empties the cache once more.
        revision = self._storage.revision()
        if revision is None or revision != self._revision:
            self._reads.invalidate()
            self._revision = revision
        return self._reads

    def _set_groups(self, groups: dict[str, Group]) -> None:
        parents: dict[str, list[str]] = {}
        aliases: dict[tuple[str, str], str] = {}
        for group in groups.values():
            for member in group.member_group_ids:
                parents.setdefault(member, []).append(group.id)
            if group.alias is not None:
                aliases[(group.alias.mount_accessor, group.alias.name.lower())] = group.id
        self._groups, self._parents, self._group_aliases = groups, parents, aliases
        self._resolved.clear()

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        return await retry_on_conflict(attempt, random_bytes=self._random_bytes)

    def _new_id(self) -> str:
        return str(uuid.UUID(bytes=self._random_bytes(16), version=4))

    async def _groups_changed(self) -> None:
        if self.on_change is not None:
            await self.on_change()
        else:
            await self.load()

    # -- entities ------------------------------------------------------------------------

    async def entity(self, entity_id: str) -> Entity | None:
        if not valid_id(entity_id):
            return None
        raw = await self._current_reads().get(keys.entity(entity_id))
        return None if raw is None else entity_from_json(_decode(raw))

    async def entity_by_name(self, name: str) -> Entity | None:
        entity_id = await self._current_reads().get(keys.entity_name(name))
        return None if entity_id is None else await self.entity(str(_decode(entity_id)))

    async def entities(self) -> list[Entity]:
        found = [await self.entity(entity_id) for entity_id in await self._storage.list(keys.ENTITY)]
        return sorted((e for e in found if e is not None), key=lambda e: e.id)

    async def write_entity(self, entity_id: str | None, changes: EntityChanges) -> tuple[Entity, bool]:
        """Create or update an entity (by id, else by name). Answers it and whether it was created."""

        async def attempt() -> tuple[Entity, bool]:
            txn = Txn(self._reads)
            entity = await _find(txn, entity_id, name=changes.name, name_key=keys.entity_name,
                                read=_read_entity, what="entity")
            now = self._clock()
            created = entity is None
            if entity is None:
                entity = self._fresh_entity(now)
                entity.name = changes.name or entity.name
                await _claim(txn, keys.entity_name(entity.name), entity.id, "entity name is already in use")
            else:
                await _rename(txn, keys.entity_name, entity.name, changes.name, record_id=entity.id, what="entity")
            if changes.name is not None:
                entity.name = changes.name
            if changes.metadata is not None:
                entity.metadata = dict(changes.metadata)
            if changes.policies is not None:
                entity.policies = list(dict.fromkeys(changes.policies))
            if changes.disabled is not None:
                entity.disabled = changes.disabled
            entity.last_update_time = now
            await txn.put(keys.entity(entity.id), to_json(entity))
            await txn.commit()
            return entity, created

        return await self._retrying(attempt)

    async def delete_entity(self, entity_id: str) -> None:
        """Delete an entity, its aliases and its group memberships (missing: not an error)."""

        async def attempt() -> None:
            txn = Txn(self._reads)
            entity = await _read_entity(txn, entity_id)
            if entity is None:
                return
            await txn.delete(keys.entity(entity.id))
            await txn.delete(keys.entity_name(entity.name))
            for alias in entity.aliases:
                await txn.delete(keys.alias(alias.mount_accessor, alias.name))
                await txn.delete(keys.alias_id(alias.id))
            await txn.commit()

        await self._retrying(attempt)
        await self._remove_member(entity_id)

    async def _remove_member(self, entity_id: str) -> None:
        await self._replace_member({entity_id}, None)

    async def _replace_member(self, old_ids: set[str], new_id: str | None) -> None:
        """Groups naming any of ``old_ids`` as a member name ``new_id`` instead (or nothing)."""
        holding = [g.id for g in self._groups.values() if old_ids & set(g.member_entity_ids)]
        for group_id in holding:

            async def attempt(group_id: str = group_id) -> None:
                txn = Txn(self._reads)
                group = await _read_group(txn, group_id)
                if group is None or not old_ids & set(group.member_entity_ids):
                    return
                members = [new_id if m in old_ids else m for m in group.member_entity_ids]
                group.member_entity_ids = list(dict.fromkeys(m for m in members if m is not None))
                await txn.put(keys.group(group.id), to_json(group))
                await txn.commit()

            await self._retrying(attempt)
        if holding:
            await self._groups_changed()

    async def merge_entities(self, from_ids: list[str], to_id: str, keep_alias_ids: list[str]) -> None:
        """Move the aliases (and group memberships) of ``from_ids`` onto ``to_id``, then delete them.

        Two aliases on one mount cannot share an entity: such a conflict is refused unless
        ``keep_alias_ids`` names which of the two survives (the other is deleted). Policies
        and metadata of the merged entities are not carried over (set them on the target).
        """
        if not from_ids:
            raise InvalidRequest("'from_entity_ids' is missing")
        if to_id in from_ids:
            raise InvalidRequest("to_entity_id should not be present in from_entity_ids")

        async def attempt() -> None:
            txn = Txn(self._reads)
            target = await _read_entity(txn, to_id)
            if target is None:
                raise InvalidRequest("entity id to merge to is invalid")
            now = self._clock()
            for from_id in dict.fromkeys(from_ids):
                source = await _read_entity(txn, from_id)
                if source is None:
                    raise InvalidRequest(f"entity id to merge from is invalid: {from_id!r}")
                for alias in source.aliases:
                    clash = target.alias_on_mount(alias.mount_accessor)
                    if clash is not None and alias.id in keep_alias_ids:
                        target.aliases.remove(clash)
                        await _drop_alias_keys(txn, clash)
                    elif clash is not None and clash.id in keep_alias_ids:
                        await _drop_alias_keys(txn, alias)
                        continue
                    elif clash is not None:
                        raise InvalidRequest("conflicting mount accessors in following alias IDs: "
                                             f"{clash.id}, {alias.id}; name the one to keep in "
                                             "'conflicting_alias_ids_to_keep'")
                    alias.canonical_id = target.id
                    alias.merged_from_canonical_ids.append(source.id)
                    alias.last_update_time = now
                    target.aliases.append(alias)
                    await txn.put(keys.alias(alias.mount_accessor, alias.name),
                                  {"id": alias.id, "entity_id": target.id})
                    await txn.put(keys.alias_id(alias.id), target.id)
                for accessor, group_ids in source.external_group_ids.items():
                    target.external_group_ids.setdefault(accessor, group_ids)
                target.merged_entity_ids.extend([source.id, *source.merged_entity_ids])
                await txn.delete(keys.entity(source.id))
                await txn.delete(keys.entity_name(source.name))
            target.last_update_time = now
            await txn.put(keys.entity(target.id), to_json(target))
            await txn.commit()

        await self._retrying(attempt)
        await self._replace_member(set(from_ids), to_id)

    # -- entity aliases --------------------------------------------------------------------

    async def alias(self, alias_id: str) -> tuple[Entity, EntityAlias] | None:
        if not valid_id(alias_id):
            return None
        entity_id = await self._current_reads().get(keys.alias_id(alias_id))
        entity = None if entity_id is None else await self.entity(str(_decode(entity_id)))
        found = None if entity is None else entity.alias(alias_id)
        return None if entity is None or found is None else (entity, found)

    async def alias_by_name(self, mount_accessor: str, name: str) -> tuple[Entity, EntityAlias] | None:
        raw = await self._current_reads().get(keys.alias(mount_accessor, name))
        return None if raw is None else await self.alias(str(_decode(raw)["id"]))

    async def aliases(self) -> list[tuple[Entity, EntityAlias]]:
        return [(e, a) for e in await self.entities() for a in e.aliases]

    async def write_alias(self, alias_id: str | None, changes: AliasChanges) -> tuple[EntityAlias, bool]:
        """Create or update an entity alias; creating without ``canonical_id`` creates its entity too."""

        async def attempt() -> tuple[EntityAlias, bool]:
            txn = Txn(self._reads)
            now = self._clock()
            old_entity: Entity | None = None
            alias: EntityAlias | None = None
            if alias_id is not None:
                owner = await txn.read(keys.alias_id(alias_id)) if valid_id(alias_id) else None
                old_entity = None if owner is None else await _read_entity(txn, str(owner))
                alias = None if old_entity is None else old_entity.alias(alias_id)
                if old_entity is None or alias is None:
                    raise InvalidRequest("invalid alias ID provided")
            created = alias is None
            name = changes.name if changes.name is not None else (alias.name if alias else "")
            accessor = changes.mount_accessor if changes.mount_accessor is not None else (
                alias.mount_accessor if alias else "")
            if not name or not accessor:
                raise InvalidRequest("'name' and 'mount_accessor' are required")
            target_id = changes.canonical_id or (old_entity.id if old_entity else "")
            target = await _read_entity(txn, target_id) if target_id else None
            if target_id and target is None:
                raise InvalidRequest("invalid entity ID provided as 'canonical_id'")
            if alias is None:
                alias = EntityAlias(id=self._new_id(), canonical_id="", mount_accessor=accessor, name=name,
                                    creation_time=now)
            new_key = keys.alias(accessor, name)
            old_key = keys.alias(alias.mount_accessor, alias.name) if not created else None
            if new_key != old_key and await txn.read(new_key) is not None:
                raise InvalidRequest("combination of mount and alias name is already in use")
            if target is None:
                target = self._fresh_entity(now)
                await txn.put(keys.entity_name(target.name), target.id)
            same_mount = target.alias_on_mount(accessor)
            if same_mount is not None and same_mount.id != alias.id:
                raise InvalidRequest(
                    f"alias {same_mount.id!r} on entity {target.id!r} already uses mount accessor {accessor!r}")
            if old_entity is not None and old_entity.id != target.id:
                old_entity.aliases = [a for a in old_entity.aliases if a.id != alias.id]
                old_entity.last_update_time = now
                await txn.put(keys.entity(old_entity.id), to_json(old_entity))
            if old_key is not None and old_key != new_key:
                await txn.delete(old_key)
            alias.name, alias.mount_accessor, alias.canonical_id = name, accessor, target.id
            if changes.metadata is not None:
                alias.metadata = dict(changes.metadata)
            if changes.custom_metadata is not None:
                alias.custom_metadata = dict(changes.custom_metadata)
            alias.last_update_time = now
            target.aliases = [a for a in target.aliases if a.id != alias.id] + [alias]
            target.last_update_time = now
            await txn.put(keys.entity(target.id), to_json(target))
            await txn.put(new_key, {"id": alias.id, "entity_id": target.id})
            await txn.put(keys.alias_id(alias.id), target.id)
            await txn.commit()
            return alias, created

        return await self._retrying(attempt)

    async def delete_alias(self, alias_id: str) -> None:
        async def attempt() -> None:
            txn = Txn(self._reads)
            owner = await txn.read(keys.alias_id(alias_id)) if valid_id(alias_id) else None
            entity = None if owner is None else await _read_entity(txn, str(owner))
            alias = None if entity is None else entity.alias(alias_id)
            if entity is None or alias is None:
                return
            entity.aliases = [a for a in entity.aliases if a.id != alias_id]
            entity.external_group_ids.pop(alias.mount_accessor, None)
            entity.last_update_time = self._clock()
            await txn.put(keys.entity(entity.id), to_json(entity))
            await txn.delete(keys.alias(alias.mount_accessor, alias.name))
            await txn.delete(keys.alias_id(alias_id))
            await txn.commit()

        await self._retrying(attempt)

    def _fresh_entity(self, now: float) -> Entity:
        new_id = self._new_id()
        return Entity(id=new_id, name="entity_" + new_id[:8], creation_time=now, last_update_time=now)

    # -- logins ------------------------------------------------------------------------------

    async def login(
        self, mount_accessor: str, alias_name: str, metadata: dict[str, str], groups: Iterable[str] | None
    ) -> Entity:
        """The entity of a login's alias, created with its alias on the principal's first login.

        The alias metadata follows the auth method's latest answer, and ``groups`` (external
        group names, e.g. a JWT groups claim; None when the method has none) decide which
        external groups, through their group aliases on this mount, the entity is in.
        """
        external = None if groups is None else self._external_groups(mount_accessor, groups)

        async def attempt() -> Entity:
            txn = Txn(self._reads)
            now = self._clock()
            key = keys.alias(mount_accessor, alias_name)
            pointer = await txn.read(key)
            entity = None if pointer is None else await _read_entity(txn, str(pointer["entity_id"]))
            alias = None if entity is None or pointer is None else entity.alias(str(pointer["id"]))
            changed = False
            if entity is None or alias is None:
                entity = self._fresh_entity(now)
                alias = EntityAlias(id=self._new_id(), canonical_id=entity.id, mount_accessor=mount_accessor,
                                    name=alias_name, metadata=dict(metadata), creation_time=now,
                                    last_update_time=now)
                entity.aliases.append(alias)
                await txn.put(keys.entity_name(entity.name), entity.id)
                await txn.put(key, {"id": alias.id, "entity_id": entity.id})
                await txn.put(keys.alias_id(alias.id), entity.id)
                changed = True
            elif alias.metadata != metadata:
                alias.metadata = dict(metadata)
                alias.last_update_time = now
                changed = True
            if external is not None and entity.external_group_ids.get(mount_accessor, []) != external:
                if external:
                    entity.external_group_ids[mount_accessor] = external
                else:
                    entity.external_group_ids.pop(mount_accessor, None)
                changed = True
            if changed:
                await txn.put(keys.entity(entity.id), to_json(entity))
                await txn.commit()
            return entity

        return await self._retrying(attempt)

    def _external_groups(self, mount_accessor: str, names: Iterable[str]) -> list[str]:
        found = {self._group_aliases.get((mount_accessor, str(name).lower())) for name in names}
        return sorted(g for g in found if g is not None and self._groups[g].type == EXTERNAL)

    # -- request-time identity -----------------------------------------------------------------

    async def resolve(self, entity_id: str) -> Resolved | None:
        """The identity of a token's entity now (None when the entity no longer exists)."""
        if not valid_id(entity_id):
            return None
        raw = await self._current_reads().get(keys.entity(entity_id))
        if raw is None:
            return None
        resolved = self._resolved.get(raw)
        if resolved is None:
            resolved = self._resolve(entity_from_json(_decode(raw)))
            if len(self._resolved) >= RESOLVED_MAX:
                self._resolved.clear()
            self._resolved[raw] = resolved
        return resolved

    def memberships(self, entity: Entity) -> tuple[list[str], list[str]]:
        """(direct group ids, inherited group ids) of an entity, from the groups in memory."""
        direct = {g.id for g in self._groups.values() if g.type == INTERNAL and entity.id in g.member_entity_ids}
        for group_ids in entity.external_group_ids.values():
            direct.update(g for g in group_ids if g in self._groups and self._groups[g].type == EXTERNAL)
        seen = set(direct)
        queue = list(direct)
        while queue:
            for parent in self._parents.get(queue.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        return sorted(direct), sorted(seen - direct)

    def _resolve(self, entity: Entity) -> Resolved:
        direct, inherited = self.memberships(entity)
        groups = [self._groups[g] for g in [*direct, *inherited]]
        policies = dict.fromkeys(entity.policies)
        for group in groups:
            policies.update(dict.fromkeys(group.policies))
        template = TemplateIdentity(
            entity_id=entity.id,
            entity_name=entity.name,
            metadata=_pairs(entity.metadata),
            aliases=tuple(
                AliasFacts(a.mount_accessor, a.id, a.name, _pairs(a.metadata), _pairs(a.custom_metadata))
                for a in entity.aliases
            ),
            groups=tuple(GroupFacts(g.id, g.name, _pairs(g.metadata)) for g in groups),
        )
        return Resolved(entity.id, entity.disabled, tuple(policies), template, tuple(direct), tuple(inherited))

    # -- groups ------------------------------------------------------------------------------

    def group(self, group_id: str) -> Group | None:
        return self._groups.get(group_id)

    def group_by_name(self, name: str) -> Group | None:
        return next((g for g in self._groups.values() if g.name.lower() == name.lower()), None)

    def groups(self) -> list[Group]:
        return sorted(self._groups.values(), key=lambda g: g.id)

    def parent_group_ids(self, group_id: str) -> list[str]:
        return sorted(self._parents.get(group_id, []))

    def group_alias(self, alias_id: str) -> Group | None:
        return next((g for g in self._groups.values() if g.alias is not None and g.alias.id == alias_id), None)

    def group_alias_by_name(self, mount_accessor: str, name: str) -> Group | None:
        group_id = self._group_aliases.get((mount_accessor, name.lower()))
        return None if group_id is None else self._groups.get(group_id)

    async def write_group(self, group_id: str | None, changes: GroupChanges) -> tuple[Group, bool]:
        async def attempt() -> tuple[Group, bool]:
            txn = Txn(self._reads)
            group = await _find(txn, group_id, name=changes.name, name_key=keys.group_name,
                               read=_read_group, what="group")
            now = self._clock()
            created = group is None
            if group is None:
                new_id = self._new_id()
                group = Group(id=new_id, name=changes.name or "group_" + new_id[:8], type=changes.type or INTERNAL,
                              creation_time=now)
                await _claim(txn, keys.group_name(group.name), group.id, "group name is already in use")
            elif changes.type is not None and changes.type != group.type:
                raise InvalidRequest("group type cannot be changed")
            else:
                await _rename(txn, keys.group_name, group.name, changes.name, record_id=group.id, what="group")
            if group.type not in GROUP_TYPES:
                raise InvalidRequest("invalid group type: use 'internal' or 'external'")
            if changes.name is not None:
                group.name = changes.name
            if changes.metadata is not None:
                group.metadata = dict(changes.metadata)
            if changes.policies is not None:
                group.policies = list(dict.fromkeys(changes.policies))
            if changes.member_entity_ids is not None:
                if group.type == EXTERNAL and changes.member_entity_ids:
                    raise InvalidRequest("member entities can't be set manually for external groups")
                for member in changes.member_entity_ids:
                    if await _read_entity(txn, member) is None:
                        raise InvalidRequest(f"entity {member!r} does not exist")
                group.member_entity_ids = list(dict.fromkeys(changes.member_entity_ids))
            if changes.member_group_ids is not None:
                if group.type == EXTERNAL and changes.member_group_ids:
                    raise InvalidRequest("member groups can't be set for external groups")
                for member in changes.member_group_ids:
                    if member == group.id or await _read_group(txn, member) is None:
                        raise InvalidRequest(f"group {member!r} does not exist or is the group itself")
                self._refuse_cycle(group.id, changes.member_group_ids)
                group.member_group_ids = list(dict.fromkeys(changes.member_group_ids))
            group.last_update_time = now
            group.modify_index += 1
            await txn.put(keys.group(group.id), to_json(group))
            await txn.commit()
            return group, created

        result = await self._retrying(attempt)
        await self._groups_changed()
        return result

    def _refuse_cycle(self, group_id: str, members: list[str]) -> None:
        """A member group that (transitively) has this group among its members would make a cycle."""
        seen: set[str] = set()
        queue = list(members)
        while queue:
            current = queue.pop()
            if current == group_id:
                raise InvalidRequest("cyclic relationship detected: a member group contains this group")
            if current in seen:
                continue
            seen.add(current)
            found = self._groups.get(current)
            if found is not None:
                queue.extend(found.member_group_ids)

    async def delete_group(self, group_id: str) -> None:
        async def attempt() -> bool:
            txn = Txn(self._reads)
            group = await _read_group(txn, group_id)
            if group is None:
                return False
            await txn.delete(keys.group(group.id))
            await txn.delete(keys.group_name(group.name))
            if group.alias is not None:
                await txn.delete(keys.group_alias(group.alias.mount_accessor, group.alias.name))
                await txn.delete(keys.group_alias_id(group.alias.id))
            for parent_id in self._parents.get(group.id, []):
                parent = await _read_group(txn, parent_id)
                if parent is not None:
                    parent.member_group_ids = [m for m in parent.member_group_ids if m != group.id]
                    await txn.put(keys.group(parent.id), to_json(parent))
            await txn.commit()
            return True

        if await self._retrying(attempt):
            await self._groups_changed()

    # -- group aliases --------------------------------------------------------------------------

    async def write_group_alias(self, alias_id: str | None, changes: AliasChanges) -> tuple[GroupAlias, bool]:
        async def attempt() -> tuple[GroupAlias, bool]:
            txn = Txn(self._reads)
            now = self._clock()
            old_group: Group | None = None
            if alias_id is not None:
                owner = await txn.read(keys.group_alias_id(alias_id)) if valid_id(alias_id) else None
                old_group = None if owner is None else await _read_group(txn, str(owner))
                if old_group is None or old_group.alias is None or old_group.alias.id != alias_id:
                    raise InvalidRequest("invalid group alias ID provided")
            alias = old_group.alias if old_group is not None else None
            name = changes.name if changes.name is not None else (alias.name if alias else "")
            accessor = changes.mount_accessor if changes.mount_accessor is not None else (
                alias.mount_accessor if alias else "")
            if not name or not accessor:
                raise InvalidRequest("'name' and 'mount_accessor' are required")
            target_id = changes.canonical_id or (old_group.id if old_group else "")
            target = await _read_group(txn, target_id) if target_id else None
            if target is None:
                raise InvalidRequest("invalid group ID provided as 'canonical_id'")
            if target.type != EXTERNAL:
                raise InvalidRequest("group alias can't be created for an internal group")
            if target.alias is not None and (alias is None or target.alias.id != alias.id):
                raise InvalidRequest(f"group {target.id!r} already has an alias")
            new_key = keys.group_alias(accessor, name)
            old_key = keys.group_alias(alias.mount_accessor, alias.name) if alias else None
            if new_key != old_key and await txn.read(new_key) is not None:
                raise InvalidRequest("combination of mount and group alias name is already in use")
            created = alias is None
            if alias is None:
                alias = GroupAlias(id=self._new_id(), canonical_id=target.id, mount_accessor=accessor, name=name,
                                   creation_time=now)
            if old_group is not None and old_group.id != target.id:
                old_group.alias = None
                await txn.put(keys.group(old_group.id), to_json(old_group))
            if old_key is not None and old_key != new_key:
                await txn.delete(old_key)
            alias.name, alias.mount_accessor, alias.canonical_id = name, accessor, target.id
            alias.last_update_time = now
            target.alias = alias
            await txn.put(keys.group(target.id), to_json(target))
            await txn.put(new_key, target.id)
            await txn.put(keys.group_alias_id(alias.id), target.id)
            await txn.commit()
            return alias, created

        result = await self._retrying(attempt)
        await self._groups_changed()
        return result

    async def delete_group_alias(self, alias_id: str) -> None:
        async def attempt() -> bool:
            txn = Txn(self._reads)
            owner = await txn.read(keys.group_alias_id(alias_id)) if valid_id(alias_id) else None
            group = None if owner is None else await _read_group(txn, str(owner))
            if group is None or group.alias is None or group.alias.id != alias_id:
                return False
            await txn.delete(keys.group_alias(group.alias.mount_accessor, group.alias.name))
            await txn.delete(keys.group_alias_id(alias_id))
            group.alias = None
            await txn.put(keys.group(group.id), to_json(group))
            await txn.commit()
            return True

        if await self._retrying(attempt):
            await self._groups_changed()


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise InternalError("a stored identity record is unreadable") from None


async def _read_entity(txn: Txn, entity_id: str) -> Entity | None:
    if not valid_id(entity_id):
        return None
    body = await txn.read(keys.entity(entity_id))
    return None if body is None else entity_from_json(body)


async def _read_group(txn: Txn, group_id: str) -> Group | None:
    if not valid_id(group_id):
        return None
    body = await txn.read(keys.group(group_id))
    return None if body is None else group_from_json(body)


async def _drop_alias_keys(txn: Txn, alias: EntityAlias) -> None:
    await txn.delete(keys.alias(alias.mount_accessor, alias.name))
    await txn.delete(keys.alias_id(alias.id))


R = TypeVar("R")


async def _find(
    txn: Txn,
    record_id: str | None,
    *,
    name: str | None,
    name_key: Callable[[str], str],
    read: Callable[[Txn, str], Awaitable[R | None]],
    what: str,
) -> R | None:
    """The record a write names: by id (which must exist), else by name (None: a new one)."""
    if record_id is not None:
        found = await read(txn, record_id)
        if found is None:
            raise InvalidRequest(f"{what} not found from id")
        return found
    pointer = None if name is None else await txn.read(name_key(name))
    return None if pointer is None else await read(txn, str(pointer))


async def _rename(
    txn: Txn, name_key: Callable[[str], str], old: str, new: str | None, *, record_id: str, what: str
) -> None:
    """Move a record's name index entry when its name changes (other than in case)."""
    if new is None or new.lower() == old.lower():
        return
    await txn.delete(name_key(old))
    await _claim(txn, name_key(new), record_id, f"{what} name is already in use")


async def _claim(txn: Txn, key: str, record_id: str, in_use: str) -> None:
    """Point a name index entry at a record; the name must be free (held by the commit's precondition)."""
    holder = await txn.read(key)
    if holder is not None and holder != record_id:
        raise InvalidRequest(in_use)
    await txn.put(key, record_id)
