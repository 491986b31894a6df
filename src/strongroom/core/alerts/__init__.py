"""Alerts on suspicious access: signals -> detector (one per node) -> deduplicated alerts -> sinks.

Other parts of the server raise signals with :func:`report` (see ``api``);
requests raise theirs through the :class:`~strongroom.core.hooks.RequestRecord`
the core hands to observers. ``docs/alerts.md`` describes the rules, the
sinks and the configuration.
"""

from strongroom.core.alerts.api import install, report

__all__ = ["install", "report"]
