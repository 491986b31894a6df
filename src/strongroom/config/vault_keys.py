"""Keys Vault's configuration knows that Strongroom accepts but does not implement.

A Vault configuration file should load unchanged, so these produce a warning
rather than an error. Ignoring any of them never weakens security: each one
either tunes a feature we do not have (plugins, replication, Raft, caching,
log files) or would *relax* a default we keep (for example
``raw_storage_endpoint`` and ``unauthenticated_metrics_access`` stay off,
proxy headers stay untrusted). Anything not listed here, and not implemented,
is a typo until proven otherwise and is an error.
"""

from __future__ import annotations

TOP_LEVEL = frozenset(
    {
        "administrative_namespace_path",
        "cache_size",
        "cluster_cipher_suites",
        "cluster_name",
        "detect_deadlocks",
        "disable_cache",
        "disable_clustering",
        "disable_performance_standby",
        "disable_printable_check",
        "disable_sealwrap",
        "disable_sentinel_trace",
        "enable_multiseal",
        "enable_post_unseal_trace",
        "enable_response_header_hostname",
        "enable_response_header_raft_node_id",
        "entropy",
        "experiments",
        "ha_backend",
        "ha_storage",
        "hsm",
        "imprecise_lease_role_tracking",
        "introspection_endpoint",
        "kms_library",
        "license_path",
        "log_file",
        "log_format",
        "log_requests_level",
        "log_rotate_bytes",
        "log_rotate_duration",
        "log_rotate_max_files",
        "plugin_directory",
        "plugin_file_permissions",
        "plugin_file_uid",
        "plugin_tmpdir",
        "post_unseal_trace_directory",
        "raw_storage_endpoint",
        "replication",
        "reporting",
        "sentinel",
        "service_registration",
    }
)

TCP_LISTENER = frozenset(
    {
        "agent_api",
        "chroot_namespace",
        "cluster_address",
        "custom_response_headers",
        "disable_replication_status_endpoints",
        "disable_request_limiter",
        "http_idle_timeout",
        "http_read_header_timeout",
        "http_read_timeout",
        "http_write_timeout",
        "inflight_requests_logging",
        "profiling",
        "proxy_protocol_authorized_addrs",
        "proxy_protocol_behavior",
        "redact_addresses",
        "redact_cluster_name",
        "redact_version",
        "replication_status_endpoints",
        "role",
        "telemetry",
        "tls_cipher_suites",
        "tls_disable_client_certs",
        "tls_max_version",
        "tls_prefer_server_cipher_suites",
        "unauthenticated_metrics_access",
        "x_forwarded_for_authorized_addrs",
        "x_forwarded_for_client_cert_header",
        "x_forwarded_for_client_cert_header_decoders",
        "x_forwarded_for_hop_skips",
        "x_forwarded_for_reject_not_authorized",
        "x_forwarded_for_reject_not_present",
    }
)
