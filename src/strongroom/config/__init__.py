"""Server configuration: Vault-style HCL or JSON into frozen dataclasses, parsed once.

Use :func:`load_config` (a file) or :func:`parse_config` (text). The result is
passed explicitly to whatever needs it; nothing reads configuration globally.
"""

from strongroom.config.loader import load_config, parse_config
from strongroom.config.model import ListenerConfig, SealConfig, ServerConfig, StorageConfig

__all__ = ["ListenerConfig", "SealConfig", "ServerConfig", "StorageConfig", "load_config", "parse_config"]
