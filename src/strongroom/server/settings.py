"""What one server node needs to run, derived once from the config file or dev flags.

Plain data that crosses the supervisor -> worker channel as JSON; holds no secret.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from strongroom.core.metrics.barrier_usage import DEFAULT_MAX_OPERATIONS
from strongroom.http.limits import DEFAULT_MAX_REQUEST_SIZE


@dataclass(frozen=True)
class ListenerSettings:
    host: str = "127.0.0.1"
    port: int = 8200
    tls_disable: bool = False
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    tls_require_and_verify_client_cert: bool = False
    tls_min_version: str = "tls12"
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE

    @property
    def scheme(self) -> str:
        return "http" if self.tls_disable else "https"


@dataclass(frozen=True)
class NodeSettings:
    storage_type: str = "inmem"
    storage_options: dict[str, str] = field(default_factory=dict)
    listeners: tuple[ListenerSettings, ...] = (ListenerSettings(tls_disable=True),)
    default_lease_ttl: int = 768 * 3600
    max_lease_ttl: int = 768 * 3600
    log_level: str = "info"
    workers: int = 0  # 0 = one per CPU core
    dev: bool = False
    dev_root_token: str | None = None
    api_addr: str = ""
    unauthenticated_metrics_access: bool = False
    key_rotation_max_operations: int = DEFAULT_MAX_OPERATIONS
    #: The configuration's ``user_lockout`` blocks: {label: {key: value}}, already validated.
    user_lockout: dict[str, dict[str, Any]] = field(default_factory=dict)

    def worker_count(self) -> int:
        if self.storage_type == "inmem":
            return 1  # in-memory storage lives in one process (documented)
        return self.workers or (os.cpu_count() or 1)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(raw: dict[str, Any]) -> NodeSettings:
        raw = dict(raw)
        listeners = tuple(ListenerSettings(**item) for item in raw.pop("listeners"))
        return NodeSettings(listeners=listeners, **raw)
