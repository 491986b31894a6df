"""The storage seam.

A storage backend is **untrusted**: above the barrier it only ever sees
ciphertext. Keys are '/'-separated paths without a leading '/'. Values are
opaque bytes.

Semantics every implementation must honour (checked by
``strongroom.sdk.testing.StorageConformance``):

* ``get`` of a missing key returns ``None``.
* ``put`` overwrites; once it returns, the value is durable (survives
  ``kill -9`` of the process for persistent backends).
* ``delete`` of a missing key is not an error.
* ``list(prefix)`` returns the *immediate* children under ``prefix`` (which is
  empty or ends in '/'), sorted: leaf keys as their last segment, and
  sub-folders as ``name/`` (each once).
* ``transaction(ops)`` applies all puts and deletes atomically, or none.
* A write made through one process is visible to a read in any other process
  sharing the same backend once the write has returned.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TxnOp:
    """One operation inside an atomic transaction: a put (``value`` set) or a delete (``value`` None)."""

    key: str
    value: bytes | None


class StorageBackend(abc.ABC):
    """The physical storage contract. See the module docstring for the semantics."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    async def put(self, key: str, value: bytes) -> None: ...

    @abc.abstractmethod
    async def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    async def list(self, prefix: str) -> list[str]: ...

    @abc.abstractmethod
    async def transaction(self, ops: Sequence[TxnOp]) -> None: ...

    async def open(self) -> None:
        """Connect / create tables. Called once per process before first use (after fork)."""

    async def close(self) -> None:
        """Release connections; pending acknowledged writes are already durable."""


def list_children(keys: Sequence[str], prefix: str) -> list[str]:
    """The ``list`` answer for ``prefix`` given every key under it (a helper for backends).

    Keys must all start with ``prefix``. Returns sorted unique immediate children,
    sub-folders with a trailing '/'.
    """
    children: set[str] = set()
    for key in keys:
        rest = key[len(prefix):]
        if not rest:
            continue
        head, sep, _ = rest.partition("/")
        children.add(head + "/" if sep else head)
    return sorted(children)
