"""Paginated LIST and recursive SCAN over a folder of storage keys (shared by KV v1 and v2).

Both walk the storage contract's ``list`` (immediate children, sorted, folders
with a trailing '/'), so a LIST costs one call whatever the size of the mount.
SCAN visits folders depth-first in sorted order; because a folder name ends in
'/', that order is exactly the lexicographic order of the full relative paths,
which is what makes ``after`` a stable cursor and lets whole sub-trees that lie
before it be skipped without listing them.
"""

from __future__ import annotations

from strongroom.sdk.storage import StorageBackend


async def list_page(storage: StorageBackend, prefix: str, after: str = "", limit: int = 0) -> list[str]:
    """Immediate children of ``prefix`` that sort strictly after ``after``; at most ``limit`` (0: all)."""
    keys = await storage.list(prefix)
    if after:
        keys = [key for key in keys if key > after]
    return keys[:limit] if limit > 0 else keys


async def scan_page(storage: StorageBackend, prefix: str, after: str = "", limit: int = 0) -> list[str]:
    """Every leaf key below ``prefix``, relative to it, sorted, strictly after ``after``, at most ``limit``.

    Folders themselves are not entries, only the secrets inside them.
    """
    scan = _Scan(storage, prefix, after, limit)
    await scan.walk("")
    return scan.found


class _Scan:
    """One depth-first walk; ``found`` fills in sorted order until ``limit`` is reached."""

    def __init__(self, storage: StorageBackend, prefix: str, after: str, limit: int) -> None:
        self.storage = storage
        self.prefix = prefix
        self.after = after
        self.limit = limit
        self.found: list[str] = []

    async def walk(self, folder: str) -> bool:
        """Collect the leaves of ``folder``; False once ``limit`` is reached (stop walking)."""
        after = self.after
        for child in await self.storage.list(self.prefix + folder):
            relative = folder + child
            if child.endswith("/"):
                # Every path in this sub-tree starts with ``relative``; if that sorts
                # before the cursor and the cursor is not inside it, all of it does.
                if after and relative < after and not after.startswith(relative):
                    continue
                if not await self.walk(relative):
                    return False
            elif not after or relative > after:
                self.found.append(relative)
                if 0 < self.limit <= len(self.found):
                    return False
        return True
