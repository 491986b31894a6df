"""Named ACL policies in storage, with a small per-process cache of parsed policies.

Layout inside the storage view handed in (the core gives it a barrier view
such as ``sys/policy/``): ``acl/<name>`` holds JSON ``{"name", "policy"}``
with the policy text exactly as submitted. Names are canonical
(:func:`normalize_policy_name`), so every spelling of a name reaches one key.

``root`` is never stored: :meth:`PolicyStore.get` answers it with
:data:`ROOT_POLICY`, and it cannot be written or deleted. ``default`` is
written by :meth:`PolicyStore.ensure_default` (call it after unseal); until
then reads fall back to the built-in text. It cannot be deleted.

Cache contract: parsed policies are cached per process. Writes through this
store update the cache before they return. Changes made by *another* process
are seen only after :meth:`PolicyStore.invalidate`; the core calls it when its
shared generation counter moves. :attr:`PolicyStore.generation` increases on
every write, delete and invalidation, so callers can key derived caches
(such as built ACLs) on it.
"""

from __future__ import annotations

import json

from strongroom.core.policy.default import DEFAULT_POLICY_TEXT
from strongroom.core.policy.model import ROOT_POLICY, Policy
from strongroom.core.policy.names import (
    DEFAULT_POLICY_NAME,
    ROOT_POLICY_NAME,
    deletable_policy_name,
    normalize_policy_name,
    writable_policy_name,
)
from strongroom.core.policy.parser import parse_policy
from strongroom.errors import InternalError
from strongroom.sdk.storage import StorageBackend

_PREFIX = "acl/"

#: Cached "no such policy" (distinct from "not cached").
_ABSENT = object()


class PolicyStore:
    """get / put / delete / list of ACL policies over a storage view."""

    def __init__(self, storage: StorageBackend) -> None:
        self._storage = storage
        self._cache: dict[str, Policy | object] = {}
        self._generation = 0
        self._default = parse_policy(DEFAULT_POLICY_NAME, DEFAULT_POLICY_TEXT)

    @property
    def generation(self) -> int:
        """A counter that moves whenever this store's view of policies may have changed."""
        return self._generation

    def invalidate(self) -> None:
        """Forget every cached policy (another process may have changed them)."""
        self._cache.clear()
        self._generation += 1

    async def get(self, name: str) -> Policy | None:
        """The parsed policy, or None. ``root`` answers :data:`ROOT_POLICY`.

        Raises :class:`InvalidRequest` for an invalid name and
        :class:`InternalError` when a stored entry cannot be read back.
        """
        canonical = normalize_policy_name(name)
        if canonical == ROOT_POLICY_NAME:
            return ROOT_POLICY
        cached = self._cache.get(canonical)
        if isinstance(cached, Policy):
            return cached
        if cached is _ABSENT:
            return None
        # A write may complete while we wait on storage; only cache what we
        # read if nothing changed in between, or we could cache a stale value.
        generation = self._generation
        text = await self._read(canonical)
        policy: Policy | None
        if text is not None:
            policy = self._reparse(canonical, text)
        elif canonical == DEFAULT_POLICY_NAME:
            policy = self._default
        else:
            policy = None
        if generation == self._generation:
            self._cache[canonical] = policy if policy is not None else _ABSENT
        return policy

    async def read_text(self, name: str) -> str | None:
        """The policy text as submitted (``""`` for root), or None when there is no such policy."""
        policy = await self.get(name)
        return None if policy is None else policy.raw

    async def put(self, name: str, text: str) -> Policy:
        """Create or replace a policy. The text is parsed first: invalid text stores nothing.

        Raises :class:`InvalidRequest` for the root policy (any spelling), an
        invalid name, or invalid text.
        """
        canonical = writable_policy_name(name)
        policy = parse_policy(canonical, text)
        entry = json.dumps({"name": canonical, "policy": text}).encode()
        await self._storage.put(_PREFIX + canonical, entry)
        self._cache[canonical] = policy
        self._generation += 1
        return policy

    async def delete(self, name: str) -> None:
        """Delete a policy; deleting a missing one is not an error. Refuses root and default."""
        canonical = deletable_policy_name(name)
        await self._storage.delete(_PREFIX + canonical)
        self._cache[canonical] = _ABSENT
        self._generation += 1

    async def list(self) -> list[str]:
        """Sorted policy names, always including ``default`` and ``root`` (as Vault lists them)."""
        stored = [key for key in await self._storage.list(_PREFIX) if not key.endswith("/")]
        return sorted({*stored, DEFAULT_POLICY_NAME, ROOT_POLICY_NAME})

    async def ensure_default(self) -> None:
        """Write the built-in default policy unless one is stored already (operator edits survive)."""
        if await self._storage.get(_PREFIX + DEFAULT_POLICY_NAME) is None:
            await self.put(DEFAULT_POLICY_NAME, DEFAULT_POLICY_TEXT)

    async def _read(self, canonical: str) -> str | None:
        raw = await self._storage.get(_PREFIX + canonical)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            text = entry["policy"]
        except (ValueError, TypeError, KeyError):
            raise InternalError("a stored policy entry is unreadable") from None
        if not isinstance(text, str):
            raise InternalError("a stored policy entry is unreadable")
        return text

    def _reparse(self, canonical: str, text: str) -> Policy:
        try:
            return parse_policy(canonical, text)
        except Exception:
            # It parsed when it was written; failing now means storage or
            # parser drift. Fail closed without echoing the text.
            raise InternalError("a stored policy no longer parses") from None
