"""``strongroom server``: turn the config (or dev flags) into node settings and run.

One process when storage is in memory (dev mode, a Vault config's ``inmem``) or
``workers = 1``; otherwise a supervisor with one worker process per core.
"""

from __future__ import annotations

import logging
import os

import uvloop

from strongroom.config.model import ServerConfig
from strongroom.core.metrics.barrier_usage import DEFAULT_MAX_OPERATIONS
from strongroom.errors import ConfigError
from strongroom.server.logging_setup import setup_logging
from strongroom.server.seal_setup import NodeSeals, build_seals
from strongroom.server.settings import ListenerSettings, NodeSettings
from strongroom.server.tls import TLSConfigError, check_listeners
from strongroom.server.tls_renewal import with_auto_renew

log = logging.getLogger("strongroom.server")


def settings_from_config(config: ServerConfig) -> NodeSettings:
    listeners = tuple(
        ListenerSettings(
            host=listener.host,
            port=listener.port,
            tls_disable=listener.tls_disable,
            tls_cert_file=listener.tls_cert_file or "",
            tls_key_file=listener.tls_key_file or "",
            tls_client_ca_file=listener.tls_client_ca_file or "",
            tls_require_and_verify_client_cert=listener.tls_require_and_verify_client_cert,
            tls_min_version=listener.tls_min_version,
            max_request_size=listener.max_request_size,
        )
        for listener in config.listeners
    )
    return NodeSettings(
        storage_type=config.storage.type,
        storage_options=dict(config.storage.options),
        listeners=listeners,
        default_lease_ttl=config.default_lease_ttl,
        max_lease_ttl=config.max_lease_ttl,
        log_level=config.log_level,
        workers=config.workers,
        api_addr=config.api_addr or "",
        unauthenticated_metrics_access=config.unauthenticated_metrics_access,
        key_rotation_max_operations=config.key_rotation_max_operations or DEFAULT_MAX_OPERATIONS,
        user_lockout={label: dict(body) for label, body in config.user_lockout.items()},
    )


def dev_settings(root_token: str | None, listen_address: str) -> NodeSettings:
    host, _, port = listen_address.rpartition(":")
    return NodeSettings(
        storage_type="inmem",
        listeners=(ListenerSettings(host=host.strip("[]") or "127.0.0.1", port=int(port), tls_disable=True),),
        dev=True,
        dev_root_token=root_token,
        log_level="info",
    )


def run_server(
    config: ServerConfig | None,
    *,
    dev: bool = False,
    dev_root_token: str | None = None,
    dev_listen_address: str = "127.0.0.1:8200",
) -> int:
    """Run until SIGTERM/SIGINT; returns the process exit code."""
    if dev or config is None:
        settings = dev_settings(dev_root_token, dev_listen_address)
    else:
        settings = settings_from_config(config)
    setup_logging(settings.log_level, f"server-{os.getpid()}")
    if config is not None:
        for warning in config.warnings:
            log.warning("%s", warning)
    try:
        check_listeners(settings.listeners)  # fail here, once, rather than in every worker
    except TLSConfigError as exc:
        problem = str(exc)
    else:
        problem = ""
    seals = NodeSeals()
    if not problem and config is not None and not dev:
        try:
            seals = build_seals(config.seals)
        except ConfigError as exc:
            problem = f"seal configuration: {exc}"
    if problem:
        log.error("%s", problem)
        return 1
    alerts = config.alerts if config is not None else None
    # The node renews its own certificate here, in exactly one process (server.tls_renewal).
    renew = config.tls_auto_renew if config is not None and not dev else None
    if settings.worker_count() == 1:
        from strongroom.server.single import run_single

        node = run_single(settings, alerts, seals.active, seals.disabled)
        return uvloop.run(with_auto_renew(renew, settings.listeners, node))
    from strongroom.server.supervisor import run_supervisor

    supervised = run_supervisor(settings, alerts, seals.active, seals.disabled)
    return uvloop.run(with_auto_renew(renew, settings.listeners, supervised))
