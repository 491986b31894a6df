"""Named password policies in the barrier, with a per-process cache of built samplers.

Layout inside the storage view handed in (the core gives it ``sys/password_policy/``):
``<name>`` holds JSON ``{"policy": text}`` with the text exactly as submitted.

Write contract: :meth:`PasswordPolicyStore.put` parses the text and builds its
sampler first, so an invalid, unsatisfiable or too complex policy stores nothing.

Cache contract (as for ACL policies): built samplers are cached per process; writes
through this store update the cache before they return; changes made by another
process are seen after :meth:`load`, which the core calls whenever its shared
storage generation moves (the sys endpoints bump it on every write and delete).
Absent names are not cached, so a probe for many names cannot grow the cache.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass

from strongroom.core.password_policies.generator import PasswordSampler
from strongroom.core.password_policies.model import DEFAULT_POLICY, parse_password_policy
from strongroom.errors import InternalError, InvalidRequest, NotFound
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import RandomBytes

#: Names are path segments: no '/', so ``:name/generate`` is never ambiguous.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def checked_name(name: str) -> str:
    """``name`` unchanged when valid; :class:`InvalidRequest` otherwise."""
    if not NAME.fullmatch(name):
        raise InvalidRequest(
            "password policy names are 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, slots=True)
class StoredPasswordPolicy:
    """A stored policy: its text as submitted and the sampler built from it."""

    name: str
    text: str
    sampler: PasswordSampler


class PasswordPolicyStore:
    """get / put / delete / list of password policies, and generation from them."""

    def __init__(self, storage: StorageBackend, *, random_bytes: RandomBytes) -> None:
        self._storage = storage
        self._random_bytes = random_bytes
        self._cache: dict[str, StoredPasswordPolicy] = {}
        self._generation = 0
        self._default = PasswordSampler(DEFAULT_POLICY)

    # -- BarrierState: the core calls these on unseal, on every generation change and on seal.

    async def load(self) -> None:
        """Forget cached policies: another process may have changed them."""
        self._cache.clear()
        self._generation += 1

    async def unload(self) -> None:
        self._cache.clear()
        self._generation += 1

    # -- policies

    async def get(self, name: str) -> StoredPasswordPolicy | None:
        """The stored policy, or None. :class:`InvalidRequest` for an invalid name."""
        name = checked_name(name)
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        # A write may land while we wait on storage: cache only if nothing moved.
        generation = self._generation
        raw = await self._storage.get(name)
        if raw is None:
            return None
        stored = await self._decode(name, raw)
        if generation == self._generation:
            self._cache[name] = stored
        return stored

    async def put(self, name: str, text: str) -> StoredPasswordPolicy:
        """Create or replace a policy; invalid or unsatisfiable text raises :class:`InvalidRequest`, storing nothing."""
        name = checked_name(name)
        stored = StoredPasswordPolicy(name, text, await _build(text))
        await self._storage.put(name, json.dumps({"policy": text}).encode())
        self._cache[name] = stored
        self._generation += 1
        return stored

    async def delete(self, name: str) -> None:
        """Delete a policy; deleting a missing one is not an error (as in Vault)."""
        name = checked_name(name)
        await self._storage.delete(name)
        self._cache.pop(name, None)
        self._generation += 1

    async def list(self) -> list[str]:
        """Sorted names of the stored policies."""
        return sorted(key for key in await self._storage.list("") if not key.endswith("/"))

    async def generate(self, policy_name: str = "") -> str:
        """A password from the named policy, or from Vault's default policy for ``""``.

        Implements :class:`strongroom.sdk.passwords.PasswordGenerator`. Raises
        :class:`NotFound` for a policy that does not exist.
        """
        if policy_name == "":
            return self._default.generate(self._random_bytes)
        stored = await self.get(policy_name)
        if stored is None:
            raise NotFound(f"password policy {policy_name!r} does not exist")
        return stored.sampler.generate(self._random_bytes)

    async def _decode(self, name: str, raw: bytes) -> StoredPasswordPolicy:
        try:
            text = json.loads(raw)["policy"]
        except (ValueError, TypeError, KeyError):
            raise InternalError("a stored password policy entry is unreadable") from None
        if not isinstance(text, str):
            raise InternalError("a stored password policy entry is unreadable")
        try:
            return StoredPasswordPolicy(name, text, await _build(text))
        except InvalidRequest:
            # It was valid when written: failing now means storage or code drift. Fail closed.
            raise InternalError("a stored password policy no longer parses") from None


async def _build(text: str) -> PasswordSampler:
    """Parse and build off the event loop: a large policy's tables take up to a few tenths of a second."""
    return await asyncio.to_thread(lambda: PasswordSampler(parse_password_policy(text)))
