"""Vault's CloudEvents JSON envelope for one event.

Only names, paths, versions and flags go in: an event is not secret (Vault's rule
too), and ``metadata`` comes from engines that are told never to put a value in it.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from strongroom.sdk.events import EventOrigin, MetadataValue, metadata_text

#: CloudEvents ``source``: this node.
SOURCE = f"strongroom://{socket.gethostname()}"


def envelope(
    origin: EventOrigin,
    event_type: str,
    path: str,
    metadata: Mapping[str, MetadataValue],
    *,
    now: float,
    random_bytes: Any,
) -> dict[str, Any]:
    """The event as subscribers receive it (``json=true``)."""
    event_id = str(uuid.UUID(bytes=random_bytes(16), version=4))
    meta = {key: metadata_text(value) for key, value in metadata.items()}
    meta.setdefault("path", path)
    return {
        "id": event_id,
        "source": SOURCE,
        "specversion": "1.0",
        "type": event_type,
        "data": {
            "event": {"id": event_id, "metadata": meta},
            "event_type": event_type,
            "namespace": origin.namespace,
            "plugin_info": {
                "mount_class": origin.mount_class,
                "mount_accessor": origin.mount_accessor,
                "mount_path": origin.mount_path,
                "plugin": origin.plugin,
            },
        },
        "datacontenttype": "application/cloudevents",
        "time": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
    }


def event_path(event: Mapping[str, Any]) -> str:
    """The path an event is about, for ACL checks and prefix filters: ``data_path`` when the
    engine names one (KV v2's ``secret/data/app`` for a ``secret/delete/app`` request), else ``path``."""
    meta = event["data"]["event"]["metadata"]
    return str(meta.get("data_path") or meta.get("path") or "")


def event_type_of(event: Mapping[str, Any]) -> str:
    return str(event["data"]["event_type"])
