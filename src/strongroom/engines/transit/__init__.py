"""The ``transit`` secrets engine (Vault-compatible encryption as a service). See docs/transit.md."""

from .backend import TransitBackend

__all__ = ["TransitBackend"]
