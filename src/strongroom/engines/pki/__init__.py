"""The ``pki`` secrets engine (Vault-compatible paths). See docs/pki.md."""

from .backend import PKIBackend

__all__ = ["PKIBackend"]
