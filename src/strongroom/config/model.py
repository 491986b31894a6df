"""The parsed server configuration: frozen dataclasses, built once at startup.

Everything here is already validated: a ``ServerConfig`` that exists is one
the server can try to start with (the composition root still refuses storage
or seal types it has no implementation for). Option blocks that may carry
credentials (storage, seal, telemetry) are excluded from ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from strongroom.config.alerts import AlertsConfig
from strongroom.config.tls_renew import TLSAutoRenewConfig

DEFAULT_LEASE_TTL = 768 * 3600
DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024
DEFAULT_MAX_REQUEST_DURATION = 90
DEFAULT_ADDRESS = "127.0.0.1:8200"
LOG_LEVELS = ("trace", "debug", "info", "warn", "error")
TLS_VERSIONS = ("tls12", "tls13")
#: The highest key_rotation_max_operations accepted: about 0.9 x 2^32 encryptions (Vault's default).
MAX_KEY_ROTATION_OPERATIONS = 3_865_470_566


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """A ``storage "type" { ... }`` block. Options are strings, as in Vault.

    ``sqlite`` (the default embedded store) has one option, ``path``;
    ``inmem`` has none. Other types are carried through unvalidated.
    """

    type: str
    options: Mapping[str, str] = field(default_factory=_empty, repr=False)

    @property
    def path(self) -> str | None:
        """The ``path`` option (the database file for ``sqlite``), if any."""
        return self.options.get("path")


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """A ``listener "tcp" { ... }`` block.

    TLS is on unless ``tls_disable`` is set, and then ``tls_cert_file`` and
    ``tls_key_file`` are present. ``tls_client_ca_file`` is present whenever
    ``tls_require_and_verify_client_cert`` is set. Sizes are bytes, durations
    whole seconds, both always positive (0 in the file means "default").
    """

    type: str = "tcp"
    address: str = DEFAULT_ADDRESS
    host: str = "127.0.0.1"
    port: int = 8200
    tls_disable: bool = False
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_min_version: str = "tls12"
    tls_client_ca_file: str | None = None
    tls_require_and_verify_client_cert: bool = False
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
    max_request_duration: int = DEFAULT_MAX_REQUEST_DURATION


@dataclass(frozen=True, slots=True)
class SealConfig:
    """A ``seal "type" { ... }`` block, kept raw until seals are built."""

    type: str
    options: Mapping[str, str] = field(default_factory=_empty, repr=False)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The whole server configuration.

    ``warnings`` lists keys Vault knows that Strongroom accepts and ignores
    (each message names file, line and key); the server logs them at start.
    ``telemetry`` is the raw block, deep read-only (mappings and tuples);
    ``unauthenticated_metrics_access`` is read from it (a boolean).
    ``key_rotation_max_operations`` is the number of encryptions under one
    keyring term after which the keyring rotates automatically (None: the
    server's default, half of the 2^32 that AES-GCM with random nonces allows).
    """

    storage: StorageConfig
    listeners: tuple[ListenerConfig, ...]
    api_addr: str | None = None
    cluster_addr: str | None = None
    default_lease_ttl: int = DEFAULT_LEASE_TTL
    max_lease_ttl: int = DEFAULT_LEASE_TTL
    log_level: str = "info"
    disable_mlock: bool = False
    ui: bool = False
    seals: tuple[SealConfig, ...] = ()
    telemetry: Mapping[str, object] = field(default_factory=_empty, repr=False)
    #: The ``alerts { ... }`` block (``strongroom.config.alerts``); defaults without one.
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    #: The ``user_lockout`` blocks by label ("all" or a method type), values validated (``config.lockout``).
    user_lockout: Mapping[str, Mapping[str, object]] = field(default_factory=lambda: MappingProxyType({}))
    #: The ``tls_auto_renew { ... }`` block (``strongroom.config.tls_renew``); None without one.
    tls_auto_renew: TLSAutoRenewConfig | None = None
    unauthenticated_metrics_access: bool = False
    key_rotation_max_operations: int | None = None
    pid_file: str | None = None
    workers: int = 1
    warnings: tuple[str, ...] = ()
    source: str = ""
