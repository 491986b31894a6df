"""Decoded secret metadata of one KV v2 mount, kept per process while the store is unchanged.

A read of a secret decodes its metadata entry first (version list, settings,
custom metadata: no secret value). Under a read-mostly load the same entry is
read, decrypted and decoded again on every request; this cache keeps the
decoded :class:`SecretMeta` for as long as the store's
:meth:`~strongroom.sdk.storage.StorageBackend.revision` stays the same. Any
commit by any process moves the revision (SQLite's ``data_version``; a counter
in memory), and the first lookup that sees a new revision drops everything,
so a change made anywhere is seen by every later read. A store without a
revision (``None``) is never cached.

Only :meth:`V2Store.meta` uses it, for readers; read-modify-write cycles read
with ``meta_for_update``, which always goes to storage. The entries are shared:
callers must not change the metadata they are given.
"""

from __future__ import annotations

from .model import SecretMeta

MAX_ENTRIES = 4096


class MetaCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._revision: int | None = None
        self._entries: dict[str, SecretMeta | None] = {}

    def lookup(self, revision: int, path: str) -> tuple[bool, SecretMeta | None]:
        """``(True, meta)`` when ``path`` was read at ``revision`` (``meta`` None: no such secret)."""
        if revision != self._revision or path not in self._entries:
            return False, None
        return True, self._entries[path]

    def keep(self, revision: int, path: str, meta: SecretMeta | None) -> None:
        """Remember ``meta``, read from storage after the store was at ``revision``."""
        if revision != self._revision or len(self._entries) >= self._max:
            self._entries.clear()
            self._revision = revision
        self._entries[path] = meta
