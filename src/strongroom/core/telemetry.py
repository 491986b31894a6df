"""The server's metric objects (prometheus_client), defined once and imported where they are updated.

Contract for every metric here: labels carry only bounded, non-secret facts (mount
type and point, operation, status code, auth method, device name, quota name,
alert kind, storage operation). Never a token, an accessor, a value or a request
path: a path can carry user data, a mount point cannot.

Multi-process nodes: prometheus_client chooses its value storage when it is first
imported. The supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` in each worker's
environment before exec, so in a worker every metric below writes to a per-process
file in that directory and a scrape of any worker sums the node (see
``strongroom.core.metrics.exposition``). Counters and histograms sum across live and
dead workers; the few gauges say how they combine through ``multiprocess_mode``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

# ``*_created`` series exist only in single-process mode; leaving them out keeps both modes' output alike.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client 0.26

#: Strongroom's own metrics (the library's default registry also holds process and GC collectors,
#: which multi-process mode cannot aggregate; keeping ours apart gives one output in both modes).
REGISTRY = CollectorRegistry(auto_describe=True)

#: Latency buckets (seconds) for request, audit and storage timings: 100 µs .. 10 s.
LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)

# -- requests (Vault: vault.core.handle_request, vault.route.<operation>.<mount>) -----------------

REQUESTS = Counter(
    "strongroom_core_requests",
    "Requests handled, by mount type, mount point, operation and HTTP status.",
    ("mount_type", "mount_point", "operation", "status"),
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "strongroom_core_handle_request_seconds",
    "Time spent handling a request in the core, by mount type and operation.",
    ("mount_type", "operation"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)

# -- authentication and authorisation ---------------------------------------------------------------

LOGINS = Counter(
    "strongroom_auth_logins",
    "Login attempts on auth methods, by method type and result (success or failure).",
    ("method", "result"),
    registry=REGISTRY,
)
POLICY_DENIALS = Counter(
    "strongroom_policy_denials",
    "Requests refused with 'permission denied', by mount type and operation.",
    ("mount_type", "operation"),
    registry=REGISTRY,
)

# -- barrier and keyring (Vault: vault.barrier.estimated_encryptions) --------------------------------

BARRIER_ENCRYPTIONS = Counter(
    "strongroom_barrier_encryptions",
    "Entries sealed by the barrier (AES-GCM encryptions), node-wide since the node started.",
    registry=REGISTRY,
)
KEYRING_ROTATIONS = Counter(
    "strongroom_barrier_automatic_rotations",
    "Keyring rotations this node started because the active term neared its encryption limit.",
    registry=REGISTRY,
)

# -- audit (Vault: vault.audit.log_request_failure, vault.audit.<device>.log_request) ----------------

AUDIT_WRITE_FAILURES = Counter(
    "strongroom_audit_write_failures",
    "Audit entries a device failed to record, by device path.",
    ("device",),
    registry=REGISTRY,
)
AUDIT_WRITE_SECONDS = Histogram(
    "strongroom_audit_write_seconds",
    "Time to record one audit entry on a device, by device path.",
    ("device",),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)

# -- alerts and quotas (Vault: vault.quota.rate_limit.violation) ------------------------------------

ALERTS_RAISED = Counter(
    "strongroom_alerts_raised",
    "Suspicious-access alerts raised, by kind (deduplicated bursts count once).",
    ("kind",),
    registry=REGISTRY,
)
QUOTA_REJECTIONS = Counter(
    "strongroom_quota_rejections",
    "Requests refused with 429 by a rate-limit quota, by quota name.",
    ("quota",),
    registry=REGISTRY,
)

# -- storage (Vault: vault.<backend>.get / put / delete / list) --------------------------------------

STORAGE_SECONDS = Histogram(
    "strongroom_storage_operation_seconds",
    "Latency of physical storage operations, by backend type and operation.",
    ("backend", "operation"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)

# -- workers (a scrape reports how many processes contributed) ---------------------------------------

WORKERS_UP = Gauge(
    "strongroom_server_workers",
    "Worker processes currently alive on this node.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
