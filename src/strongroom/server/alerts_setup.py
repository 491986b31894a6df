"""Composition root for alerts and quotas: which process detects, how workers reach it.

* Single process: the detector runs beside the Core; a request observer hands
  it signals directly and ``sys/alerts`` reads it directly.
* Supervisor + workers: the detector runs in the supervisor. Each worker
  forwards signals in batches (``alert_signals``, fire-and-forget), asks for
  the list over ``alerts_list``, and counts quota hits in the table the
  supervisor created before spawning it (``--quota-fd``).

The alerts metric is written by a worker even when the supervisor raised the
alert: a scrape merges the workers' metric files, and only workers write
there. The supervisor asks one live worker (``alert_raised``) to count it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from strongroom.config.alerts import AlertsConfig
from strongroom.core import alerts, telemetry
from strongroom.core.alerts.detector import Detector, DetectorSettings
from strongroom.core.alerts.feed import LocalFeed, RemoteFeed
from strongroom.core.alerts.forwarding import LocalSignals, SignalForwarder
from strongroom.core.alerts.service import AlertService
from strongroom.core.alerts.sinks import LogSink, MetricSink, Sink
from strongroom.core.alerts.webhook import WebhookSettings, WebhookSink
from strongroom.core.alerts.windows import BurstRule
from strongroom.core.core import Core
from strongroom.core.quotas.counter import SharedCounter
from strongroom.sdk.egress import EgressPolicy
from strongroom.server.ipc import Channel

log = logging.getLogger("strongroom.alerts")

CountAlert = Callable[[str], Awaitable[None]]


class RemoteMetricSink:
    """Counts each alert in ``ALERTS_RAISED`` through a worker (see the module docstring)."""

    name = "metric"

    def __init__(self, count: CountAlert) -> None:
        self._count = count

    async def send(self, alert: dict[str, Any]) -> None:
        await self._count(str(alert["kind"]))


def detector_settings(config: AlertsConfig) -> DetectorSettings:
    return DetectorSettings(
        permission_denied=BurstRule(config.permission_denied_threshold, float(config.permission_denied_window)),
        login_failed=BurstRule(config.login_failed_threshold, float(config.login_failed_window)),
        quiet_period=float(config.quiet_period),
        history=config.history,
    )


def webhook_sink(config: AlertsConfig) -> WebhookSink | None:
    hook = config.webhook
    if hook is None:
        return None
    return WebhookSink(
        WebhookSettings(
            url=hook.url,
            secret=hook.secret.encode(),
            timeout=float(hook.timeout),
            max_attempts=hook.max_attempts,
            egress=EgressPolicy(
                allow_loopback=hook.allow_loopback,
                allow_link_local=hook.allow_link_local,
                allow_private=hook.allow_private,
            ),
        )
    )


def build_service(config: AlertsConfig, metric: Sink) -> AlertService:
    sinks: list[Sink] = [LogSink(), metric]
    hook = webhook_sink(config)
    if hook is not None:
        sinks.append(hook)
    service = AlertService(Detector(detector_settings(config)), sinks, notify_delay=float(config.notify_delay))
    alerts.install(service.submit)
    return service


def single_process_service(config: AlertsConfig, core: Core) -> AlertService:
    """The detector beside ``core``: observer, ``report()`` destination and ``sys/alerts`` source."""
    service = build_service(config, MetricSink(telemetry.ALERTS_RAISED))
    core.observers.append(LocalSignals(service))
    core.alert_feed = LocalFeed(service)
    return service


def wire_worker(core: Core, channel: Channel, quota_fd: int | None) -> SignalForwarder:
    """A worker's side: forward signals, read alerts remotely, count quotas in the node's table."""

    async def send(batch: list[dict[str, Any]]) -> None:
        await channel.notify("alert_signals", {"signals": batch})

    async def ask(args: dict[str, Any]) -> Any:
        return await channel.call("alerts_list", args, limit_seconds=10)

    forwarder = SignalForwarder(send)
    core.observers.append(forwarder)
    core.alert_feed = RemoteFeed(ask)
    alerts.install(forwarder.push)
    if quota_fd is not None:
        core.quotas.use_counter(SharedCounter(quota_fd))
    return forwarder


def count_alert_here(args: dict[str, Any]) -> bool:
    """A worker's handler for the supervisor's ``alert_raised`` call."""
    telemetry.ALERTS_RAISED.labels(kind=str(args.get("kind", ""))).inc()
    return True


#: Calls a worker makes to the supervisor for alerts.
SUPERVISOR_OPS = frozenset({"alert_signals", "alerts_list"})


def supervisor_call(service: AlertService, op: str, args: dict[str, Any]) -> Any:
    """The supervisor's side of ``alert_signals`` (a notification) and ``alerts_list``."""
    if op == "alert_signals":
        return service.submit_json(args.get("signals"))
    kind = args.get("kind", "")
    limit = args.get("limit", 100)
    return service.recent(kind=kind if isinstance(kind, str) else "", limit=limit if isinstance(limit, int) else 100)


async def count_in_a_worker(channels: list[Channel | None], kind: str) -> None:
    """Have the first worker that answers count one alert of ``kind``; raise if none could."""
    for channel in channels:
        if channel is None:
            continue
        try:
            await channel.call("alert_raised", {"kind": kind}, limit_seconds=10)
        except Exception as exc:
            log.info("worker could not count an alert (%s); trying another", type(exc).__name__)
            continue
        return
    raise RuntimeError("no worker could count the alert in the metrics")
