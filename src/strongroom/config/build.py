"""Validate a parsed configuration mapping and build the frozen ``ServerConfig``.

The rules: keys we implement are type-checked and coerced; keys Vault knows
but we do not implement (:mod:`strongroom.config.vault_keys`) are collected
as warnings; every other key is an error. The first problem found stops the
build with one ConfigError whose message reads
``<file>:<line>: <block>: <key>: <what is wrong>``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from strongroom.config import lockout, vault_keys
from strongroom.config.alerts import (
    ALERT_KEYS,
    ALERT_VALUES,
    WEBHOOK_KEYS,
    WEBHOOK_VALUES,
    AlertsConfig,
    make_alerts_config,
)
from strongroom.config.locate import Path, SourceMap
from strongroom.config.model import (
    DEFAULT_ADDRESS,
    DEFAULT_LEASE_TTL,
    DEFAULT_MAX_REQUEST_DURATION,
    DEFAULT_MAX_REQUEST_SIZE,
    LOG_LEVELS,
    MAX_KEY_ROTATION_OPERATIONS,
    TLS_VERSIONS,
    ListenerConfig,
    SealConfig,
    ServerConfig,
    StorageConfig,
)
from strongroom.config.tls_renew import (
    REQUIRED,
    TLS_RENEW_KEYS,
    TLS_RENEW_VALUES,
    TLSAutoRenewConfig,
    make_tls_renew_config,
)
from strongroom.config.values import (
    ValueProblem,
    as_bool,
    as_duration,
    as_int,
    as_str,
    echo,
    frozen_mapping,
    kind,
    split_host_port,
    string_map,
)
from strongroom.errors import ConfigError

T = TypeVar("T")

_TOP_LEVEL = frozenset(
    {
        "storage",
        "backend",
        "listener",
        "api_addr",
        "cluster_addr",
        "default_lease_ttl",
        "max_lease_ttl",
        "default_max_request_duration",
        "log_level",
        "disable_mlock",
        "ui",
        "seal",
        "telemetry",
        "alerts",
        "pid_file",
        "workers",
        "key_rotation_max_operations",
        "user_lockout",
        "tls_auto_renew",
    }
)
_TCP_KEYS = frozenset(
    {
        "address",
        "tls_disable",
        "tls_cert_file",
        "tls_key_file",
        "tls_min_version",
        "tls_client_ca_file",
        "tls_require_and_verify_client_cert",
        "max_request_size",
        "max_request_duration",
    }
)
_STORAGE_KEYS: Mapping[str, frozenset[str]] = {"sqlite": frozenset({"path"}), "inmem": frozenset()}
_LOG_ALIASES = {"warning": "warn", "err": "error"}
_MAX_WORKERS = 1024


@dataclass(frozen=True, slots=True)
class _Scope:
    """Where a mapping sits: its path for line lookups and its name for messages."""

    path: Path
    occurrence: int
    label: str  # '' at top level, 'listener "tcp"' inside a block


class _Builder:
    def __init__(self, filename: str, source: SourceMap) -> None:
        self.filename = filename
        self.source = source
        self.warnings: list[str] = []

    # -- messages ------------------------------------------------------------

    def _where(self, line: int | None) -> str:
        return f"{self.filename}:{line}" if line is not None else self.filename

    def error(self, scope: _Scope, message: str, key: str | None = None, nth: int = 0) -> ConfigError:
        """A located error: at ``key`` (its ``nth`` writing) in ``scope``, or at the block itself."""
        if key is None:
            line = self.source.block_line(scope.path, scope.occurrence)
        else:
            line = self.source.key_line(scope.path, scope.occurrence, key, nth)
        parts = [self._where(line)]
        if scope.label:
            parts.append(scope.label)
        parts.append(message)
        return ConfigError(": ".join(parts))

    def warn(self, scope: _Scope, key: str, message: str) -> None:
        line = self.source.key_line(scope.path, scope.occurrence, key)
        parts = [self._where(line), *([scope.label] if scope.label else []), key, message]
        self.warnings.append(": ".join(parts))

    def check_keys(
        self, scope: _Scope, body: Mapping[str, object], known: frozenset[str], vault_only: frozenset[str]
    ) -> None:
        for key in body:
            if key in known:
                continue
            if key in vault_only:
                self.warn(scope, key, "accepted for Vault compatibility, not implemented; ignored")
                continue
            raise self.error(scope, f"unknown key {echo(key)}", key)

    def value(
        self, scope: _Scope, body: Mapping[str, object], key: str, convert: Callable[[object], T], default: T
    ) -> T:
        """``convert(body[key])`` or ``default``; problems become located errors."""
        if key not in body:
            return default
        raw = body[key]
        if isinstance(raw, list) and self.source.key_count(scope.path, scope.occurrence, key) > 1:
            raise self.error(scope, f"{key}: set more than once", key)
        try:
            return convert(raw)
        except ValueProblem as problem:
            raise self.error(scope, f"{key}: {problem.message}", key) from None

    # -- blocks --------------------------------------------------------------

    def labeled_blocks(self, scope: _Scope, key: str, raw: object) -> list[tuple[str, dict[str, object], int]]:
        """``key "label" { ... }`` blocks as (label, body, occurrence among that label)."""
        items = raw if isinstance(raw, list) and raw else [raw]
        found: list[tuple[str, dict[str, object], int]] = []
        seen: dict[str, int] = {}
        for nth, item in enumerate(items):
            if not isinstance(item, dict) or not item:
                expected = f'expected a block like {key} "type" {{ ... }}, got {kind(item)}'
                raise self.error(scope, f"{key}: {expected}", key, nth)
            for label, body in item.items():
                bodies = body if isinstance(body, list) and body else [body]
                for one in bodies:
                    occurrence = seen.get(label, 0)
                    seen[label] = occurrence + 1
                    if not isinstance(one, dict):
                        inner = _Scope((*scope.path, key), 0, f"{key} {echo(label)}")
                        raise self.error(inner, f"expected a block, got {kind(one)}")
                    found.append((label, one, occurrence))
        return found

    def storage(self, top: _Scope, data: Mapping[str, object]) -> StorageConfig:
        names = [name for name in ("storage", "backend") if name in data]
        if not names:
            raise ConfigError(f'{self.filename}: a storage block is required, e.g. storage "sqlite" {{ path = ... }}')
        if len(names) > 1:
            raise self.error(top, "backend: use either storage or its legacy name backend, not both", "backend")
        name = names[0]
        blocks = self.labeled_blocks(top, name, data[name])
        if len(blocks) > 1:
            label, _, occurrence = blocks[1]
            raise self.error(
                _Scope((name, label), occurrence, f"{name} {echo(label)}"),
                f"only one {name} block is allowed",
            )
        label, body, occurrence = blocks[0]
        scope = _Scope((name, label), occurrence, f"{name} {echo(label)}")
        allowed = _STORAGE_KEYS.get(label)
        if allowed is not None:
            self.check_keys(scope, body, allowed, frozenset())
        try:
            options = string_map(body)
        except ValueProblem as problem:
            raise self.error(scope, f"{problem.key}: {problem.message}", problem.key) from None
        if label == "sqlite" and not options.get("path"):
            raise self.error(scope, "path is required (the SQLite database file)")
        return StorageConfig(type=label, options=options)

    def listeners(self, top: _Scope, data: Mapping[str, object], default_duration: int) -> tuple[ListenerConfig, ...]:
        if "listener" not in data:
            raise ConfigError(
                f'{self.filename}: at least one listener block is required, e.g. listener "tcp" {{ ... }}'
            )
        built: list[ListenerConfig] = []
        for label, body, occurrence in self.labeled_blocks(top, "listener", data["listener"]):
            scope = _Scope(("listener", label), occurrence, f"listener {echo(label)}")
            if label != "tcp":
                raise self.error(scope, 'unsupported listener type (only "tcp" is available)')
            listener = self.tcp_listener(scope, body, default_duration)
            for other in built:
                if (other.host, other.port) == (listener.host, listener.port) and listener.port != 0:
                    raise self.error(scope, f"address: {echo(listener.address)} is used by another listener", "address")
            built.append(listener)
        return tuple(built)

    def tcp_listener(self, scope: _Scope, body: Mapping[str, object], default_duration: int) -> ListenerConfig:
        self.check_keys(scope, body, _TCP_KEYS, vault_keys.TCP_LISTENER)
        address = self.value(scope, body, "address", as_str, DEFAULT_ADDRESS)
        try:
            host, port = split_host_port(address)
        except ValueProblem as problem:
            raise self.error(scope, f"address: {problem.message}", "address") from None
        tls_disable = self.value(scope, body, "tls_disable", as_bool, False)
        cert = self.value(scope, body, "tls_cert_file", _optional_path, None)
        key = self.value(scope, body, "tls_key_file", _optional_path, None)
        client_ca = self.value(scope, body, "tls_client_ca_file", _optional_path, None)
        require_client = self.value(scope, body, "tls_require_and_verify_client_cert", as_bool, False)
        min_version = self.value(scope, body, "tls_min_version", _tls_version, "tls12")
        size = self.value(scope, body, "max_request_size", _non_negative_int, 0)
        duration = self.value(scope, body, "max_request_duration", as_duration, 0)
        if tls_disable:
            if require_client:
                raise self.error(
                    scope,
                    "tls_require_and_verify_client_cert: cannot be used with tls_disable",
                    "tls_require_and_verify_client_cert",
                )
            for ignored in ("tls_cert_file", "tls_key_file", "tls_client_ca_file", "tls_min_version"):
                if ignored in body:
                    self.warn(scope, ignored, "ignored because tls_disable is set")
        else:
            for name, given in (("tls_cert_file", cert), ("tls_key_file", key)):
                if given is None:
                    raise self.error(scope, f"{name} is required unless tls_disable is set")
            if require_client and client_ca is None:
                raise self.error(
                    scope,
                    "tls_client_ca_file is required with tls_require_and_verify_client_cert",
                    "tls_require_and_verify_client_cert",
                )
        return ListenerConfig(
            type="tcp",
            address=address,
            host=host,
            port=port,
            tls_disable=tls_disable,
            tls_cert_file=None if tls_disable else cert,
            tls_key_file=None if tls_disable else key,
            tls_min_version=min_version,
            tls_client_ca_file=None if tls_disable else client_ca,
            tls_require_and_verify_client_cert=require_client,
            max_request_size=size or DEFAULT_MAX_REQUEST_SIZE,
            max_request_duration=duration or default_duration,
        )

    def seals(self, top: _Scope, data: Mapping[str, object]) -> tuple[SealConfig, ...]:
        if "seal" not in data:
            return ()
        seals: list[SealConfig] = []
        for label, body, occurrence in self.labeled_blocks(top, "seal", data["seal"]):
            scope = _Scope(("seal", label), occurrence, f"seal {echo(label)}")
            try:
                seals.append(SealConfig(type=label, options=string_map(body)))
            except ValueProblem as problem:
                raise self.error(scope, f"{problem.key}: {problem.message}", problem.key) from None
        return tuple(seals)

    def alerts(self, top: _Scope, data: Mapping[str, object]) -> AlertsConfig:
        """The ``alerts { ... }`` block and its optional ``webhook { ... }`` (see config/alerts.py)."""
        raw = data.get("alerts", {})
        if isinstance(raw, list):
            raise self.error(top, "alerts: only one alerts block is allowed", "alerts")
        if not isinstance(raw, dict):
            raise self.error(top, f"alerts: expected a block, got {kind(raw)}", "alerts")
        scope = _Scope(("alerts",), 0, "alerts")
        self.check_keys(scope, raw, ALERT_KEYS, frozenset())
        values = {name: self.value(scope, raw, name, convert, default)
                  for name, (convert, default) in ALERT_VALUES.items()}
        hook = raw.get("webhook")
        if hook is None:
            return make_alerts_config(values, None)
        if not isinstance(hook, dict):
            expected = "only one webhook block is allowed" if isinstance(hook, list) else "expected a block"
            raise self.error(scope, f"webhook: {expected}", "webhook")
        inner = _Scope(("alerts", "webhook"), 0, "alerts: webhook")
        self.check_keys(inner, hook, WEBHOOK_KEYS, frozenset())
        for required in ("url", "secret"):
            if required not in hook:
                raise self.error(inner, f"{required} is required")
        webhook = {name: self.value(inner, hook, name, convert, default)
                   for name, (convert, default) in WEBHOOK_VALUES.items()}
        return make_alerts_config(values, webhook)

    def user_lockout(self, top: _Scope, data: Mapping[str, object]) -> Mapping[str, Mapping[str, object]]:
        """The ``user_lockout "<all|method>" { ... }`` blocks (see config/lockout.py), one per label."""
        if "user_lockout" not in data:
            return MappingProxyType({})
        blocks: dict[str, Mapping[str, object]] = {}
        for label, body, occurrence in self.labeled_blocks(top, "user_lockout", data["user_lockout"]):
            scope = _Scope(("user_lockout", label), occurrence, f"user_lockout {echo(label)}")
            if occurrence > 0:
                raise self.error(scope, "only one block per label is allowed")
            if not lockout.LABEL.fullmatch(label):
                raise self.error(scope, 'the label must be "all" or an auth method type')
            self.check_keys(scope, body, lockout.KEYS, frozenset())
            blocks[label] = MappingProxyType(
                {key: self.value(scope, body, key, convert, None) for key, convert in lockout.VALUES.items()
                 if key in body}
            )
        return MappingProxyType(blocks)

    def tls_auto_renew(self, top: _Scope, data: Mapping[str, object]) -> TLSAutoRenewConfig | None:
        """The ``tls_auto_renew { ... }`` block (see config/tls_renew.py), or None without one."""
        if "tls_auto_renew" not in data:
            return None
        raw = data["tls_auto_renew"]
        if isinstance(raw, list):
            raise self.error(top, "tls_auto_renew: only one tls_auto_renew block is allowed", "tls_auto_renew")
        if not isinstance(raw, dict):
            raise self.error(top, f"tls_auto_renew: expected a block, got {kind(raw)}", "tls_auto_renew")
        scope = _Scope(("tls_auto_renew",), 0, "tls_auto_renew")
        self.check_keys(scope, raw, TLS_RENEW_KEYS, frozenset())
        for required in REQUIRED:
            if required not in raw:
                raise self.error(scope, f"{required} is required")
        values = {name: self.value(scope, raw, name, convert, default)
                  for name, (convert, default) in TLS_RENEW_VALUES.items()}
        return make_tls_renew_config(values)

    def telemetry(self, top: _Scope, data: Mapping[str, object]) -> Mapping[str, object]:
        raw = data.get("telemetry", {})
        if isinstance(raw, list):
            raise self.error(top, "telemetry: only one telemetry block is allowed", "telemetry")
        if not isinstance(raw, dict):
            raise self.error(top, f"telemetry: expected a block, got {kind(raw)}", "telemetry")
        return frozen_mapping(raw)

    def unauthenticated_metrics_access(self, top: _Scope, data: Mapping[str, object]) -> bool:
        body = self.telemetry(top, data)
        scope = _Scope(("telemetry",), 0, "telemetry")
        return self.value(scope, body, "unauthenticated_metrics_access", as_bool, False)

    # -- the whole file ------------------------------------------------------

    def server(self, data: Mapping[str, object]) -> ServerConfig:
        top = _Scope((), 0, "")
        self.check_keys(top, data, _TOP_LEVEL, vault_keys.TOP_LEVEL)
        default_ttl = self.value(top, data, "default_lease_ttl", as_duration, 0) or DEFAULT_LEASE_TTL
        max_ttl = self.value(top, data, "max_lease_ttl", as_duration, 0) or DEFAULT_LEASE_TTL
        if default_ttl > max_ttl:
            key = "default_lease_ttl" if "default_lease_ttl" in data else "max_lease_ttl"
            limits = f"({_human(default_ttl)}) is greater than max_lease_ttl ({_human(max_ttl)})"
            raise self.error(top, f"{key}: default_lease_ttl {limits}", key)
        request_duration = self.value(top, data, "default_max_request_duration", as_duration, 0)
        return ServerConfig(
            storage=self.storage(top, data),
            listeners=self.listeners(top, data, request_duration or DEFAULT_MAX_REQUEST_DURATION),
            api_addr=self.value(top, data, "api_addr", _url, None),
            cluster_addr=self.value(top, data, "cluster_addr", _url, None),
            default_lease_ttl=default_ttl,
            max_lease_ttl=max_ttl,
            log_level=self.value(top, data, "log_level", _log_level, "info"),
            disable_mlock=self.value(top, data, "disable_mlock", as_bool, False),
            ui=self.value(top, data, "ui", as_bool, False),
            seals=self.seals(top, data),
            telemetry=self.telemetry(top, data),
            alerts=self.alerts(top, data),
            user_lockout=self.user_lockout(top, data),
            tls_auto_renew=self.tls_auto_renew(top, data),
            unauthenticated_metrics_access=self.unauthenticated_metrics_access(top, data),
            key_rotation_max_operations=self.value(top, data, "key_rotation_max_operations", _rotation_limit, None),
            pid_file=self.value(top, data, "pid_file", _optional_path, None),
            workers=self.value(top, data, "workers", _workers, os.cpu_count() or 1),
            warnings=tuple(self.warnings),
            source=self.filename,
        )


def _human(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _optional_path(value: object) -> str | None:
    text = as_str(value)
    return text or None  # Vault treats an empty file name as "not set".


def _non_negative_int(value: object) -> int:
    number = as_int(value)
    if number < 0:
        raise ValueProblem(f"must not be negative (got {number})")
    return number


def _tls_version(value: object) -> str:
    version = as_str(value).strip().lower()
    if version in TLS_VERSIONS:
        return version
    if version in ("tls10", "tls11"):
        raise ValueProblem(f'{echo(version)} is not supported; use "tls12" or "tls13"')
    raise ValueProblem(f'invalid TLS version {echo(version)}; use "tls12" or "tls13"')


def _log_level(value: object) -> str:
    level = as_str(value).strip().lower()
    level = _LOG_ALIASES.get(level, level)
    if level not in LOG_LEVELS:
        raise ValueProblem(f"invalid log level {echo(value)}; use one of {', '.join(LOG_LEVELS)}")
    return level


def _url(value: object) -> str:
    text = as_str(value).strip()
    if not text.startswith(("http://", "https://")) or len(text) <= len("https://"):
        raise ValueProblem(f"invalid address {echo(text)}: expected a full URL such as https://host:8200")
    return text


def _rotation_limit(value: object) -> int:
    number = as_int(value)
    if not 1 <= number <= MAX_KEY_ROTATION_OPERATIONS:
        raise ValueProblem(
            f"must be between 1 and {MAX_KEY_ROTATION_OPERATIONS} (AES-GCM's safe limit is 2^32) (got {number})"
        )
    return number


def _workers(value: object) -> int:
    number = as_int(value)
    if not 1 <= number <= _MAX_WORKERS:
        raise ValueProblem(f"must be between 1 and {_MAX_WORKERS} (got {number})")
    return number


def build_config(data: Mapping[str, object], filename: str, source: SourceMap) -> ServerConfig:
    """Validate ``data`` (parsed from ``filename``) into a ServerConfig or raise ConfigError."""
    return _Builder(filename, source).server(data)
