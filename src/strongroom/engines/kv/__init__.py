"""The ``kv`` secrets engine (Vault-compatible KV version 1 and version 2). See docs/kv.md."""

from .backend import KVBackend, kv_factory, mount_version

__all__ = ["KVBackend", "kv_factory", "mount_version"]
