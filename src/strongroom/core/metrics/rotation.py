"""Rotation metrics: attempts by outcome, failures, and the time of the last success.

Labels are the rotation's kind (``kv``, ``database-static-role``, ...), the mount
point and the outcome: never the secret's path, which can carry user data (the
path is in the rotation history and in an alert instead).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from strongroom.core.telemetry import REGISTRY

ROTATIONS = Counter(
    "strongroom_rotation",
    "Rotation attempts (scheduled and on demand), by kind, mount point and outcome (success, failure).",
    ("kind", "mount_point", "outcome"),
    registry=REGISTRY,
)
ROTATION_FAILURES = Counter(
    "strongroom_rotation_failures",
    "Failed rotation attempts, by kind and mount point (each is retried with backoff).",
    ("kind", "mount_point"),
    registry=REGISTRY,
)
LAST_SUCCESS = Gauge(
    "strongroom_rotation_last_success_timestamp_seconds",
    "Epoch seconds of the last successful rotation, by kind and mount point.",
    ("kind", "mount_point"),
    multiprocess_mode="max",
    registry=REGISTRY,
)
