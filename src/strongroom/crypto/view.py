"""A storage view confined to one prefix: each mount sees only its own corner of the barrier.

Keys given to a :class:`StorageView` are joined to its prefix, and ``list``
answers are relative to it, so a mount addresses its entries without knowing
where they live. As defence in depth (storage backends do no path
normalisation, but a future one might), keys that could be read as climbing out
or aliasing are refused with :class:`strongroom.errors.InvalidRequest`: a leading
'/', an empty segment ('a//b', or a trailing '/' except in ``get`` of a folder
name, which answers None), or a '.' or '..' segment.
"""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.errors import InvalidRequest
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp


class StorageView(StorageBackend):
    """``backend`` seen through ``prefix`` (non-empty, ending in '/', itself a clean path)."""

    def __init__(self, backend: StorageBackend, prefix: str) -> None:
        _check_folder(prefix)
        self._backend = backend
        self._prefix = prefix

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def backend(self) -> StorageBackend:
        return self._backend

    def sub_view(self, prefix: str) -> StorageView:
        """A view of ``prefix`` inside this one (flattened onto the same backend)."""
        _check_folder(prefix)
        return StorageView(self._backend, self._prefix + prefix)

    def __repr__(self) -> str:
        return f"StorageView(prefix={self._prefix!r})"

    async def get(self, key: str) -> bytes | None:
        """The value at ``key``; a folder name ('a/b/') holds no value, as the storage contract says."""
        if isinstance(key, str) and key.endswith("/"):
            _check_folder(key)
            return None  # nothing can be written at such a key through a view
        return await self._backend.get(self._key(key))

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        """The value and version token at ``key``; a folder name holds neither."""
        if isinstance(key, str) and key.endswith("/"):
            _check_folder(key)
            return None, None
        return await self._backend.get_with_version(self._key(key))

    async def put(self, key: str, value: bytes) -> None:
        await self._backend.put(self._key(key), value)

    async def delete(self, key: str) -> None:
        await self._backend.delete(self._key(key))

    def revision(self) -> int | None:
        return self._backend.revision()

    async def list(self, prefix: str) -> list[str]:
        """Children of ``prefix`` ('' or ending in '/'); they are already relative to it."""
        if prefix:
            _check_folder(prefix)
        return await self._backend.list(self._prefix + prefix)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        # Check every key before the backend sees any op, so a bad key cannot half-apply.
        mapped = [TxnOp(self._key(op.key), op.value) for op in ops]
        conditions = [Precondition(self._key(pre.key), pre.expected) for pre in preconditions]
        await self._backend.transaction(mapped, conditions)

    def _key(self, key: str) -> str:
        _check_segments(key)
        return self._prefix + key


def _check_folder(prefix: str) -> None:
    """Refuse a folder prefix that does not end in '/' or whose segments are not clean."""
    if not isinstance(prefix, str) or not prefix.endswith("/"):
        raise InvalidRequest("a storage prefix must end in '/'")
    _check_segments(prefix[:-1])


def _check_segments(path: str) -> None:
    """Refuse paths that are empty, absolute, or hold an empty, '.' or '..' segment."""
    if not isinstance(path, str):
        raise InvalidRequest("storage keys must be strings")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidRequest("invalid storage path")
