"""Strongroom: a Vault-compatible secrets manager for Kubernetes."""

__version__ = "0.2.0"
