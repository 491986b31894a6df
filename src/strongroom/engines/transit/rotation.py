"""Rotation: on request (``keys/:name/rotate``) and automatic (``auto_rotate_period``).

There is no scheduler yet, so automatic rotation is lazy and still exact about
what it guarantees: every operation that produces new output with a key
(encrypt, rewrap, datakey, sign, hmac) first checks, against the injected
clock, whether the latest version is older than ``auto_rotate_period``, and if
so rotates before using it. No new output is ever made with a version older
than the period. The check costs nothing when the period is 0 or not yet over.
:func:`rotate_due_keys` does the same for every key of a mount, for a periodic
job to call once a scheduler exists; calling it is never required for
correctness.

Several workers may notice the same due rotation at once: the rotation is a
conditional write that re-checks the deadline on the entry as read, so exactly
one new version is made and the others just re-read it.
"""

from __future__ import annotations

from collections.abc import Callable

from strongroom.errors import InvalidRequest

from .creation import new_version
from .policy import KeyPolicy
from .store import KeyStore


async def rotate(store: KeyStore, policy: KeyPolicy, now: float, *, only_if_due: bool) -> KeyPolicy:
    """Add a version to ``policy`` (read just before) and return the key as stored afterwards.

    With ``only_if_due`` the new version is committed only if the stored key is
    still due for rotation at ``now``; otherwise the stored key is returned unchanged.
    """
    entry = await new_version(policy.key_type, store.random_bytes, now, policy.key_size)

    def change(current: KeyPolicy) -> KeyPolicy | None:
        if only_if_due and not current.rotation_due(now):
            return None
        if current.key_type is not policy.key_type or current.key_size != policy.key_size:
            raise InvalidRequest("the key was replaced while rotating it; try again")
        return current.with_new_version(entry)

    rotated = await store.update(policy.name, change)
    if rotated is None:
        raise InvalidRequest("key not found")
    return rotated


async def rotated_if_due(store: KeyStore, policy: KeyPolicy, clock: Callable[[], float]) -> KeyPolicy:
    """``policy``, rotated first if its auto-rotation period has run out."""
    now = clock()
    if not policy.rotation_due(now):
        return policy
    return await rotate(store, policy, now, only_if_due=True)


async def rotate_due_keys(store: KeyStore, clock: Callable[[], float]) -> list[str]:
    """Rotate every key of the mount whose period has run out; the names rotated, sorted."""
    rotated: list[str] = []
    for name in await store.names():
        policy = await store.get(name)
        if policy is None:
            continue
        after = await rotated_if_due(store, policy, clock)
        if after.latest_version != policy.latest_version:
            rotated.append(name)
    return rotated
