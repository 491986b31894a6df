"""What a plug-in needs to publish an event: the sink the core installs in its ``SystemView``.

Engines call ``ctx.system.publish_event(event_type, path, metadata)`` after a change has
been committed. Publishing never blocks and never fails the request: the core queues
the event and writes it to the node's event log in the background (``docs/events.md``).

Events are not secret, so metadata must never carry a secret value: names, paths,
versions and flags only. The core renders every value as a string, as Vault does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: A metadata value: rendered as a string (``True`` -> ``"true"``).
MetadataValue = str | int | bool


@dataclass(frozen=True, slots=True)
class EventOrigin:
    """Where an event comes from: Vault's ``plugin_info`` block."""

    mount_path: str
    mount_accessor: str
    plugin: str
    mount_class: str = "secret"
    #: The namespace path of the mount ('' for the root namespace), e.g. ``team-a/``.
    namespace: str = ""


#: ``(origin, event_type, path, metadata)`` -> None. Must not block or raise.
EventSink = Callable[[EventOrigin, str, str, Mapping[str, MetadataValue]], None]


def metadata_text(value: MetadataValue) -> str:
    """One metadata value as Vault renders it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
