"""Strongroom: a Vault-compatible secrets manager for Kubernetes."""

__version__ = "0.1.0"
