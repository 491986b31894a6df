"""Where ``kv`` subcommands send their requests, for KV version 1 and 2 mounts.

``vault kv get secret/foo`` on a version 2 mount reads ``secret/data/foo``;
``kv list`` lists ``secret/metadata/...``; ``kv delete -versions`` posts to
``secret/delete/...``. Version 1 mounts take the path as written. This module
is pure: :class:`KvMount` says where a mount is and which version it runs, and
:func:`api_path` builds the request path for one operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from strongroom.cli.errors import LocalError

Operation = Literal["data", "metadata", "delete", "undelete", "destroy", "subkeys"]


@dataclass(frozen=True, slots=True)
class KvMount:
    """A KV mount: its path (always ending in ``/``) and its version (1 or 2)."""

    path: str
    version: int


def clean(path: str) -> str:
    """Strip surrounding slashes and collapse empty segments."""
    return "/".join(part for part in path.split("/") if part)


def mount_from_info(info: Mapping[str, Any]) -> KvMount | None:
    """A KvMount from a mount description (``sys/internal/ui/mounts/...`` or one ``sys/mounts`` entry).

    Returns None when the mount is not a KV engine.
    """
    mount_type = str(info.get("type") or "")
    path = str(info.get("path") or "")
    options = info.get("options") or {}
    version_text = str(options.get("version") or "1") if isinstance(options, Mapping) else "1"
    if mount_type in ("kv", "kv-v2", "generic"):
        version = 2 if mount_type == "kv-v2" or version_text == "2" else 1
        return KvMount(path=clean(path) + "/", version=version)
    return None


def longest_mount(mounts: Mapping[str, Any], path: str) -> tuple[str, Mapping[str, Any]] | None:
    """The ``sys/mounts`` entry whose path is the longest prefix of ``path``."""
    target = clean(path) + "/"
    best: tuple[str, Mapping[str, Any]] | None = None
    for mount_path, info in mounts.items():
        if not isinstance(info, Mapping):
            continue
        prefix = clean(mount_path) + "/"
        if target.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, info)
    return best


def relative(mount: KvMount, path: str) -> str:
    """``path`` (which includes the mount) without the mount prefix."""
    full = clean(path)
    prefix = mount.path.rstrip("/")
    if full == prefix:
        return ""
    if not full.startswith(prefix + "/"):
        raise LocalError(f"{path} is not under the mount {mount.path}")
    return full[len(prefix) + 1 :]


def api_path(mount: KvMount, secret: str, operation: Operation = "data") -> str:
    """The request path for ``operation`` on ``secret`` (relative to the mount).

    Version 1 mounts only have plain paths; asking them for metadata,
    undelete, destroy or version deletes is a LocalError with Vault's meaning.
    """
    secret = clean(secret)
    if mount.version == 1:
        if operation != "data":
            raise LocalError(f"{operation} is only available on KV version 2 mounts ({mount.path} is version 1)")
        return mount.path + secret
    return f"{mount.path}{operation}/{secret}" if secret else f"{mount.path}{operation}/"
