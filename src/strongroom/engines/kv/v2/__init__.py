"""KV version 2: versioned secrets with metadata, check-and-set, soft delete and destroy."""

from .paths import KVv2

__all__ = ["KVv2"]
